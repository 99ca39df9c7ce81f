// `esp-certs doctor` end to end: a healthy project against a real mosquitto run from the
// generated config, then one broken thing at a time, each in a copy of that project.
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliAsync, runCli, tmpProject, TEST_PASSPHRASE, type CliResult } from "../helpers/cli.js";
import { freePort, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { headerOf, project, projectIni } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";

const hasTools = requireTool("mosquitto", "mosquitto") && requireTool("openssl", "openssl");

const doctorProject = (host?: string) => project({ host, prefix: "esp-certs-doctor-", generate: true });

/** The line of one check at one level, e.g. line(r, "problem", "tls"). */
const line = (r: CliResult, level: string, check: string) => r.stdout.split("\n").find((l) => new RegExp(`^${level}\\s+${check}\\s`).test(l));

describe.skipIf(!hasTools)("esp-certs doctor", () => {
  let base: string;
  let broker: Broker;
  let address: string;
  const doctor = (dir: string, ...args: string[]) => runCliAsync(["doctor", "--broker-address", address, ...args], { cwd: dir });
  const copy = () => {
    const dir = tmpProject("esp-certs-doctor-copy-");
    cpSync(base, dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    base = doctorProject();
    // The folder doctor compares (Docker paths), and a local one that mosquitto runs here.
    expect(runCli(["broker"], { cwd: base }).status).toBe(0);
    expect(runCli(["broker", "--out", "live", "--paths", "local"], { cwd: base }).status).toBe(0);
    broker = await startMosquitto({ config: readFileSync(path.join(base, "live/mosquitto.conf"), "utf8") });
    address = `127.0.0.1:${broker.port}`;
  });
  afterAll(() => broker?.stop());

  it("passes a healthy setup (exit 0), connecting as esp-certs' own client with the name checked", async () => {
    const r = await doctor(base);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/^problem/m);
    expect(line(r, "ok", "tls")).toMatch(/as esp-certs \(app\) to 127\.0\.0\.1:\d+ \(name checked: win10\.local\)/);
    for (const check of ["config", "host", "store", "names", "chain", "purpose", "expiry", "broker"]) expect(line(r, "ok", check), check).toBeDefined();
    // win10.local is not in this machine's DNS: mDNS, so only a warning.
    expect(line(r, "warning", "dns")).toMatch(/mDNS/);
    // use_username_as_clientid: the broker knows the probe by its certificate, whatever id it announced.
    expect(broker.log()).toMatch(/as esp-certs \(p2, c1, k30, u'esp-certs'\)/);
    expect(broker.log()).not.toMatch(/u'dev02'/);
  });

  it("a store from before esp-certs had its own client: connects as the first app, dev02", async () => {
    const dir = copy();
    for (const f of ["esp-certs.crt.pem", "esp-certs.key.pem"]) rmSync(path.join(dir, "certs/clients", f));
    const r = await doctor(dir);
    expect(line(r, "ok", "tls")).toMatch(/as dev02 \(app\) to 127\.0\.0\.1:\d+/);
  });

  it("--client ID connects as that client: the broker knows it by its certificate, so it would replace that client's session", async () => {
    const r = await doctor(base, "--client", "dev01");
    expect(line(r, "ok", "tls")).toMatch(/as dev01 \(device\) to 127\.0\.0\.1:\d+/);
    expect(broker.log()).toMatch(/as dev01 \(p2, c1, k30, u'dev01'\)/);
    expect(runCli(["doctor", "--help"], { cwd: base }).stdout.replace(/\s+/g, " ")).toContain("--client <id> connect as this client instead of esp-certs' own: the broker (use_username_as_clientid) then ends that client's live session");
  });

  it("--json prints the results and nothing else", async () => {
    const r = await doctor(base, "--json");
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c: { check: string }) => c.check === "tls").level).toBe("ok");
  });

  it("an IP address as the host", async () => {
    const dir = copy();
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ host: "192.168.1.10" }));
    const r = await doctor(dir);
    expect(r.status).toBe(1);
    expect(line(r, "problem", "host")).toMatch(/IP address .*BearSSL/);
    // Regression: the same fact was printed three times (config warning, host, names).
    expect(r.stdout.match(/IP address/g)).toHaveLength(1);
  });

  // Regression: the live check could not run (win10.local does not resolve here) and doctor
  // still ended "All checks passed" with exit 0.
  it("a broker name that does not resolve here: the live check did not run, which is not a pass", async () => {
    const r = await runCliAsync(["doctor"], { cwd: base });
    expect(r.status, r.stdout).toBe(1);
    expect(r.stdout).not.toMatch(/All checks passed/);
    expect(line(r, "warning", "dns")).toMatch(/win10\.local does not resolve on this machine/);
    expect(line(r, "not run", "tls")).toMatch(/could not try the broker: win10\.local does not resolve on this machine/);
    expect(r.stdout).toMatch(/--broker-address <IP>/);
    expect(r.stdout).toMatch(/^No problem found, but not verified: 1 check could not run \(tls\)/m);
    const json = JSON.parse((await runCliAsync(["doctor", "--json"], { cwd: base })).stdout);
    expect(json).toMatchObject({ ok: false, problems: 0, unchecked: 1 });
  });

  it("a host the broker certificate does not name: the SAN check and the live name check", async () => {
    const dir = copy();
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ host: "other.local" }));
    const r = await doctor(dir);
    expect(r.status).toBe(1);
    expect(line(r, "problem", "names")).toMatch(/does not name other\.local/);
    expect(line(r, "problem", "tls")).toMatch(/name mismatch/);
  });

  it("a certificate from another CA", async () => {
    const dir = copy();
    const other = doctorProject();
    for (const f of ["dev02.crt.pem", "dev02.key.pem"]) cpSync(path.join(other, "certs/clients", f), path.join(dir, "certs/clients", f));
    const r = await doctor(dir, "--client", "dev02");
    expect(r.status).toBe(1);
    expect(line(r, "problem", "chain")).toMatch(/client dev02: not signed by this store's CA/);
    expect(line(r, "problem", "tls")).toMatch(/client certificate rejected|closed the connection/);
  });

  it("a broker that serves another CA's certificate: unknown CA", async () => {
    const dir = doctorProject();
    const r = await doctor(dir);
    expect(r.status).toBe(1);
    expect(line(r, "problem", "tls")).toMatch(/unknown CA/);
  });

  it("the wrong purpose (EKU), and a certificate near expiry", async () => {
    const dir = copy();
    const store = path.join(dir, "certs");
    const issue = (eku: string, days: number) => {
      const ext = path.join(dir, "ext.cnf");
      writeFileSync(ext, `[v3]\nextendedKeyUsage = ${eku}\nkeyUsage = digitalSignature\n`);
      const csr = path.join(dir, "dev02.csr");
      const key = path.join(store, "clients/dev02.key.pem");
      for (const args of [
        ["req", "-new", "-key", key, "-subj", "/CN=dev02", "-out", csr],
        ["x509", "-req", "-in", csr, "-CA", path.join(store, "ca.crt.pem"), "-CAkey", path.join(store, "ca.key.pem"), "-passin", `pass:${TEST_PASSPHRASE}`, "-days", String(days), "-extfile", ext, "-extensions", "v3", "-out", path.join(store, "clients/dev02.crt.pem")],
      ]) {
        const r = spawnSync("openssl", args, { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
      }
    };
    issue("serverAuth", 100);
    const wrong = await doctor(dir);
    expect(wrong.status).toBe(1);
    expect(line(wrong, "problem", "purpose")).toMatch(/client dev02: .*lacks clientAuth/);

    issue("clientAuth", 10);
    const soon = await doctor(dir);
    expect(soon.status, soon.stdout).toBe(0);
    expect(line(soon, "warning", "expiry")).toMatch(/client dev02: expires in (9|10) days/);
  });

  it("a header out of step with the store", async () => {
    const dir = copy();
    const header = headerOf(dir);
    const m = await import("../../src/render/header.js");
    const { loadConfig } = await import("../../src/config/config.js");
    await m.writeHeader(loadConfig(dir), "dev01");
    writeFileSync(header, readFileSync(header, "utf8").replace(/(#define ESP_CERTS_CA_SHA256 ")[0-9a-f]{64}/, `$1${"ab".repeat(32)}`));
    const r = await doctor(dir);
    expect(r.status).toBe(1);
    expect(line(r, "problem", "header")).toMatch(/holds another CA/);
  });

  it("a broker folder out of step with the store", async () => {
    const dir = copy();
    writeFileSync(path.join(dir, "broker/certs/server.crt.pem"), "old\n");
    const r = await doctor(dir);
    expect(r.status).toBe(1);
    expect(line(r, "problem", "broker")).toMatch(/out of step .*certs\/server\.crt\.pem/);
  });

  it("a name that does not resolve, outside .local, is a problem", async () => {
    const dir = doctorProject("nobroker.invalid");
    const r = await doctor(dir);
    expect(r.status).toBe(1);
    expect(line(r, "problem", "dns")).toMatch(/nobroker\.invalid does not resolve/);
  });

  it("a broker that speaks only TLS 1.3, which the ESP8266's BearSSL cannot", async () => {
    const conf = readFileSync(path.join(base, "live/mosquitto.conf"), "utf8").replace(/^(listener .*)$/m, "$1\ntls_version tlsv1.3");
    const strict = await startMosquitto({ config: conf });
    try {
      const r = await runCliAsync(["doctor", "--broker-address", `127.0.0.1:${strict.port}`], { cwd: base });
      expect(r.status, r.stdout).toBe(1);
      expect(line(r, "problem", "tls")).toMatch(/TLS 1\.2/);
    } finally {
      await strict.stop();
    }
  });

  it("a broker that is not there: refused", async () => {
    const r = await runCliAsync(["doctor", "--broker-address", `127.0.0.1:${await freePort()}`], { cwd: base });
    expect(r.status).toBe(1);
    expect(line(r, "problem", "tls")).toMatch(/refused/);
  });

  it("a store that is missing", async () => {
    const dir = copy();
    rmSync(path.join(dir, "certs"), { recursive: true });
    const r = await doctor(dir);
    expect(r.status).toBe(1);
    expect(line(r, "problem", "store")).toMatch(/ca\.crt\.pem is missing/);
    expect(line(r, "ok", "broker")).toBeUndefined();
  });

  it("rejects a malformed --broker-address (exit 2)", async () => {
    const r = await runCliAsync(["doctor", "--broker-address", "a:b:c"], { cwd: base });
    expect(r.status).toBe(2);
  });
});
