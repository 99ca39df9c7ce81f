// Issue 11, items 2, 5, 6 and 12: esp-certs never replaces a file it did not write, leaves no
// temp file and deletes none of anyone else's, keeps private files private whatever the umask,
// and rewrites a header damaged after it was written.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, runCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { tmpDir } from "../helpers/tmp.js";

const EC = "key_type = ec-p256\n";
const ENV = "[env:d1_mini]\nplatform = espressif8266\nboard = d1_mini\nframework = arduino\n";
const ecProject = (extra = "") => project({ extra: `${EC}${extra}`, after: ENV });
const ok = (dir: string, args: string[], env?: NodeJS.ProcessEnv) => {
  const r = runCli(args, { cwd: dir, env });
  expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
};
const refused = (dir: string, args: string[], words: string, env?: NodeJS.ProcessEnv) => {
  const r = runCli(args, { cwd: dir, env });
  expect(r.status, `${args.join(" ")}: ${r.stdout}${r.stderr}`).toBe(2);
  expect(r.stderr).toContain(words);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return r;
};
const snapshot = (dir: string) => {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const f = path.join(d, n);
      if (statSync(f).isDirectory()) walk(f);
      else out[path.relative(dir, f)] = readFileSync(f, "hex");
    }
  };
  walk(dir);
  return out;
};
const mode = (f: string) => statSync(f).mode & 0o777;
const HEADER = "include/esp_certs.h";

describe("output paths (item 2): a new file or one esp-certs wrote, never the store, the broker folder or platformio.ini", () => {
  it("refuses header = a store file, platformio.ini, a foreign file, a folder, and writes nothing", () => {
    const full = ecProject();
    ok(full, ["generate"]);
    ok(full, ["broker"]);
    const before = snapshot(full);
    const foreign = path.join(tmpDir(), "foreign.h");
    writeFileSync(foreign, "/* mine */\n");
    const cases: [string, string][] = [
      ["certs/ca.key.pem", "inside the certificate store"],
      ["certs/manifest.json", "inside the certificate store"],
      ["broker/mosquitto.conf", "inside the broker folder"],
      ["platformio.ini", "platformio.ini"],
      ["PlatformIO.INI", "platformio.ini"],
      [path.relative(full, foreign), "did not write"],
      [foreign, "did not write"],
      ["${sysenv.ESP_CERTS_TEST_HEADER}", "did not write"],
      ["include", "it is a folder"],
    ];
    for (const [header, why] of cases) {
      const ini = readFileSync(path.join(full, "platformio.ini"), "utf8");
      writeFileSync(path.join(full, "platformio.ini"), ini.replace(/^header = .*\n/m, "").replace("[esp_certs]\n", `[esp_certs]\nheader = ${header}\n`));
      const env = { ESP_CERTS_TEST_HEADER: foreign };
      for (const args of [["generate"], ["hook", "--env", "d1_mini"], ["header"]]) refused(full, args, why, env);
      writeFileSync(path.join(full, "platformio.ini"), ini);
    }
    refused(full, ["header", "--out", foreign], "did not write");
    refused(full, ["header", "--out", "certs/clients/dev01.key.pem"], "inside the certificate store");
    expect(readFileSync(foreign, "utf8")).toBe("/* mine */\n");
    expect(snapshot(full)).toEqual(before);
  });

  it("header = certs on an empty project fails before the store is written", () => {
    const dir = ecProject("header = certs\n");
    refused(dir, ["generate"], "inside the certificate store");
    expect(existsSync(path.join(dir, "certs"))).toBe(false);
  });

  it("rewrites a header it wrote, and a new file anywhere", () => {
    const dir = ecProject();
    ok(dir, ["generate"]);
    ok(dir, ["header", "--out", "other.h"]);
    ok(dir, ["header", "--out", "other.h", "--client", "dev02"]);
    expect(readFileSync(path.join(dir, "other.h"), "utf8")).toContain('"dev02"');
  });

  it("refuses broker --out inside the store or holding it, and a folder of foreign files", () => {
    const dir = ecProject();
    ok(dir, ["generate"]);
    const before = snapshot(dir);
    refused(dir, ["broker", "--out", "certs"], "is inside the certificate store");
    refused(dir, ["broker", "--out", "."], "holds the certificate store");
    mkdirSync(path.join(dir, "mine", "certs"), { recursive: true });
    writeFileSync(path.join(dir, "mine", "certs", "ca.crt.pem"), "my own CA\n");
    const withMine = snapshot(dir);
    refused(dir, ["broker", "--out", "mine"], "did not write");
    expect(snapshot(dir)).toEqual(withMine);
    rmSync(path.join(dir, "mine"), { recursive: true });
    expect(snapshot(dir)).toEqual(before);
  });

  it("refuses nodered --out platformio.ini, a foreign file, a store path; rewrites its own flow", () => {
    const dir = ecProject();
    ok(dir, ["generate"]);
    writeFileSync(path.join(dir, "flows.json"), '[{"id":"1","type":"tab","label":"mine"}]\n');
    const before = snapshot(dir);
    refused(dir, ["nodered", "--out", "platformio.ini"], "platformio.ini");
    refused(dir, ["nodered", "--out", "flows.json"], "did not write");
    refused(dir, ["nodered", "--out", "certs/flow.json"], "inside the certificate store");
    expect(snapshot(dir)).toEqual(before);
    ok(dir, ["nodered"]);
    ok(dir, ["nodered", "--client", "dev02", "--host", "localhost"]);
  });
});

