// Every rename that commits a store change is followed by an fsync of the folder it renamed
// into (docs/configuration.md: files are "flushed to disk"): without it a power cut after the
// rename can bring the old file back. Read from the system calls of real runs, through strace.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, TEST_PASSPHRASE } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";

const hasStrace = requireTool("strace", "strace");

/** The renames of a run, each with the folder of the first fsync after it (strace -y names an fd's file). */
function renamesAndSyncs(dir: string, args: string[]): { target: string; syncedDir?: string }[] {
  const log = path.join(dir, "strace.log");
  const env = { ...process.env, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE };
  const r = spawnSync("strace", ["-qq", "-y", "-e", "trace=rename,fsync", "-o", log, process.execPath, cliPath, ...args], { cwd: dir, env, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  const lines = readFileSync(log, "utf8").split("\n");
  return lines.flatMap((line, i) => {
    const m = /^rename\("[^"]*", "([^"]*)"\) = 0/.exec(line);
    if (m === null) return [];
    const sync = lines.slice(i + 1).map((l) => /^fsync\(\d+<([^>]*)>\) = 0/.exec(l)).find((s) => s !== null);
    return [{ target: m[1], syncedDir: sync?.[1] }];
  });
}

describe.skipIf(!hasStrace)("a committed rename is flushed with its folder", () => {
  it("generate (every file of a new store) and revoke (the CRL, and the moves into revoked/)", () => {
    const dir = project({ extra: "clients = dev01, dev02\n" });
    for (const args of [["generate"], ["revoke", "dev02"]]) {
      const renames = renamesAndSyncs(dir, args);
      expect(renames.length).toBeGreaterThan(args[0] === "generate" ? 10 : 4);
      for (const r of renames) expect({ target: r.target, syncedDir: r.syncedDir }).toEqual({ target: r.target, syncedDir: path.dirname(r.target) });
    }
  });
});
