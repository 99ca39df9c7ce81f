// The access rules at a real mosquitto started from the generated broker/ (--paths local): each
// device confined to its own <id>/#, apps everywhere, no session takeover by client id, and a
// revoked device muted by revoke's own reload, with no restart (docs/access.md).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";
import { buildFirmware, generateProject, rehearsalTools, startFirmware, type Project } from "../firmware/rehearsal.js";

const ready = requireTool("mosquitto_sub", "mosquitto-clients") && rehearsalTools();

/** A mosquitto_sub that stays connected, printing "topic payload" lines. */
interface Sub {
  lines(): string[];
  alive(): boolean;
  stop(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!ready)("access rules at a real mosquitto (--paths local)", () => {
  let project: Project;
  let broker: Broker;
  const subs: ChildProcess[] = [];
  const tls = (id: string) => {
    const c = path.join(project.dir, "certs");
    return ["-h", "localhost", "-p", String(broker.port), "--cafile", path.join(c, "ca.crt.pem"), "--cert", path.join(c, "clients", `${id}.crt.pem`), "--key", path.join(c, "clients", `${id}.key.pem`)];
  };
  const subacks = (id: string) => broker.log().split(`Sending SUBACK to ${id}\n`).length - 1;

  /** Subscribes as `id` (announcing `clientId`, default the id) and waits for the broker's SUBACK. */
  async function sub(id: string, topic: string, clientId = id): Promise<Sub> {
    const before = subacks(id);
    const child = spawn("mosquitto_sub", [...tls(id), "-i", clientId, "-t", topic, "-v"], { stdio: ["ignore", "pipe", "pipe"] });
    subs.push(child);
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    for (let i = 0; i < 200 && subacks(id) === before; i++) await sleep(50);
    expect(subacks(id), broker.log()).toBeGreaterThan(before);
    return { lines: () => out.split("\n").filter(Boolean), alive: () => child.exitCode === null, stop: () => child.kill() };
  }
  function pub(id: string, topic: string, message: string, clientId = `${id}-pub`): void {
    const r = spawnSync("mosquitto_pub", [...tls(id), "-i", clientId, "-t", topic, "-m", message], { encoding: "utf8", timeout: 10_000 });
    expect(r.status, r.stderr + broker.log()).toBe(0);
  }

  beforeAll(async () => {
    project = generateProject("win10.local", "clients = dev01, dev02, dev03, console\napps = dev02, console\n");
    const r = runCli(["broker", "--paths", "local"], { cwd: project.dir });
    expect(r.status, r.stderr).toBe(0);
    broker = await startMosquitto({ config: readFileSync(path.join(project.dir, "broker", "mosquitto.conf"), "utf8") });
  });
  afterAll(async () => {
    for (const s of subs) s.kill();
    await broker?.stop();
  });

  // One certificate is one client (use_username_as_clientid): a mosquitto_pub as dev01 would
  // replace a mosquitto_sub as dev01. So the app that commands is "console", the one that
  // listens dev02, and a device publishes only while its own listener is not under test.
  it("confines each device to its own topics, and lets an app see and command every device", async () => {
    const app = await sub("dev02", "#");
    const dev01 = await sub("dev01", "#");
    let dev03 = await sub("dev03", "#");
    pub("console", "dev01/cmd", "to-dev01");
    pub("console", "dev03/cmd", "to-dev03");
    await sleep(300);
    // Subscribed to #, a device gets its own subtree only.
    expect(dev01.lines()).toEqual(["dev01/cmd to-dev01"]);
    expect(dev03.lines()).toEqual(["dev03/cmd to-dev03"]);
    dev03.stop();
    pub("dev03", "dev01/cmd", "from-dev03");
    pub("dev03", "dev03/status", "dev03-own");
    dev03 = await sub("dev03", "#");
    dev01.stop();
    pub("dev01", "dev01/status", "dev01-own");
    await sleep(300);
    expect(app.lines()).toEqual(["dev01/cmd to-dev01", "dev03/cmd to-dev03", "dev03/status dev03-own", "dev01/status dev01-own"]);
    // Into another device's topics: dropped, nobody receives it.
    expect([...dev01.lines(), ...dev03.lines()]).toEqual(["dev01/cmd to-dev01"]);
    expect(broker.log()).toMatch(/Denied PUBLISH from dev03 .*'dev01\/cmd'/);
    app.stop();
    dev03.stop();
  });

  it("the rehearsal firmware's retained status reaches the app, and no other device, even one subscribed to #", async () => {
    const firmware = buildFirmware(project, broker.port);
    const app = await sub("dev02", "dev01/status");
    const board = startFirmware(firmware);
    try {
      await board.waitFor(/^\[esp-certs\] mqtt ok client=dev01$/);
      for (let i = 0; i < 40 && !app.lines().includes("dev01/status online"); i++) await sleep(50);
      expect(app.lines()).toContain("dev01/status online");
      // The retained message is offered at subscribe time: to a device it is not.
      const dev03 = await sub("dev03", "#");
      await sleep(300);
      expect(dev03.lines()).toEqual([]);
      dev03.stop();
    } finally {
      await board.stop();
      app.stop();
    }
  }, 240_000); // the firmware build is slow on a busy 2-core machine

  it("keeps a device's session when another device announces its client id; its own second connection replaces the first", async () => {
    const dev01 = await sub("dev01", "dev01/#");
    const mark = broker.log().length;
    const takeover = await sub("dev03", "dev03/#", "dev01");
    pub("console", "dev01/cmd", "still-there");
    await sleep(300);
    expect(dev01.lines()).toContain("dev01/cmd still-there");
    expect(broker.log().slice(mark)).not.toContain("Client dev01 already connected");
    // The broker knows the impostor by its certificate: "as dev03", whatever it announced.
    expect(broker.log()).toMatch(/New client connected from .* as dev03 \(.*u'dev03'\)/);
    takeover.stop();
    // use_username_as_clientid, by design: the same certificate twice is one client.
    const again = await sub("dev01", "dev01/#", "another-id");
    expect(broker.log()).toContain("Client dev01 already connected, closing old connection");
    again.stop();
    dev01.stop();
  });

  it("mutes a revoked device that stays connected within 2 s of revoke, which reloads the broker itself: no restart", async () => {
    const app = await sub("dev02", "dev03/#");
    // The device: one connection that subscribes and publishes, made before the revocation.
    const c = path.join(project.dir, "certs");
    const received: string[] = [];
    const dev03 = await mqtt.connectAsync({
      protocol: "mqtts",
      host: "localhost",
      port: broker.port,
      ca: readFileSync(path.join(c, "ca.crt.pem")),
      cert: readFileSync(path.join(c, "clients/dev03.crt.pem")),
      key: readFileSync(path.join(c, "clients/dev03.key.pem")),
      clientId: "dev03",
      reconnectPeriod: 0,
    });
    try {
      dev03.on("message", (topic, payload) => received.push(`${topic} ${String(payload)}`));
      await dev03.subscribeAsync("dev03/#");
      await dev03.publishAsync("dev03/status", "before", { qos: 1 });
      pub("console", "dev03/cmd", "before");
      await sleep(300);
      expect(received).toEqual(["dev03/status before", "dev03/cmd before"]);
      const pid = readFileSync(path.join(project.dir, "broker", "mosquitto.pid"), "utf8");

      const r = runCli(["revoke", "dev03"], { cwd: project.dir });
      const revokedAt = Date.now();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Reloaded the broker \(SIGHUP to mosquitto \(pid \d+\)\)/m);
      // The reload is a signal, applied at mosquitto's next pass: the rules hold once it logs it.
      await broker.logged("Reloading config");
      pub("console", "dev03/cmd", "after");
      await dev03.publishAsync("dev03/status", "after", { qos: 1 });
      await sleep(Math.max(0, revokedAt + 2000 - Date.now()));
      // Still connected, to the same broker process, and deaf and mute.
      expect(dev03.connected).toBe(true);
      expect(readFileSync(path.join(project.dir, "broker", "mosquitto.pid"), "utf8")).toBe(pid);
      expect(received).toEqual(["dev03/status before", "dev03/cmd before"]);
      expect(app.lines()).toEqual(["dev03/status before", "dev03/cmd before", "dev03/cmd after"]);
    } finally {
      dev03.end(true);
      app.stop();
    }
  });
});
