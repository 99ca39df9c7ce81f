import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";

// Regression: run outside a project, generate, broker and nodered each made a whole second
// PKI there, and doctor reported "ok config platformio.ini" for a file that did not exist.
// Only init creates a project (docs/commands.md).

function emptyFolder(): string {
  const dir = tmpProject();
  return dir;
}

const COMMANDS = [
  ["generate"],
  ["header"],
  ["status"],
  ["broker"],
  ["nodered"],
  ["doctor"],
  ["doctor", "--json"],
  ["hook", "--env", "d1_mini"],
  ["monitor", "--port", "/dev/null"],
  ["flash", "--port", "/dev/null", "--no-monitor"],
];

describe("a folder that is not a PlatformIO project", () => {
  it.each(COMMANDS)("%s refuses with exit 2, says where to run, and writes nothing", (...args) => {
    const dir = emptyFolder();
    const r = runCli(args, { cwd: dir });
    expect(r.status, r.stdout + r.stderr).toBe(2);
    const said = args.includes("--json") ? JSON.parse(r.stdout).error : r.stderr;
    expect(JSON.stringify(said)).toMatch(/Cannot find platformio\.ini in .*not a PlatformIO project/);
    expect(JSON.stringify(said)).toMatch(/--project-dir.*esp-certs init/);
    expect(r.stdout).not.toMatch(/^ok\s+config/m);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("--project-dir naming such a folder is refused the same way", () => {
    const elsewhere = emptyFolder();
    const r = runCli(["--project-dir", emptyFolder(), "generate"], { cwd: elsewhere });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Cannot find platformio\.ini/);
  });
});
