// The library's connection loop in the rehearsal (its main example, real BearSSL, real
// mosquitto): a WiFi drop after boot is reported and recovered from; a broker that is down
// costs one TCP connection per retry (the record-size probe runs once per program); retries
// wait a random time between half and all of 2, 4, 8 s; the example gets its messages; a
// 249-character host still leaves the boot line whole.
import { spawnSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, type Project, rehearsalTools, runFirmware, startFirmware } from "../firmware/rehearsal.js";

const ready = rehearsalTools() && requireTool("mosquitto_pub", "mosquitto-clients");

/** A TCP server that accepts and at once hangs up, noting when each connection came. */
async function hangUpServer(): Promise<{ port: number; times: number[]; close: () => void }> {
  const started = Date.now();
  const times: number[] = [];
  const server = net.createServer((socket) => {
    times.push((Date.now() - started) / 1000);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, times, close: () => server.close() };
}

describe.skipIf(!ready)("the library's connection loop", () => {
  let project: Project;
  let broker: Broker;

  beforeAll(async () => {
    project = generateProject("win10.local");
    broker = await startMosquitto({ tls: { cafile: project.caCert, certfile: project.serverCert, keyfile: project.serverKey } });
  });

  afterAll(async () => {
    await broker.stop();
  });

  it("reports a WiFi drop after boot at once, and connects again when it is back", async () => {
    // The drop comes 10 s into the run, time enough for the first connection on a loaded
    // machine; the run ends once the device is connected again.
    const mqttOk = (l: string) => l.startsWith("[esp-certs] mqtt ok");
    const backAfterDrop = (lines: string[]) => {
      const drop = lines.indexOf("[esp-certs] wifi fail status=7");
      return drop >= 0 && lines.slice(drop).some(mqttOk);
    };
    const run = await runFirmware(buildFirmware(project, broker.port), { ESP_CERTS_WIFI_DROP: "10:2" }, backAfterDrop);
    const ours = run.lines.filter((l) => l.startsWith("[esp-certs] "));
    const drop = ours.findIndex((l) => l === "[esp-certs] wifi fail status=7");
    expect(drop, ours.join("\n")).toBeGreaterThan(ours.findIndex(mqttOk));
    const after = ours.slice(drop + 1);
    expect(after[0]).toMatch(/^\[esp-certs\] wifi ok ip=/);
    // The clock was set at boot: no second time line. (No resumed=1 here: the drop closes the
    // socket under the broker without a close_notify, and OpenSSL then drops the session.)
    expect(after.find((l) => l.startsWith("[esp-certs] tls ok"))).toMatch(/^\[esp-certs\] tls ok host=win10\.local /);
    expect(after.find((l) => l.startsWith("[esp-certs] mqtt ok"))).toBe("[esp-certs] mqtt ok client=dev01");
    expect(after.some((l) => l.startsWith("[esp-certs] time ok"))).toBe(false);
  }, BUILD_TIMEOUT_MS);

  it("probes the broker once, then opens one connection per retry, after jittered, growing waits", async () => {
    const server = await hangUpServer();
    try {
      // Four attempts take up to 14 s of waits and whatever a loaded machine adds: the run ends at the fourth failure, not at a fixed time.
      const failed = (l: string) => l.startsWith("[esp-certs] tls fail code=0 ");
      const run = await runFirmware(buildFirmware(project, server.port), {}, (lines) => lines.filter(failed).length >= 4);
      const fails = run.lines.filter(failed);
      expect(fails.length, run.lines.join("\n")).toBeGreaterThanOrEqual(4);
      // The first attempt: a TCP check, the probe, the TLS connection; each retry: the TLS connection only.
      expect(server.times.length).toBe(fails.length + 2);
      const attempts = [server.times[2], ...server.times.slice(3)];
      const waits = attempts.slice(1, 4).map((t, i) => t - attempts[i]);
      const bounds = [2, 4, 8];
      waits.forEach((w, i) => {
        expect(w, `wait ${i + 1}: ${waits.join(", ")}`).toBeGreaterThanOrEqual(bounds[i] / 2 - 0.05);
        expect(w, `wait ${i + 1}: ${waits.join(", ")}`).toBeLessThanOrEqual(bounds[i] + 0.75);
      });
      // Random, not the bound every time (a fleet must not come back in lockstep).
      expect(waits.some((w, i) => w < bounds[i] * 0.95), waits.join(", ")).toBe(true);
    } finally {
      server.close();
    }
  }, BUILD_TIMEOUT_MS);

  it("the example subscribes after connecting and prints the messages that come", async () => {
    const firmware = buildFirmware(project, broker.port);
    // The subscription follows the connect: publish once the broker has acknowledged it (the
    // earlier tests' connections subscribed too, so a new acknowledgement).
    const subacks = () => (broker.log().match(/Sending SUBACK to dev01/g) ?? []).length;
    const before = subacks();
    const live = startFirmware(firmware);
    try {
      await live.waitFor(/^\[esp-certs\] mqtt ok client=dev01$/);
      for (const end = Date.now() + 30_000; subacks() === before; await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() > end) throw new Error(`mosquitto logged no SUBACK to dev01 within 30 s:\n${broker.log()}`);
      }
      const client = path.join(project.dir, "certs", "clients");
      // dev02, as Node-RED would; --insecure: the broker's certificate names win10.local, not 127.0.0.1.
      const pub = spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(broker.port), "--cafile", project.caCert, "--cert", path.join(client, "dev02.crt.pem"), "--key", path.join(client, "dev02.key.pem"), "--insecure", "-t", "dev01/command", "-m", "blink"], { encoding: "utf8" });
      expect(pub.status, pub.stderr).toBe(0);
      expect(await live.waitFor(/^dev01\/command: blink$/)).toBe("dev01/command: blink");
    } finally {
      await live.stop();
    }
  }, BUILD_TIMEOUT_MS);

  it("keeps the boot line whole for a 249-character broker name", async () => {
    const host = `${["a", "b", "c", "d"].map((c) => c.repeat(60)).join(".")}.local`;
    const p = generateProject(host);
    const run = await runFirmware(buildFirmware(p, broker.port), { ESP_CERTS_HOSTS: `${host}=127.0.0.1` }, (lines) => lines.some((l) => l.startsWith("[esp-certs] boot ")));
    const boot = run.lines.find((l) => l.startsWith("[esp-certs] boot "));
    expect(boot).toMatch(new RegExp(`^\\[esp-certs\\] boot client=dev01 host=${host.replace(/\./g, "\\.")} port=\\d+ ca=[0-9a-f]{16} cred=header$`));
  }, BUILD_TIMEOUT_MS);
});
