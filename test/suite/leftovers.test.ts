// The suite's global set-up fails a run whose tests leave anything in the temp folder (one
// run used to leave ~280 folders with CA keys in /tmp), and removes what they left.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";

describe("the suite's temp folder", () => {
  it("fails the run, naming what a test left behind, and removes it", () => {
    // Other test files share this temp folder: look only at the nested run's own folders.
    const suiteFolders = () => readdirSync(tmpdir()).filter((e) => e.startsWith("esp-certs-suite-"));
    const before = suiteFolders();
    const vitest = path.join(repoRoot, "node_modules", "vitest", "vitest.mjs");
    const r = spawnSync(process.execPath, [vitest, "run", "--config", "test/suite/fixtures/vitest.config.ts"], {
      cwd: repoRoot,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", CI: "" },
    });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/1 passed/);
    expect(r.stderr).toMatch(/FAILED: the tests left 1 entry in the temp folder .*: forgotten-ca\.key\.pem/);
    expect(suiteFolders()).toEqual(before);
  });
});
