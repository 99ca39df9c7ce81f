import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";

const hasMosquitto = requireTool("mosquitto", "mosquitto") && requireTool("mosquitto_pub", "mosquitto-clients");

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Node-RED nodes are free-form JSON, read field by field
type Node = Record<string, any> & { id: string; type: string };

const STORE = { prefix: "esp-certs-nodered-", generate: true };


const readFlow = (dir: string): Node[] => JSON.parse(readFileSync(path.join(dir, "nodered-flow.json"), "utf8"));
const one = (flow: Node[], type: string) => {
  const found = flow.filter((n) => n.type === type);
  expect(found).toHaveLength(1);
  return found[0];
};

/**
 * What Node-RED hands to mqtt.js for this flow: 10-mqtt.js builds the URL from usetls,
 * broker and port and takes clientid/keepalive/cleansession; the tls-config node
 * (05-tls.js addTLSOptions) reads its cert/key/ca *files*, sets servername, and
 * rejectUnauthorized from verifyservercert.
 */
function nodeRedMqttOptions(flow: Node[]): { url: string; options: mqtt.IClientOptions } {
  const b = one(flow, "mqtt-broker");
  const options: mqtt.IClientOptions = { clientId: b.clientid, keepalive: Number(b.keepalive), clean: b.cleansession, reconnectPeriod: 0 };
  if (b.protocolVersion == 5) options.protocolVersion = 5;
  const t = flow.find((n) => n.id === b.tls);
  if (b.usetls && t) {
    if (t.cert) options.cert = readFileSync(t.cert.trim());
    if (t.key) options.key = readFileSync(t.key.trim());
    if (t.ca) options.ca = readFileSync(t.ca.trim());
    if (t.servername) options.servername = t.servername;
    options.rejectUnauthorized = t.verifyservercert;
  }
  return { url: `${b.usetls ? "mqtts" : "mqtt"}://${b.broker}:${b.port}`, options };
}