describe("temp files (item 5)", () => {
  it("removes a dead run's temp files in every folder it writes, and never a foreign temp-looking file", () => {
    const dir = ecProject();
    ok(dir, ["generate"]);
    ok(dir, ["broker"]);
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const ours = [path.join(dir, "include", `.esp_certs.h.${dead}.0123abcd.esp-certs-tmp`), path.join(dir, "broker/certs", `.server.key.pem.${dead}.0123abcd.esp-certs-tmp`), path.join(dir, "certs/clients", `.dev01.key.pem.${dead}.0123abcd.esp-certs-tmp`)];
    const foreign = [path.join(dir, "include", `.notes.${dead}.0123abcd.tmp`), path.join(dir, "certs", `.x.${dead}.deadbeef.tmp`)];
    for (const f of [...ours, ...foreign]) writeFileSync(f, "secret");
    // Leftovers of a killed run: the files it was replacing were not replaced.
    rmSync(path.join(dir, HEADER));
    rmSync(path.join(dir, "broker/certs/server.key.pem"));
    ok(dir, ["generate"]);
    for (const f of ours) expect(existsSync(f), f).toBe(false);
    for (const f of foreign) expect(existsSync(f), f).toBe(true);
  });
});

describe("permissions (item 6)", () => {
  const underUmask000 = (dir: string, args: string[]) => {
    const r = spawnSync("sh", ["-c", 'umask 000 && exec "$0" "$@"', process.execPath, cliPath, ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE, NO_COLOR: "1" },
    });
    expect(r.status, r.stderr).toBe(0);
  };

  it.skipIf(process.platform === "win32")("makes private files 0600 in 0700 folders under umask 000, and takes back looser modes", () => {
    const dir = ecProject();
    underUmask000(dir, ["generate"]);
    underUmask000(dir, ["broker"]);
    const p = (f: string) => path.join(dir, f);
    for (const d of ["certs", "certs/clients", "broker/certs"]) expect(mode(p(d)).toString(8), d).toBe("700");
    // The header is 0600; the include folder it was made in holds the project's sources too.
    for (const d of ["broker", "broker/data", "broker/log", "include"]) expect(mode(p(d)).toString(8), d).toBe("755");
    for (const f of ["certs/ca.key.pem", "certs/server.key.pem", "certs/clients/dev01.key.pem", "certs/clients/dev01.key.der", HEADER, "broker/certs/server.key.pem"]) {
      expect(mode(p(f)).toString(8), f).toBe("600");
    }
    chmodSync(p(HEADER), 0o644);
    ok(dir, ["hook", "--env", "d1_mini"]);
    expect(mode(p(HEADER)).toString(8), "the hook takes the header back").toBe("600");
    chmodSync(p(HEADER), 0o644);
    chmodSync(p("certs"), 0o755);
    chmodSync(p("broker/certs"), 0o755);
    ok(dir, ["generate"]);
    expect(mode(p(HEADER)).toString(8)).toBe("600");
    expect(mode(p("certs")).toString(8)).toBe("700");
    expect(mode(p("broker/certs")).toString(8)).toBe("700");
  });
});

describe("loosened modes in revoked/ and backup/ are taken back", () => {
  it.skipIf(process.platform === "win32")("certs/revoked/ and its archived keys, certs/backup/*/ and its CA key: 0700 and 0600 again after generate", () => {
    const dir = ecProject();
    ok(dir, ["generate"]);
    ok(dir, ["revoke", "dev02"]);
    ok(dir, ["generate", "--new-ca"]);
    const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? [path.join(d, n), ...walk(path.join(d, n))] : [path.join(d, n)]));
    const privateParts = [path.join(dir, "certs", "revoked"), path.join(dir, "certs", "backup")].flatMap((d) => [d, ...walk(d)]).filter((f) => statSync(f).isDirectory() || /\.key\.(pem|der)$/.test(f));
    expect(privateParts.filter((f) => /ca\.key\.pem$/.test(f)).length, "a backed-up CA key").toBeGreaterThan(0);
    expect(privateParts.filter((f) => /revoked.*dev02.*\.key\.pem$/.test(f)).length, "an archived revoked key").toBeGreaterThan(0);
    for (const f of privateParts) chmodSync(f, statSync(f).isDirectory() ? 0o755 : 0o644);
    ok(dir, ["generate"]);
    for (const f of privateParts) expect(mode(f).toString(8), f).toBe(statSync(f).isDirectory() ? "700" : "600");
  });
});

describe("a damaged header (item 12)", () => {
  it("is rewritten by the hook and by generate when truncated or a byte of an array changed", () => {
    const dir = ecProject();
    ok(dir, ["generate"]);
    const file = path.join(dir, HEADER);
    const good = readFileSync(file);
    truncateSync(file, good.length - 200);
    expect(ok(dir, ["hook", "--env", "d1_mini"]).stdout).toContain("wrote");
    expect(readFileSync(file).equals(good)).toBe(true);

    const text = good.toString("utf8");
    const at = text.indexOf("0x", text.indexOf("esp_certs_client_key_der[]")) + 2;
    const flipped = Buffer.from(text);
    flipped[at] = flipped[at] === 0x30 ? 0x31 : 0x30;
    for (const args of [["generate"], ["hook", "--env", "d1_mini"], ["header"]]) {
      writeFileSync(file, flipped, { mode: 0o600 });
      ok(dir, args);
      expect(readFileSync(file).equals(good), args.join(" ")).toBe(true);
    }
    // An intact header is kept as it is: nothing printed by the hook.
    expect(ok(dir, ["hook", "--env", "d1_mini"]).stdout).toBe("");
  });
});
