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
  /** What it received, without the markers settle() sent it. */
  lines(): string[];
  /** Where settle() publishes a marker this subscription receives. */
  markerTopic: string;
  /** Everything it printed, markers too. */
  raw(): string[];
  /** Ends it and waits until it has exited: what follows cannot reach it, nor it take its id back. */
  stop(): Promise<void>;
}

const APPS = ["dev02", "console"];
const MARKER = /^\S+ marker-\d+$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds, or fails saying `what` after `ms`: a bound for a loaded machine, not a pace. */
async function until(ok: () => boolean, what: () => string, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(50)) if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what()}`);
}

describe.skipIf(!ready)("access rules at a real mosquitto (--paths local)", () => {
  let project: Project;
  let broker: Broker;
  const subs: ChildProcess[] = [];
  let markers = 0;
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
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await until(() => subacks(id) > before || child.exitCode !== null, () => `no SUBACK to ${id}:\n${broker.log()}`);
    expect(subacks(id), broker.log()).toBeGreaterThan(before);
    const raw = () => out.split("\n").filter(Boolean);
    // An app may read every topic, markers sent to others too; a device sees only its own.
    const isMarker = (l: string) => MARKER.test(l) && (APPS.includes(id) || l.startsWith(`${id}/`));
    return {
      raw,
      lines: () => raw().filter((l) => !isMarker(l)),
      markerTopic: topic === "#" ? `${id}/marker` : topic.replace(/#$/, "marker"),
      stop: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill();
        return exited;
      },
    };
  }
  /**
   * Publishes at QoS 1: once mosquitto_pub exits, the broker has handled the message, queued it
   * to every subscriber that may have it, or denied it (an MQTT 3.1.1 client gets its PUBACK either way).
   */
  function pub(id: string, topic: string, message: string, clientId = `${id}-pub`): void {
    const r = spawnSync("mosquitto_pub", [...tls(id), "-i", clientId, "-q", "1", "-t", topic, "-m", message], { encoding: "utf8", timeout: 30_000 });
    expect(r.status, r.stderr + broker.log()).toBe(0);
  }
  /**
   * Sends each listener a marker (as the app console) and waits until it arrives. The broker
   * sends a subscriber its messages in the order it handled them: once the marker is there, any
   * message published before it that this listener could have had, it has.
   */
  async function settle(...listeners: Sub[]): Promise<void> {
    for (const l of listeners) {
      const line = `${l.markerTopic} marker-${++markers}`;
      pub("console", l.markerTopic, line.split(" ")[1]);
      await until(() => l.raw().includes(line), () => `"${line}" did not arrive; got ${JSON.stringify(l.raw())}`);
    }
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
    await settle(dev01, dev03);
    // Subscribed to #, a device gets its own subtree only.
    expect(dev01.lines()).toEqual(["dev01/cmd to-dev01"]);
    expect(dev03.lines()).toEqual(["dev03/cmd to-dev03"]);
    await dev03.stop();
    pub("dev03", "dev01/cmd", "from-dev03");
    pub("dev03", "dev03/status", "dev03-own");
    dev03 = await sub("dev03", "#");
    // dev01 hears no more once stopped: what dev03 sent into its topics had to reach it by now.
    await settle(dev01);
    await dev01.stop();
    pub("dev01", "dev01/status", "dev01-own");
    await settle(app, dev03);
    expect(app.lines()).toEqual(["dev01/cmd to-dev01", "dev03/cmd to-dev03", "dev03/status dev03-own", "dev01/status dev01-own"]);
    // Into another device's topics: dropped, nobody receives it.
    expect([...dev01.lines(), ...dev03.lines()]).toEqual(["dev01/cmd to-dev01"]);
    expect(broker.log()).toMatch(/Denied PUBLISH from dev03 .*'dev01\/cmd'/);
    await app.stop();
    await dev03.stop();
  });

  it("the rehearsal firmware's retained status reaches the app, and no other device, even one subscribed to #", async () => {
    const firmware = buildFirmware(project, broker.port);
    const app = await sub("dev02", "dev01/status");
    const board = startFirmware(firmware);
    try {
      await board.waitFor(/^\[esp-certs\] mqtt ok client=dev01$/);
      // The board publishes its status right after it prints "mqtt ok".
      await until(() => app.lines().includes("dev01/status online"), () => `the app got ${JSON.stringify(app.raw())}`);
      // The retained message is offered at subscribe time, before anything published later: to a device it is not.
      const dev03 = await sub("dev03", "#");
      await settle(dev03);
      expect(dev03.lines()).toEqual([]);
      await dev03.stop();
    } finally {
      await board.stop();
      await app.stop();
    }
  }, 240_000); // the firmware build is slow on a busy 2-core machine

  it("keeps a device's session when another device announces its client id; its own second connection replaces the first", async () => {
    const dev01 = await sub("dev01", "dev01/#");
    const mark = broker.mark();
    // Mosquitto logs a takeover when it takes the CONNECT, before it answers the SUBSCRIBE that follows.
    const takeover = await sub("dev03", "dev03/#", "dev01");
    pub("console", "dev01/cmd", "still-there");
    await settle(dev01);
    expect(dev01.lines()).toContain("dev01/cmd still-there");
    expect(broker.log(mark)).not.toContain("Client dev01 already connected");
    // The broker knows the impostor by its certificate: "as dev03", whatever it announced.
    expect(broker.log(mark)).toMatch(/New client connected from .* as dev03 \(.*u'dev03'\)/);
    await takeover.stop();
    // use_username_as_clientid, by design: the same certificate twice is one client.
    const again = await sub("dev01", "dev01/#", "another-id");
    expect(broker.log(mark)).toContain("Client dev01 already connected, closing old connection");
    await again.stop();
    await dev01.stop();
  });

  it("mutes a revoked device that stays connected from the reload revoke sends itself: no restart", async () => {
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
      await until(() => received.length >= 2, () => `dev03 got ${JSON.stringify(received)}`);
      expect(received).toEqual(["dev03/status before", "dev03/cmd before"]);
      const pid = readFileSync(path.join(project.dir, "broker", "mosquitto.pid"), "utf8");

      const mark = broker.mark();
      const r = runCli(["revoke", "dev03"], { cwd: project.dir });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Reloaded the broker \(SIGHUP to mosquitto \(pid \d+\)\)/m);
      // The reload is a signal, applied at mosquitto's next pass: the rules hold once it logs it.
      await broker.logged("Reloading config", undefined, mark);
      pub("console", "dev03/cmd", "after");
      // Its own publish is acknowledged on the same connection after anything the broker sent
      // it before: once acknowledged, neither "after" has reached it, nor will.
      await dev03.publishAsync("dev03/status", "after", { qos: 1 });
      await settle(app);
      // Still connected, to the same broker process, and deaf and mute.
      expect(dev03.connected).toBe(true);
      expect(readFileSync(path.join(project.dir, "broker", "mosquitto.pid"), "utf8")).toBe(pid);
      expect(received).toEqual(["dev03/status before", "dev03/cmd before"]);
      expect(app.lines()).toEqual(["dev03/status before", "dev03/cmd before", "dev03/cmd after"]);
    } finally {
      dev03.end(true);
      await app.stop();
    }
  });
});