describe("esp-certs nodered", () => {
  it("writes tls-config and mqtt-broker nodes for dev02 with file paths, and an mqtt in -> debug pair", () => {
    const dir = project(STORE);
    const r = runCli(["nodered"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const flow = readFlow(dir);
    const tls = one(flow, "tls-config");
    const broker = one(flow, "mqtt-broker");
    const input = one(flow, "mqtt in");
    const debug = one(flow, "debug");
    const tab = one(flow, "tab");
    expect(tls).toMatchObject({
      cert: path.join(dir, "certs", "clients", "dev02.crt.pem"),
      key: path.join(dir, "certs", "clients", "dev02.key.pem"),
      ca: path.join(dir, "certs", "ca.crt.pem"),
      certname: "",
      keyname: "",
      caname: "",
      servername: "win10.local",
      verifyservercert: true,
    });
    expect(broker).toMatchObject({ broker: "win10.local", port: "8883", usetls: true, tls: tls.id, clientid: "dev02", protocolVersion: "4" });
    expect(input).toMatchObject({ topic: "dev01/#", broker: broker.id, z: tab.id, wires: [[debug.id]] });
    expect(debug.z).toBe(tab.id);
    // Config nodes are global; ids look like Node-RED's own.
    expect(tls.z).toBeUndefined();
    for (const n of flow) expect(n.id).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(flow.map((n) => n.id)).size).toBe(flow.length);
    // Nothing secret travels in the flow itself.
    expect(JSON.stringify(flow)).not.toMatch(/PRIVATE KEY/);
  });

  it("is stable: a second run changes nothing, so a re-import replaces the nodes", () => {
    const dir = project(STORE);
    runCli(["nodered"], { cwd: dir });
    const first = readFileSync(path.join(dir, "nodered-flow.json"), "utf8");
    const again = runCli(["nodered", "--json"], { cwd: dir });
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, client: "dev02" });
    expect(readFileSync(path.join(dir, "nodered-flow.json"), "utf8")).toBe(first);
  });

  it("takes --client, --out, --host and --files-dir", () => {
    const dir = project({ ...STORE, extra: "clients = dev01, dev02, dash\n" });
    const r = runCli(["nodered", "--client", "dash", "--out", "flows/dash.json", "--host", "mosquitto", "--files-dir", "/data/esp-certs"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const flow: Node[] = JSON.parse(readFileSync(path.join(dir, "flows/dash.json"), "utf8"));
    expect(one(flow, "tls-config")).toMatchObject({ cert: "/data/esp-certs/clients/dash.crt.pem", ca: "/data/esp-certs/ca.crt.pem", servername: "mosquitto" });
    expect(one(flow, "mqtt-broker")).toMatchObject({ broker: "mosquitto", clientid: "dash" });
  });

  it("takes a --host of server_ips however it is spelled, and sends no IP address as TLS server name", () => {
    const dir = project({ ...STORE, extra: "server_ips = ::1\n" });
    const r = runCli(["nodered", "--host", "0:0:0:0:0:0:0:1"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(one(readFlow(dir), "mqtt-broker")).toMatchObject({ broker: "0:0:0:0:0:0:0:1" });
    // Node warns (DEP0123) and will ignore an address as SNI; Node-RED omits an empty one.
    expect(one(readFlow(dir), "tls-config")).toMatchObject({ servername: "" });
  });

  it("writes into a folder given as --out", () => {
    const dir = project(STORE);
    mkdirSync(path.join(dir, "flows"));
    const r = runCli(["nodered", "--out", "flows"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(one(JSON.parse(readFileSync(path.join(dir, "flows", "nodered-flow.json"), "utf8")), "tls-config").servername).toBe("win10.local");
  });

  it("refuses a host the broker certificate does not name, a lone client shared with the device, and esp-certs' own client (exit 2)", () => {
    const dir = project(STORE);
    const badHost = runCli(["nodered", "--host", "elsewhere.local"], { cwd: dir });
    expect(badHost.status).toBe(2);
    expect(badHost.stderr).toMatch(/names only/);
    const single = project({ ...STORE, extra: "clients = dev01\n" });
    const r = runCli(["nodered"], { cwd: single });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Cannot choose a client for Node-RED/);
    // esp-certs' own client is never in a flow: push would push Node-RED off the broker.
    const own = runCli(["nodered", "--client", "esp-certs"], { cwd: dir });
    expect(own.status).toBe(2);
    expect(own.stderr).toMatch(/Cannot write a Node-RED flow for "esp-certs": it is esp-certs' own client/);
    expect(existsSync(path.join(dir, "nodered-flow.json"))).toBe(false);
  });
});

describe.skipIf(!hasMosquitto)("the flow's settings, as Node-RED passes them to mqtt.js", () => {
  let dir: string;
  let broker: Broker;
  beforeAll(async () => {
    dir = project(STORE);
    expect(runCli(["broker", "--paths", "local"], { cwd: dir }).status).toBe(0);
    expect(runCli(["nodered"], { cwd: dir }).status).toBe(0);
    broker = await startMosquitto({ config: readFileSync(path.join(dir, "broker/mosquitto.conf"), "utf8") });
  });
  afterAll(() => broker?.stop());

  it("connect to the generated broker and receive what the device publishes on dev01/#", async () => {
    const flow = readFlow(dir);
    const { url, options } = nodeRedMqttOptions(flow);
    expect(url).toBe("mqtts://win10.local:8883");
    // win10.local is the broker here: dial loopback, keep checking the name win10.local.
    const client = mqtt.connect(`mqtts://127.0.0.1:${broker.port}`, options);
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
      });
      await client.subscribeAsync(one(flow, "mqtt in").topic, { qos: 0 });
      const got = new Promise<string>((resolve) => client.once("message", (topic, payload) => resolve(`${topic} ${payload}`)));
      const pub = spawnSync(
        "mosquitto_pub",
        ["-h", "localhost", "-p", String(broker.port), "--cafile", path.join(dir, "certs/ca.crt.pem"), "--cert", path.join(dir, "certs/clients/dev01.crt.pem"), "--key", path.join(dir, "certs/clients/dev01.key.pem"), "-i", "dev01", "-t", "dev01/hello", "-m", "world"],
        { encoding: "utf8", timeout: 10_000 },
      );
      expect(pub.status, pub.stderr).toBe(0);
      expect(await got).toBe("dev01/hello world");
      expect(broker.log()).toMatch(/as dev02 .*u'dev02'/);
    } finally {
      await client.endAsync();
    }
  });
});
