// The package as the registry would serve it: `npm pack`, then `npm install -g` of the
// tarball into a temporary prefix (never the machine's own), then the installed esp-certs
// in a fresh PlatformIO project, and the hook script init copied there, run as SCons runs it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { nodeOnlyPath, repoRoot, TEST_PASSPHRASE } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";

const hasPython = requireTool("python3", "python3");
const runner = path.join(repoRoot, "test", "platformio", "fixtures", "run_hook.py");

/** npm itself: under `npm test` the script npm runs from, else the npm on PATH. */
function npm(args: string[], cwd: string) {
  const viaNpm = process.env.npm_execpath;
  const [command, argv] = viaNpm && /\.c?js$/.test(viaNpm) ? [process.execPath, [viaNpm, ...args]] : ["npm", args];
  const r = spawnSync(command, argv, { cwd, encoding: "utf8", shell: process.platform === "win32" && command === "npm" });
  expect(r.status, `npm ${args.join(" ")}:\n${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

describe.skipIf(!hasPython)("the packed package", () => {
  it("installs from its tarball into a working esp-certs, whose init and hook run in any project", { timeout: 600_000 }, () => {
    const work = tmpDir("esp-certs-pack-");
    // The global set-up has built dist/; prepack's set-up could reinstall node_modules mid-run.
    const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", work], repoRoot));
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining(["dist/esp-certs.cjs", "firmware/esp_certs_hook.py", "templates/esp_certs.h.ejs", "templates/mosquitto.conf.ejs"]));
    // Nothing of a store, the tests or the sources travels.
    expect(files.filter((f) => /^(certs|broker|test|src|node_modules)\//.test(f) || /key\.pem$/.test(f))).toEqual([]);

    const prefix = path.join(work, "global prefix");
    npm(["install", "--global", "--prefix", prefix, "--no-audit", "--no-fund", "--prefer-offline", path.join(work, packed[0].filename)], work);
    const bin = process.platform === "win32" ? prefix : path.join(prefix, "bin");
    const env = { PATH: `${bin}${path.delimiter}${nodeOnlyPath()}`, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE };

    const project = path.join(work, "my project");
    mkdirSync(project);
    writeFileSync(path.join(project, "platformio.ini"), "[env:d1_mini]\nplatform = espressif8266\nboard = d1_mini\nframework = arduino\n");
    const init = spawnSync(path.join(bin, "esp-certs"), ["init", "--yes", "--host", "win10.local"], { cwd: project, encoding: "utf8", env, shell: process.platform === "win32" });
    expect(init.status, init.stderr).toBe(0);
    expect(readFileSync(path.join(project, "platformio.ini"), "utf8")).toMatch(/extra_scripts = pre:esp_certs_hook\.py/);

    // The hook finds the installed CLI (nothing in the project, nothing beside the script).
    const header = path.join(project, "include", "esp_certs.h");
    rmSync(header);
    const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
    const hook = spawnSync(python, [runner, path.join(project, "esp_certs_hook.py"), project, "d1_mini"], { cwd: project, encoding: "utf8", env });
    expect(hook.status, hook.stderr).toBe(0);
    expect(hook.stdout).toMatch(/esp-certs: wrote include\/esp_certs\.h \(client dev01, broker win10\.local:8883\)/);
    expect(existsSync(header)).toBe(true);
  });
});
