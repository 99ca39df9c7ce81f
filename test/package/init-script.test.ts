// The README's first command, `npm run init`, in a copy of this repository under a path with
// a space: it builds the CLI itself (no dist/ in the copy) and runs esp-certs init on the
// repository's own PlatformIO project, which keeps its hook line. The copy shares this
// repository's node_modules (installed, so the set-up must not reinstall them).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, statSync, symlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, TEST_PASSPHRASE } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";

const COPIED = ["package.json", "package-lock.json", "tsconfig.json", "platformio.ini", "scripts", "src", "templates", "firmware"];

/** This PATH without any folder holding an installed esp-certs (a user's, before Install). */
function pathWithoutEspCerts(): string {
  const dirs = (process.env.PATH ?? "").split(path.delimiter);
  return dirs.filter((d) => !["esp-certs", "esp-certs.cmd"].some((n) => existsSync(path.join(d, n)))).join(path.delimiter);
}

describe("npm run init", () => {
  it("builds what it needs, then runs init on this repository's PlatformIO project", { timeout: 600_000 }, () => {
    // npm ci in the copy would empty the shared node_modules: the set-up must see them current.
    const installed = statSync(path.join(repoRoot, "node_modules", ".package-lock.json")).mtimeMs;
    expect(installed, "node_modules is older than package-lock.json: run npm ci").toBeGreaterThanOrEqual(statSync(path.join(repoRoot, "package-lock.json")).mtimeMs);

    const copy = path.join(tmpDir("esp-certs-clone-"), "esp certs");
    for (const f of COPIED) {
      cpSync(path.join(repoRoot, f), path.join(copy, f), {
        recursive: true,
        preserveTimestamps: true,
        filter: (src) => !/(^|[\\/])(build|esp_certs\.h|wifi_secrets\.h)$/.test(path.relative(repoRoot, src)),
      });
    }
    symlinkSync(path.join(repoRoot, "node_modules"), path.join(copy, "node_modules"), "junction");
    expect(existsSync(path.join(copy, "dist"))).toBe(false);

    const viaNpm = process.env.npm_execpath;
    const [command, args] = viaNpm && /\.c?js$/.test(viaNpm) ? [process.execPath, [viaNpm, "run", "init"]] : ["npm", ["run", "init"]];
    const r = spawnSync(command, args, {
      cwd: copy,
      encoding: "utf8",
      env: { ...process.env, PATH: pathWithoutEspCerts(), NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE },
      shell: process.platform === "win32" && command === "npm",
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/npm ci|added \d+ packages/);
    expect(r.stdout).toMatch(/created +CA/);
    expect(r.stdout).toMatch(/wrote +header +firmware\/include\/esp_certs\.h \(client dev01\)/);
    const ini = readFileSync(path.join(copy, "platformio.ini"), "utf8");
    expect(ini).toMatch(/^\[esp_certs\]\nmqtt_host = \S+\.local$/m);
    // The repository's own hook stays the only one: init adds no copy of it.
    expect(ini.match(/esp_certs_hook\.py/g)).toEqual(["esp_certs_hook.py"]);
    expect(existsSync(path.join(copy, "esp_certs_hook.py"))).toBe(false);
    expect(existsSync(path.join(copy, "broker", "mosquitto.conf"))).toBe(true);
    // esp-certs is not on PATH before Install: what it says next must work when pasted.
    expect(r.stdout).not.toMatch(/(^|\s)esp-certs (flash|nodered|init)/m);
    expect(r.stdout).toMatch(/Next: .*node dist[\\/]esp-certs\.cjs nodered/);
    expect(r.stdout).toMatch(/For another broker name: npm run init -- --host <name>/);
  });
});
