// The hook script's fast path: after a successful run esp-certs leaves a stamp, and while
// nothing it read has changed firmware/esp_certs_hook.py does not start Node.js at all. Each
// test counts the script's node starts through a logging `node` first on PATH, and checks
// that the script goes back to esp-certs when a certificate is due, the configuration
// changes, or a file is replaced.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { renewalDue, renewalStart } from "../../src/pki/renewal-window.js";
import { repoRoot, TEST_PASSPHRASE } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";
import { INI } from "../render/helpers.js";

const hasPython = requireTool("python3", "python3");
const hookScript = path.join(repoRoot, "firmware", "esp_certs_hook.py");
const runner = path.join(repoRoot, "test", "platformio", "fixtures", "run_hook.py");
const DAY = 86_400_000;


describe.skipIf(!hasPython)("the hook script skips Node.js while nothing changed", () => {
  let python: string;
  beforeAll(() => {
    python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
  });

  /** A project, and a build that reports how many times the script started node. */
  function setup(ini = INI()) {
    const dir = project({ ini, prefix: "esp-certs-fast-" });
    const bin = tmpDir("esp-certs-fast-bin-");
    const log = path.join(bin, "starts");
    writeFileSync(log, "");
    writeFileSync(path.join(bin, "node"), `#!/bin/sh\necho start >> '${log}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    const stamp = path.join(dir, ".pio", "build", "d1_mini", "esp-certs-hook.json");
    const build = (env: NodeJS.ProcessEnv = {}) => {
      const before = readFileSync(log, "utf8").length;
      const r = spawnSync(python, [runner, hookScript, dir, "d1_mini"], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: `${bin}:/usr/bin:/bin`, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE, ...env },
      });
      expect(r.status, r.stderr).toBe(0);
      return { startedNode: readFileSync(log, "utf8").length > before, stdout: r.stdout };
    };
    return { dir, build, stamp, file: (f: string) => path.join(dir, f) };
  }

  it("starts node on the first build, not on the next, and again once the stamp is gone", () => {
    const p = setup();
    expect(build1(p)).toBe(true);
    expect(p.build()).toEqual({ startedNode: false, stdout: "" });
    rmSync(p.stamp);
    expect(p.build().startedNode).toBe(true);
    expect(p.build().startedNode).toBe(false);
  });

  it("runs esp-certs once a certificate's renewal time has come", () => {
    const p = setup();
    build1(p);
    const stamp = JSON.parse(readFileSync(p.stamp, "utf8"));
    const manifest = JSON.parse(readFileSync(p.file("certs/manifest.json"), "utf8"));
    // The earliest renewal: the broker's 30 days before its end, each client's renew_days (60) before its own.
    const ends = [Date.parse(manifest.server.notAfter) - 30 * DAY, ...Object.values(manifest.clients).map((c) => Date.parse((c as { notAfter: string }).notAfter) - 60 * DAY)];
    expect(stamp.renewBy).toBe(Math.min(...ends));
    writeFileSync(p.stamp, JSON.stringify({ ...stamp, renewBy: Date.now() - 1000 }));
    expect(p.build().startedNode).toBe(true);
    expect(JSON.parse(readFileSync(p.stamp, "utf8")).renewBy).toBe(stamp.renewBy);
  });

  it("runs esp-certs when platformio.ini changes, or a ${sysenv.X} it reads", () => {
    const p = setup(INI().replace("mqtt_host = win10.local", "mqtt_host = ${sysenv.BROKER_HOST}"));
    expect(build1(p, { BROKER_HOST: "pc1.local" })).toBe(true);
    expect(p.build({ BROKER_HOST: "pc1.local" }).startedNode).toBe(false);
    const moved = p.build({ BROKER_HOST: "pc2.local" });
    expect(moved.startedNode).toBe(true);
    expect(readFileSync(p.file("include/esp_certs.h"), "utf8")).toContain('#define ESP_CERTS_MQTT_HOST "pc2.local"');
    writeFileSync(p.file("platformio.ini"), INI("mqtt_port = 8884\n"));
    expect(p.build().startedNode).toBe(true);
    expect(readFileSync(p.file("include/esp_certs.h"), "utf8")).toContain("#define ESP_CERTS_MQTT_PORT 8884");
    expect(p.build().startedNode).toBe(false);
  });

  it("runs esp-certs when a file in the store is replaced, or the header is damaged", () => {
    const p = setup();
    build1(p);
    const other = setup();
    build1(other);
    copyFileSync(other.file("certs/clients/dev01.key.pem"), p.file("certs/clients/dev01.key.pem"));
    const repaired = p.build();
    expect(repaired.startedNode).toBe(true);
    expect(repaired.stdout).toMatch(/dev01\.key\.pem is not the file the manifest recorded: generating/);
    expect(p.build().startedNode).toBe(false);

    const header = p.file("include/esp_certs.h");
    const good = readFileSync(header, "utf8");
    // An unfinished --new-ca leaves its folder in the store: esp-certs finishes it.
    mkdirSync(p.file("certs/.new-ca"));
    expect(p.build().startedNode).toBe(true);
    rmSync(p.file("certs/.new-ca"), { recursive: true, force: true });
    p.build();

    // The header holds the client's key: made readable by others, esp-certs makes it owner-only again.
    chmodSync(header, 0o644);
    expect(p.build().startedNode).toBe(true);
    expect(statSync(header).mode & 0o777).toBe(0o600);
    expect(p.build().startedNode).toBe(false);

    // Whether the header is damaged is esp-certs' call (its digest line); the script must ask it.
    writeFileSync(header, good.replace(/0x[0-9a-f]{2}/, "0x00"));
    expect(p.build().startedNode).toBe(true);
  });

  it("runs esp-certs for another environment's client", () => {
    const p = setup();
    build1(p);
    const r = spawnSync(python, [runner, hookScript, p.dir, "d1_mini", "dev02"], { encoding: "utf8", env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, NO_COLOR: "1" } });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(p.file("include/esp_certs.h"), "utf8")).toContain('#define ESP_CERTS_CLIENT_ID "dev02"');
    expect(JSON.parse(readFileSync(p.stamp, "utf8")).client).toBe("dev02");
  });

  /** The first build, which makes the store; returns whether it started node (it must). */
  function build1(p: ReturnType<typeof setup>, env: NodeJS.ProcessEnv = {}): boolean {
    return p.build(env).startedNode;
  }
});

describe("renewalStart: the first instant renewalDue holds", () => {
  it.each([
    [825, 3650],
    [10, 3650],
    [1, 3650],
    [825, 800],
  ])("cert_days %i, CA ending %i days after the certificate's start", (certDays, caDays) => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    const notAfter = start + certDays * DAY;
    const caNotAfter = start + caDays * DAY;
    const at = renewalStart(notAfter, certDays, caNotAfter);
    if (at === undefined) {
      // A new certificate would be cut to the CA's end: never renewed, so no deadline.
      for (let t = start; t < notAfter; t += DAY / 4) expect(renewalDue(new Date(notAfter), new Date(t), certDays, new Date(caNotAfter))).toBe(false);
      return;
    }
    expect(renewalDue(new Date(notAfter), new Date(at), certDays, new Date(caNotAfter))).toBe(false);
    expect(renewalDue(new Date(notAfter), new Date(at + 1), certDays, new Date(caNotAfter))).toBe(true);
  });
});
