import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";
import { dockerRunLine, pathsModeOf, planBrokerFolder } from "../../src/broker/conf.js";
import { resolveConfig } from "../../src/config/config.js";

const hasMosquitto = requireTool("mosquitto", "mosquitto") && requireTool("mosquitto_pub", "mosquitto-clients");

/** A project with a store made by the real CLI. */
function project(host = "win10.local"): string {
  const dir = tmpProject("esp-certs-broker-");
  writeFileSync(path.join(dir, "platformio.ini"), `[esp_certs]\nmqtt_host = ${host}\n`);
  const r = runCli(["generate"], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

const mode = (f: string) => statSync(f).mode & 0o777;

describe("esp-certs broker", () => {
  it("writes mosquitto.conf for the Docker image, certs/ from the store, and docker-compose.yml", () => {
    const dir = project();
    const r = runCli(["broker"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const b = path.join(dir, "broker");
    const conf = readFileSync(path.join(b, "mosquitto.conf"), "utf8");
    for (const line of [
      "listener 8883",
      "cafile /mosquitto/config/certs/ca.crt.pem",
      "certfile /mosquitto/config/certs/server.crt.pem",
      "keyfile /mosquitto/config/certs/server.key.pem",
      "require_certificate true",
      "use_identity_as_username true",
      "allow_anonymous false",
      "persistence true",
      "persistence_location /mosquitto/data/",
      "log_dest file /mosquitto/log/mosquitto.log",
    ]) {
      expect(conf).toMatch(new RegExp(`^${line}$`, "m"));
    }
    expect(conf).not.toMatch(/^port /m); // deprecated in Mosquitto 2
    expect(readFileSync(path.join(b, "certs/server.crt.pem"))).toEqual(readFileSync(path.join(dir, "certs/server.crt.pem")));
    expect(readFileSync(path.join(b, "certs/ca.crt.pem"))).toEqual(readFileSync(path.join(dir, "certs/ca.crt.pem")));
    expect(mode(path.join(b, "certs/server.key.pem"))).toBe(0o600);
    expect(readFileSync(path.join(b, "docker-compose.yml"), "utf8")).toContain('"8883:8883"');
    expect(r.stdout).toContain(`-p 8883:8883 `);
    expect(r.stdout).toContain(`-v "${b}:/mosquitto/config"`);
  });

  it("keeps unchanged files' bytes and mtime, and re-syncs a stale copy with a restart note", () => {
    const dir = project();
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    const conf = path.join(dir, "broker/mosquitto.conf");
    const cert = path.join(dir, "broker/certs/server.crt.pem");
    const before = statSync(conf).mtimeMs;
    const again = runCli(["broker"], { cwd: dir });
    expect(again.stdout).toMatch(/up to date/);
    expect(statSync(conf).mtimeMs).toBe(before);

    writeFileSync(cert, "stale\n");
    const r = runCli(["broker", "--json"], { cwd: dir });
    const report = JSON.parse(r.stdout);
    expect(report.changed).toEqual(["certs/server.crt.pem"]);
    expect(report.restart).toBe(true);
    expect(readFileSync(cert)).toEqual(readFileSync(path.join(dir, "certs/server.crt.pem")));
    expect(statSync(conf).mtimeMs).toBe(before);
  });

  it("follows a re-issued broker certificate", () => {
    const dir = project();
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = other.local\n");
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    runCli(["broker"], { cwd: dir });
    expect(readFileSync(path.join(dir, "broker/certs/server.crt.pem"))).toEqual(readFileSync(path.join(dir, "certs/server.crt.pem")));
  });

  it("remembers --paths local for the next run, and drops its docker-compose.yml", () => {
    const dir = project();
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    const r = runCli(["broker", "--paths", "local"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const conf = () => readFileSync(path.join(dir, "broker/mosquitto.conf"), "utf8");
    expect(conf()).toContain(`cafile ${path.join(dir, "broker", "certs", "ca.crt.pem")}`);
    expect(existsSync(path.join(dir, "broker/docker-compose.yml"))).toBe(false);
    expect(runCli(["broker"], { cwd: dir }).stdout).toMatch(/up to date/);
    expect(pathsModeOf(conf())).toBe("local");
  });

  it("refuses to replace a mosquitto.conf it did not write (exit 2)", () => {
    const dir = project();
    const conf = path.join(dir, "broker/mosquitto.conf");
    runCli(["broker"], { cwd: dir });
    writeFileSync(conf, "listener 1883\n");
    const r = runCli(["broker"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/did not write/);
    expect(readFileSync(conf, "utf8")).toBe("listener 1883\n");
  });

  it("says to run generate when the store is empty, writing nothing (exit 2)", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = win10.local\n");
    const r = runCli(["broker"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/esp-certs generate/);
    expect(existsSync(path.join(dir, "broker"))).toBe(false);
  });

  it("rejects an unknown --paths mode (exit 2)", () => {
    const dir = project();
    expect(runCli(["broker", "--paths", "windows"], { cwd: dir }).status).toBe(2);
    expect(existsSync(path.join(dir, "broker"))).toBe(false);
  });
});

describe("the Docker files for a non-root user", () => {
  it("run the container as that user, so it reads the 0600 key and leaves the folder's owner alone", async () => {
    const config = resolveConfig("/p", "[esp_certs]\nmqtt_host = win10.local\nmqtt_port = 8884\n");
    const store = { caCertPem: Buffer.from("ca"), serverCertPem: Buffer.from("cert"), serverKeyPem: Buffer.from("key") };
    const files = await planBrokerFolder({ config, dir: "/p/broker", mode: "docker", store, user: "1000:1000" });
    const compose = String(files.find((f) => f.path.endsWith("docker-compose.yml"))!.content);
    expect(compose).toContain('user: "1000:1000"');
    expect(compose).toContain('"8884:8884"');
    expect(String(files.find((f) => f.path.endsWith("mosquitto.conf"))!.content)).toMatch(/^listener 8884$/m);
    expect(files.find((f) => f.path.endsWith("server.key.pem"))!.mode).toBe(0o600);
    expect(dockerRunLine("/p/broker", 8884, "1000:1000")).toContain("-p 8884:8884 --user 1000:1000 ");
  });
});

describe.skipIf(!hasMosquitto)("a real mosquitto from the generated config", () => {
  let dir: string;
  let broker: Broker;
  beforeAll(async () => {
    dir = project();
    expect(runCli(["broker", "--paths", "local"], { cwd: dir }).status).toBe(0);
    broker = await startMosquitto({ config: readFileSync(path.join(dir, "broker/mosquitto.conf"), "utf8") });
  });
  afterAll(() => broker?.stop());

  const pub = (...auth: string[]) =>
    spawnSync("mosquitto_pub", ["-h", "localhost", "-p", String(broker.port), "--cafile", path.join(dir, "certs/ca.crt.pem"), ...auth, "-t", "dev01/test", "-m", "hi"], {
      encoding: "utf8",
      timeout: 10_000,
    });

  it("accepts dev02 with its certificate, checking the broker's name (localhost)", () => {
    const r = pub("--cert", path.join(dir, "certs/clients/dev02.crt.pem"), "--key", path.join(dir, "certs/clients/dev02.key.pem"), "-i", "dev02");
    expect(r.status, `${r.stderr}\n${broker.log()}`).toBe(0);
    expect(broker.log()).toMatch(/as dev02 .*u'dev02'/);
  });

  it("rejects a client without a certificate", () => {
    const r = pub("-i", "anonymous");
    expect(r.status).not.toBe(0);
  });

  it("rejects a certificate from another CA", () => {
    const other = project();
    const r = pub("--cert", path.join(other, "certs/clients/dev02.crt.pem"), "--key", path.join(other, "certs/clients/dev02.key.pem"));
    expect(r.status).not.toBe(0);
  });
});
