import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { project, projectIni } from "../helpers/project.js";

/** A project with a store made by the real CLI. */
const STORE = { prefix: "esp-certs-broker-", generate: true };
import { freePort, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requirePosix, requireTool } from "../helpers/tools.js";
import { brokerAdvice } from "../../src/broker/broker.js";
import { dockerRunLine, pathsModeOf, planBrokerFolder } from "../../src/broker/conf.js";
import { resolveConfig } from "../../src/config/config.js";
import { shellWord } from "../../src/ui.js";

const hasMosquitto = requireTool("mosquitto", "mosquitto") && requireTool("mosquitto_pub", "mosquitto-clients");


const mode = (f: string) => statSync(f).mode & 0o777;

describe("esp-certs broker", () => {
  it("writes mosquitto.conf for the Docker image, certs/ from the store, and docker-compose.yml", () => {
    const dir = project(STORE);
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
    if (requirePosix("the broker key's 0600 mode")) expect(mode(path.join(b, "certs/server.key.pem"))).toBe(0o600);
    expect(readFileSync(path.join(b, "docker-compose.yml"), "utf8")).toContain('"8883:8883"');
    expect(r.stdout).toContain(`-p 8883:8883 `);
    expect(r.stdout).toContain(`-v ${shellWord(`${b}:/mosquitto/config`)}`);
  });

  it("quotes the paths of the commands it suggests when the project's path holds a space, and only then", () => {
    const plain = project(STORE);
    const plainOut = runCli(["broker", "--paths", "local"], { cwd: plain }).stdout;
    // Plain unless the temp folder's own path needs quotes (the rule itself: test/cli/shell-word.test.ts).
    expect(plainOut).toContain(`Start the broker: mosquitto -c ${shellWord(path.join(plain, "broker", "mosquitto.conf"))}\n`);
    const dir = project({ ...STORE, prefix: "esp-certs broker spaced-" });
    const docker = runCli(["broker"], { cwd: dir });
    expect(docker.status, docker.stderr).toBe(0);
    const b = path.join(dir, "broker");
    expect(docker.stdout).toContain(`-v "${b}:/mosquitto/config" -v "${path.join(b, "data")}:/mosquitto/data"`);
    expect(docker.stdout).toContain(`(in "${b}")`);
    const local = runCli(["broker", "--paths", "local"], { cwd: dir });
    expect(local.stdout).toContain(`mosquitto -c "${path.join(b, "mosquitto.conf")}"`);
  });

  it("keeps unchanged files' bytes and mtime, and re-syncs a stale copy with a restart note", () => {
    const dir = project(STORE);
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

  it("is kept in step by generate: a re-issued broker certificate, and a new CA", () => {
    const dir = project(STORE);
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    const inStep = () => {
      for (const f of ["ca.crt.pem", "server.crt.pem", "server.key.pem"]) {
        expect(readFileSync(path.join(dir, "broker/certs", f)), f).toEqual(readFileSync(path.join(dir, "certs", f)));
      }
    };
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ host: "other.local" }));
    const reissued = runCli(["generate"], { cwd: dir });
    expect(reissued.status, reissued.stderr).toBe(0);
    expect(reissued.stdout).toMatch(/Restart the broker/);
    inStep();
    const newCa = runCli(["generate", "--new-ca"], { cwd: dir });
    expect(newCa.status, newCa.stderr).toBe(0);
    inStep();
  });

  it("leaves a broker/ folder with the user's own mosquitto.conf alone, and generate still works", () => {
    const dir = project(STORE);
    const conf = path.join(dir, "broker/mosquitto.conf");
    mkdirSync(path.dirname(conf));
    writeFileSync(conf, "listener 1883\n");
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ host: "other.local" }));
    const r = runCli(["generate"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(conf, "utf8")).toBe("listener 1883\n");
    expect(existsSync(path.join(dir, "broker/certs"))).toBe(false);
  });

  it("remembers --paths local for the next run, and drops its docker-compose.yml", () => {
    const dir = project(STORE);
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    const r = runCli(["broker", "--paths", "local"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const conf = () => readFileSync(path.join(dir, "broker/mosquitto.conf"), "utf8");
    expect(conf()).toContain(`cafile ${path.join(dir, "broker", "certs", "ca.crt.pem")}`);
    // Started as root (a service), mosquitto switches to this user, who can read the 0600 key.
    expect(conf()).toMatch(new RegExp(`^user ${userInfo().username}$`, "m"));
    expect(existsSync(path.join(dir, "broker/docker-compose.yml"))).toBe(false);
    // It says the compose file went, not that it was updated.
    expect(r.stdout).toContain("docker-compose.yml removed");
    expect(runCli(["broker"], { cwd: dir }).stdout).toMatch(/up to date/);
    expect(pathsModeOf(conf())).toBe("local");
  });

  it("refuses to replace a mosquitto.conf it did not write (exit 2)", () => {
    const dir = project(STORE);
    const conf = path.join(dir, "broker/mosquitto.conf");
    runCli(["broker"], { cwd: dir });
    writeFileSync(conf, "listener 1883\n");
    const r = runCli(["broker"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/did not write/);
    expect(readFileSync(conf, "utf8")).toBe("listener 1883\n");
  });

  it("says to run generate when the store is empty, writing nothing (exit 2)", () => {
    const dir = project();
    const r = runCli(["broker"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/esp-certs generate/);
    expect(existsSync(path.join(dir, "broker"))).toBe(false);
  });

  it("rejects an unknown --paths mode (exit 2)", () => {
    const dir = project(STORE);
    expect(runCli(["broker", "--paths", "windows"], { cwd: dir }).status).toBe(2);
    expect(existsSync(path.join(dir, "broker"))).toBe(false);
  });
});

describe("what to do after an update", () => {
  const advice = (changed: string[]) => brokerAdvice({ dir: "/p/broker", mode: "docker", created: false, changed }, 8884).join("\n");
  it("restarts the container for new certificates, and recreates it for a new port", () => {
    expect(advice(["certs/server.crt.pem"])).toMatch(/docker restart mosquitto/);
    const recreate = advice(["mosquitto.conf", "docker-compose.yml"]);
    expect(recreate).not.toMatch(/docker restart/);
    expect(recreate).toMatch(/docker compose up -d --force-recreate/);
    expect(recreate).toMatch(/docker rm -f mosquitto, then docker run .*-p 8884:8884/);
  });
});

describe("the Docker files for a non-root user", () => {
  it("run the container as that user, so it reads the 0600 key and leaves the folder's owner alone", async () => {
    const config = resolveConfig("/p", projectIni({ extra: "mqtt_port = 8884\n" }));
    const store = { caCertPem: Buffer.from("ca"), serverCertPem: Buffer.from("cert"), serverKeyPem: Buffer.from("key"), access: [] };
    const files = await planBrokerFolder({ config, dir: "/p/broker", mode: "docker", store, user: "1000:1000" });
    const compose = String(files.find((f) => f.path.endsWith("docker-compose.yml"))!.content);
    expect(compose).toContain('user: "1000:1000"');
    expect(compose).toContain('"8884:8884"');
    expect(String(files.find((f) => f.path.endsWith("mosquitto.conf"))!.content)).toMatch(/^listener 8884$/m);
    expect(files.find((f) => f.path.endsWith("server.key.pem"))!.mode).toBe(0o600);
    expect(dockerRunLine("/p/broker", 8884, "1000:1000")).toContain("-p 8884:8884 --user 1000:1000 ");
    // Not "user" in docker mode: inside the image that name means nothing.
    expect(String(files.find((f) => f.path.endsWith("mosquitto.conf"))!.content)).not.toMatch(/^user /m);
  });

  it("join the workshop's network mqtt as it is: compose refuses a same-named network it did not create", async () => {
    // `docker network create mqtt` (the workshop, and our own advice) makes a network without
    // compose's labels; compose then stops with "network mqtt was found but has incorrect label".
    const config = resolveConfig("/p", projectIni());
    const store = { caCertPem: Buffer.from("ca"), serverCertPem: Buffer.from("cert"), serverKeyPem: Buffer.from("key"), access: [] };
    const files = await planBrokerFolder({ config, dir: "/p/broker", mode: "docker", store });
    const compose = String(files.find((f) => f.path.endsWith("docker-compose.yml"))!.content);
    expect(compose).toMatch(/^networks:\n {2}mqtt:\n {4}name: mqtt\n {4}external: true\n/m);
  });
});

describe.skipIf(!hasMosquitto)("a real mosquitto from the generated config", () => {
  let dir: string;
  let broker: Broker;
  beforeAll(async () => {
    dir = project(STORE);
    expect(runCli(["broker", "--paths", "local"], { cwd: dir }).status).toBe(0);
    broker = await startMosquitto({ config: readFileSync(path.join(dir, "broker/mosquitto.conf"), "utf8") });
  });
  afterAll(() => broker?.stop());

  const pub = (...auth: string[]) =>
    spawnSync("mosquitto_pub", ["-h", "localhost", "-p", String(broker.port), "--cafile", path.join(dir, "certs/ca.crt.pem"), ...auth, "-t", "dev01/test", "-m", "hi"], {
      encoding: "utf8",
      timeout: 30_000,
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
    const other = project(STORE);
    const r = pub("--cert", path.join(other, "certs/clients/dev02.crt.pem"), "--key", path.join(other, "certs/clients/dev02.key.pem"));
    expect(r.status).not.toBe(0);
  });
});

describe.skipIf(!hasMosquitto)("the local mosquitto.conf, as written", () => {
  it("runs as is (only its port moved), even started as root like a service, from a path with spaces and quotes", async () => {
    // Started as root, mosquitto switches users: the 0600 broker key must stay readable.
    const dir = project({ host: "localhost", prefix: "esp-certs O'Brien & Co-", generate: true });
    expect(runCli(["broker", "--paths", "local"], { cwd: dir }).status).toBe(0);
    const port = await freePort();
    const conf = path.join(dir, "broker", "run.conf");
    writeFileSync(conf, readFileSync(path.join(dir, "broker/mosquitto.conf"), "utf8").replace(/^listener \d+$/m, `listener ${port} 127.0.0.1`));
    const child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
    const exited = new Promise((ok) => child.once("exit", ok));
    try {
      // Until it listens: a bound for a loaded machine, not a pace.
      let r = pub(port);
      for (const end = Date.now() + 30_000; r.status !== 0 && child.exitCode === null && Date.now() < end; r = pub(port)) {
        await new Promise((ok) => setTimeout(ok, 100));
      }
      const log = () => (existsSync(path.join(dir, "broker/log/mosquitto.log")) ? readFileSync(path.join(dir, "broker/log/mosquitto.log"), "utf8") : "");
      expect(r.status, `${r.stderr}\n${log()}`).toBe(0);
    } finally {
      // It writes its persistence file as it exits: the project folder goes only after that.
      child.kill();
      await exited;
    }

    function pub(p: number) {
      const c = path.join(dir, "certs");
      return spawnSync("mosquitto_pub", ["-h", "localhost", "-p", String(p), "--cafile", path.join(c, "ca.crt.pem"), "--cert", path.join(c, "clients/dev02.crt.pem"), "--key", path.join(c, "clients/dev02.key.pem"), "-i", "dev02", "-t", "dev01/x", "-m", "hi"], { encoding: "utf8", timeout: 30_000 });
    }
  });
});
