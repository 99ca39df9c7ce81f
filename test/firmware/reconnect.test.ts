import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { freePort, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireHeader, requireTool } from "../helpers/tools.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, headerDefine, type Live, type Project, rehearsalTools, startFirmware } from "./rehearsal.js";

// Reconnecting (docs/reconnect.md): the rehearsal keeps its TLS session and a real mosquitto
// resumes it; a broker that does not resume gets full handshakes and no failure.
const ready =
  rehearsalTools() &&
  requireTool("mosquitto_pub", "mosquitto-clients") &&
  requireTool("gcc", "gcc") &&
  requireHeader("openssl/ssl.h", "libssl-dev");

const TLS_OK = /^\[esp-certs\] tls ok .* resumed=([01])$/;
const MQTT_OK = /^\[esp-certs\] mqtt ok client=dev01$/;

describe.skipIf(!ready)("reconnecting to mosquitto", () => {
  let project: Project;
  let firmware: string;
  let port: number;
  let noResumption: string;
  const brokers: Broker[] = [];
  const runs: Live[] = [];

  async function broker(env: NodeJS.ProcessEnv = {}): Promise<Broker> {
    const b = await startMosquitto({
      tls: { cafile: project.caCert, certfile: project.serverCert, keyfile: project.serverKey },
      port,
      env,
    });
    brokers.push(b);
    return b;
  }

  function firmwareRun(env: Record<string, string> = {}): Live {
    const run = startFirmware(firmware, env);
    runs.push(run);
    return run;
  }

  /**
   * Another client with the device's id: mosquitto closes the device's connection for it. Its
   * own exit status is not checked: the device, reconnecting at once, may push it off in turn.
   */
  function kick(): void {
    const clients = path.join(project.dir, "certs", "clients");
    spawnSync(
      "mosquitto_pub",
      ["-h", "127.0.0.1", "-p", String(port), "--cafile", project.caCert, "--cert", path.join(clients, "dev01.crt.pem"),
        "--key", path.join(clients, "dev01.key.pem"), "--insecure", "-i", "dev01", "-t", "kick", "-m", "1"],
      { encoding: "utf8" },
    );
  }

  /** Waits for the next TLS connection after line `after`, and its MQTT session; its resumed= and where it ended. */
  async function nextConnection(run: Live, after: number): Promise<{ resumed: string; end: number }> {
    const tls = await run.waitFor(TLS_OK, after);
    await run.waitFor(MQTT_OK, run.lines().indexOf(tls, after));
    return { resumed: TLS_OK.exec(tls)![1], end: run.lines().length };
  }

  beforeAll(async () => {
    project = generateProject("win10.local");
    // One port for every broker here: the firmware is built for it, and a restart reuses it.
    port = await freePort();
    firmware = buildFirmware(project, port);
    noResumption = path.join(project.dir, "no_resumption.so");
    const cc = spawnSync("gcc", ["-shared", "-fPIC", "-Wall", "-Werror", "-o", noResumption,
      path.join(repoRoot, "test", "firmware", "fixtures", "no_resumption.c"), "-ldl"], { encoding: "utf8" });
    if (cc.status !== 0) throw new Error(cc.stderr);
  }, BUILD_TIMEOUT_MS);

  // Every test starts its brokers on the same port: none may outlive its test.
  afterEach(async () => {
    await Promise.all(runs.splice(0).map((r) => r.stop()));
    await Promise.all(brokers.splice(0).map((b) => b.stop()));
  });


  test("a dropped connection resumes (resumed=1); after a broker restart a full handshake (resumed=0) succeeds", async () => {
    let b = await broker();
    const run = firmwareRun();

    const first = await nextConnection(run, 0);
    expect(first.resumed).toBe("0");
    // The record-size probe, a TLS hello it abandons, is logged by mosquitto as a protocol error.
    const probes = (b.log().match(/Protocol error/g) ?? []).length;

    kick();
    await run.waitFor(/ mqtt fail state=-3$/, first.end);
    const again = await nextConnection(run, first.end);
    expect(again.resumed, run.lines().join("\n")).toBe("1");
    // Asked once: the reconnect did not ask again.
    expect(b.log().match(/Protocol error/g) ?? []).toHaveLength(probes);

    await b.stop();
    b = await broker();
    const restarted = await nextConnection(run, again.end);
    expect(restarted.resumed).toBe("0");
    expect(b.log()).toMatch(/New client connected from 127\.0\.0\.1:\d+ as dev01/);
  }, 180_000);

  // "off": no session id is issued; "none": ids are issued but never found again.
  test.each(["off", "none"])("a broker that never resumes (cache %s) gets a full handshake each time, and no failure", async (mode) => {
    await broker({ LD_PRELOAD: noResumption, NO_RESUMPTION: mode });
    const run = firmwareRun();

    let at = 0;
    for (let i = 0; i < 3; i++) {
      const c = await nextConnection(run, at);
      expect(c.resumed).toBe("0");
      kick();
      await run.waitFor(/ mqtt fail state=-3$/, c.end);
      at = c.end;
    }
    await run.stop();
    expect(run.lines().filter((l) => l.includes(" tls fail "))).toEqual([]);
  }, 180_000);

  test("without NTP, the clock keeps counting past millis()'s 49.7-day wrap: 1000 days on, the certificates have expired", async () => {
    const floor = headerDefine(project.header, "ESP_CERTS_GENERATED_AT");
    await broker({ LD_PRELOAD: noResumption, NO_RESUMPTION: "off" }); // every handshake checks the dates
    // millis() wraps 2 s into the 5 s wait for NTP; 20 s into the run, 1000 days of uptime pass:
    // the first connection, after the NTP wait, has 15 s for itself on a loaded machine.
    const run = firmwareRun({ ESP_CERTS_CLOCK: "0", ESP_CERTS_MILLIS: String(2 ** 32 - 2000), ESP_CERTS_LEAP: "20:86400000" });
    // The run's clock starts before it prints its boot line, so 20 s after the line is seen
    // here the leap is behind it, however late the process started.
    await run.waitFor(/ boot /);
    const booted = Date.now();

    await run.waitFor(MQTT_OK);
    expect(run.lines()).toContain(`[esp-certs] time ok epoch=${floor} source=floor`);
    await new Promise((r) => setTimeout(r, Math.max(0, 20_100 - (Date.now() - booted))));
    const at = run.lines().length;
    kick();
    // 1000 days is 20 wraps and 5.8 days: a clock on millis() would still be within the dates.
    expect(await run.waitFor(/ tls /, at)).toBe('[esp-certs] tls fail code=54 text="Certificate is expired or not yet valid."');
  }, 180_000);
});
