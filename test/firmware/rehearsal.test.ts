import { spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { freePort, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, headerDefine, type Project, rehearsalTools, reissuedFor, runFirmware } from "./rehearsal.js";

// The device-free rehearsal (docs/rehearsal.md): the esp-certs library and its main example built for this machine, real BearSSL,
// real mosquitto, the serial lines of docs/serial-protocol.md.
const ready = rehearsalTools() && requireTool("openssl", "openssl");

describe.skipIf(!ready)("firmware rehearsal against mosquitto", () => {
  let project: Project;
  let otherCa: Project;
  const brokers: Broker[] = [];
  const projects: Project[] = [];

  function made(p: Project): Project {
    projects.push(p);
    return p;
  }

  async function broker(tls: { cafile: string; certfile: string; keyfile: string }): Promise<Broker> {
    const b = await startMosquitto({ tls });
    brokers.push(b);
    return b;
  }

  function own(p: Project) {
    return { cafile: p.caCert, certfile: p.serverCert, keyfile: p.serverKey };
  }

  const tlsLine = (lines: string[]) => lines.find((l) => l.startsWith("[esp-certs] tls "));
  // Each run ends once the lines it is about are there, not after a fixed time: a loaded
  // machine may take longer than any fixed run to get to them.
  const TLS = /^\[esp-certs\] tls /;
  const OUTCOME = /^\[esp-certs\] (tls fail|mqtt (ok|fail))/;

  beforeAll(() => {
    project = made(generateProject("win10.local"));
    otherCa = made(generateProject("win10.local"));
  });

  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
  });

  describe("with its own broker", () => {
    let b: Broker;
    let firmware: string;

    beforeAll(async () => {
      b = await broker(own(project));
      firmware = buildFirmware(project, b.port);
    }, BUILD_TIMEOUT_MS);

    test("connects to win10.local by name, with TLS then MQTT, and the broker sees dev01", async () => {
      // The status message follows "mqtt ok": the run goes on until the broker has logged it.
      const statusIn = /Received PUBLISH from dev01 .*'dev01\/status'/;
      const run = await runFirmware(firmware, {}, (lines) => lines.some((l) => OUTCOME.test(l)) && statusIn.test(b.log()));
      const caSha = createHash("sha256").update(readFileSync(project.caCert.replace(/\.pem$/, ".der"))).digest("hex");

      expect(headerDefine(project.header, "ESP_CERTS_CLIENT_KEY_IS_EC")).toBe("1");
      expect(run.status).toBe(0);
      expect(run.lines).toContain(`[esp-certs] boot client=dev01 host=win10.local port=${b.port} ca=${caSha.slice(0, 16)} cred=header`);
      expect(run.lines).toContain("[esp-certs] wifi ok ip=127.0.0.1");
      expect(tlsLine(run.lines)).toMatch(
        new RegExp(`^\\[esp-certs\\] tls ok host=win10\\.local port=${b.port} ms=\\d+ heap=\\d+ mfln=512 resumed=0$`),
      );
      expect(run.lines).toContain("[esp-certs] mqtt ok client=dev01");
      expect(b.log()).toMatch(/New client connected from 127\.0\.0\.1:\d+ as dev01/);
      expect(b.log()).toMatch(statusIn);
    });

    test("without NTP it takes the header's floor as the time, says so, and still connects", async () => {
      const serial = path.join(project.dir, "serial.log");
      const run = await runFirmware(firmware, { ESP_CERTS_CLOCK: "0", ESP_CERTS_SERIAL: serial }, OUTCOME);
      const floor = headerDefine(project.header, "ESP_CERTS_GENERATED_AT");

      expect(run.lines).toContain(`[esp-certs] time ok epoch=${floor} source=floor`);
      expect(tlsLine(run.lines)).toMatch(/ tls ok /);
      expect(run.lines).toContain("[esp-certs] mqtt ok client=dev01");
    });

    test("a clock past the broker certificate's expiry gives BearSSL error 54", async () => {
      const expiry = Date.parse(new X509Certificate(readFileSync(project.serverCert)).validTo) / 1000;
      const run = await runFirmware(firmware, { ESP_CERTS_CLOCK: String(expiry + 86_400) }, TLS);

      expect(tlsLine(run.lines)).toBe('[esp-certs] tls fail code=54 text="Certificate is expired or not yet valid."');
      expect(run.lines.some((l) => l.includes("mqtt ok"))).toBe(false);
    });
  });

  test("an RSA device key (setClientRSACert) connects as well as the default EC one", async () => {
    const rsa = made(generateProject("win10.local", "client_key_type = rsa2048\n"));
    const b = await broker(own(rsa));
    const run = await runFirmware(buildFirmware(rsa, b.port), {}, OUTCOME);

    expect(headerDefine(rsa.header, "ESP_CERTS_CLIENT_KEY_IS_EC")).toBe("0");
    expect(tlsLine(run.lines)).toMatch(/ tls ok /);
    expect(run.lines).toContain("[esp-certs] mqtt ok client=dev01");
  }, BUILD_TIMEOUT_MS);

  test("a broker certificate that lacks the host name gives 56", async () => {
    const renamed = made(reissuedFor(project, "other.local"));
    expect(new X509Certificate(readFileSync(renamed.serverCert)).subjectAltName).not.toContain("win10.local");
    const b = await broker(own(renamed));
    const run = await runFirmware(buildFirmware(project, b.port), {}, TLS);

    expect(tlsLine(run.lines)).toBe('[esp-certs] tls fail code=56 text="Expected server name was not found in the chain."');
  }, BUILD_TIMEOUT_MS);

  test("a broker certificate from another CA gives 62", async () => {
    const b = await broker(own(otherCa));
    const run = await runFirmware(buildFirmware(project, b.port), {}, TLS);

    expect(tlsLine(run.lines)).toBe('[esp-certs] tls fail code=62 text="Chain could not be linked to a trust anchor."');
  }, BUILD_TIMEOUT_MS);

  test("a broker that rejects the device's certificate is reported as its alert, 256 + alert", async () => {
    const b = await broker({ ...own(project), cafile: otherCa.caCert });
    const run = await runFirmware(buildFirmware(project, b.port), {}, TLS);
    const m = /^\[esp-certs\] tls fail code=(\d+) text="SSL received fatal alert - .+"$/.exec(tlsLine(run.lines) ?? "");

    expect(m, run.lines.join("\n")).not.toBeNull();
    // OpenSSL answers a client certificate from an unknown CA with unknown_ca (48).
    expect(Number(m![1])).toBe(256 + 48);
  }, BUILD_TIMEOUT_MS);

  test("no broker listening gives a failure line and a clean exit, not a hang", async () => {
    const port = await freePort();
    const run = await runFirmware(buildFirmware(project, port), {}, TLS);

    expect(run.status).toBe(0);
    expect(tlsLine(run.lines)).toMatch(
      /^\[esp-certs\] tls fail code=0 text="no TLS from win10\.local:\d+ at 127\.0\.0\.1 \(no broker listening/,
    );
  }, BUILD_TIMEOUT_MS);

  test("a missing wifi_secrets.h stops the build and says which file to copy", () => {
    const r = spawnSync(
      "g++",
      [
        "-std=gnu++17",
        "-fsyntax-only",
        `-I${path.dirname(project.header)}`,
        `-I${path.join(repoRoot, "firmware", "host", "shim")}`,
        `-I${path.join(repoRoot, "firmware", "lib", "esp-certs", "src")}`,
        "-x",
        "c++",
        path.join(repoRoot, "firmware", "lib", "esp-certs", "examples", "connect", "connect.ino"),
      ],
      { encoding: "utf8" },
    );

    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("#error");
    expect(r.stderr).toContain("wifi_secrets.h is missing: create it in the folder esp_certs.h is in (PlatformIO: include/)");
  });
});
