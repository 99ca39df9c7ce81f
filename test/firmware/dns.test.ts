import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, type Project, rehearsalTools, reissuedFor, runFirmware, startFirmware } from "./rehearsal.js";

// How the firmware finds the broker (docs/windows.md): the name, else the last address that
// worked, else mqtt_address; the broker certificate is checked against the name whichever
// address is dialled. Rehearsed on the real BearSSL against a real mosquitto.
const ready = rehearsalTools();

const UNRESOLVED = { ESP_CERTS_HOSTS: "win10.local=" };
const connections = (b: Broker) => (b.log().match(/New connection from/g) ?? []).length;
// Each run ends once the lines it is about are there, not after a fixed time a loaded machine may need more than.
const TLS = /^\[esp-certs\] tls /;
const OUTCOME = /^\[esp-certs\] (tls fail|mqtt (ok|fail))/;
const DNS_FAIL = /^\[esp-certs\] dns fail host=win10\.local ms=\d+$/;

describe.skipIf(!ready)("finding the broker by name, and the fallbacks", () => {
  let plain: Project;
  let withAddress: Project;
  const brokers: Broker[] = [];
  const projects: Project[] = [];

  async function broker(p: Project, port?: number): Promise<Broker> {
    const b = await startMosquitto({ tls: { cafile: p.caCert, certfile: p.serverCert, keyfile: p.serverKey }, port });
    brokers.push(b);
    return b;
  }

  beforeAll(() => {
    plain = generateProject("win10.local");
    withAddress = generateProject("win10.local", "mqtt_address = 127.0.0.1\n");
    projects.push(plain, withAddress);
  });

  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
  });

  describe("without mqtt_address", () => {
    let b: Broker;
    let firmware: string;

    beforeAll(async () => {
      b = await broker(plain);
      firmware = buildFirmware(plain, b.port);
    }, BUILD_TIMEOUT_MS);

    test("says how the name resolved before TLS", async () => {
      const run = await runFirmware(firmware, {}, OUTCOME);
      const dns = run.lines.findIndex((l) => /^\[esp-certs\] dns ok host=win10\.local ip=127\.0\.0\.1 ms=\d+$/.test(l));

      expect(dns, run.lines.join("\n")).toBeGreaterThan(-1);
      expect(run.lines.findIndex((l) => l.startsWith("[esp-certs] tls ok host=win10.local"))).toBeGreaterThan(dns);
      expect(run.lines).toContain("[esp-certs] mqtt ok client=dev01");
    });

    test("a name that does not resolve gives dns fail and no TLS attempt at all", async () => {
      const before = connections(b);
      // Two lookups, the second after a retry's wait: had the first dialled anything, its line would come before.
      const run = await runFirmware(firmware, UNRESOLVED, (lines) => lines.filter((l) => DNS_FAIL.test(l)).length > 1);

      expect(run.lines.filter((l) => DNS_FAIL.test(l)).length, run.lines.join("\n")).toBeGreaterThan(1);
      expect(run.lines.filter((l) => /^\[esp-certs\] (dns fallback|tls )/.test(l))).toEqual([]);
      // Not even the record-size probe opened a connection.
      expect(connections(b)).toBe(before);
    });

    test("when the name stops resolving, the next reconnect dials the last address that worked, and says so", async () => {
      const hosts = path.join(plain.dir, "hosts");
      writeFileSync(hosts, "win10.local=127.0.0.1\n");
      const live = startFirmware(firmware, { ESP_CERTS_HOSTS_FILE: hosts });
      try {
        await live.waitFor(/ mqtt ok /);
        const first = live.lines().length;
        writeFileSync(hosts, "win10.local=\n");
        // The broker goes away and comes back where it was: the device must reconnect.
        await b.stop();
        const again = await broker(plain, b.port);

        await live.waitFor(DNS_FAIL, first);
        await live.waitFor(/^\[esp-certs\] dns fallback host=win10\.local ip=127\.0\.0\.1 from=last$/, first);
        const back = await live.waitFor(/ mqtt ok client=dev01/, first);
        expect(back).toBe("[esp-certs] mqtt ok client=dev01");
        expect(again.log()).toMatch(/New client connected from 127\.0\.0\.1:\d+ as dev01/);
      } finally {
        await live.stop();
      }
    });
  });

  describe("with mqtt_address", () => {
    // One build: each test runs its broker on this port.
    let port: number;
    let firmware: string;

    beforeAll(async () => {
      port = await freePort();
      firmware = buildFirmware(withAddress, port);
    }, BUILD_TIMEOUT_MS);

    test("dials mqtt_address when the name does not resolve, and connects", async () => {
      const b = await broker(withAddress, port);
      const run = await runFirmware(firmware, UNRESOLVED, OUTCOME);
      await b.stop();

      expect(run.lines, run.lines.join("\n")).toContain("[esp-certs] dns fallback host=win10.local ip=127.0.0.1 from=mqtt_address");
      expect(run.lines.find((l) => l.startsWith("[esp-certs] tls "))).toMatch(/^\[esp-certs\] tls ok host=win10\.local /);
      expect(run.lines).toContain("[esp-certs] mqtt ok client=dev01");
    });

    test("still checks the broker certificate against the name: a broker certified for another name fails with 56", async () => {
      const other = reissuedFor(withAddress, "other.local");
      projects.push(other);
      await broker(other, port);
      const run = await runFirmware(firmware, UNRESOLVED, TLS);

      expect(run.lines, run.lines.join("\n")).toContain("[esp-certs] dns fallback host=win10.local ip=127.0.0.1 from=mqtt_address");
      expect(run.lines.find((l) => l.startsWith("[esp-certs] tls "))).toMatch(/^\[esp-certs\] tls fail code=56 /);
      expect(run.lines).not.toContain("[esp-certs] mqtt ok client=dev01");
    });
  });
});
