import { readFileSync } from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";

requireTool("mosquitto", "mosquitto");

function store(): string {
  const dir = project();
  const r = runCli(["generate"], { cwd: dir });
  if (r.status !== 0) throw new Error(r.stderr);
  return dir;
}

/** An MQTT CONNECT over TLS that checks the broker as `servername` while dialling 127.0.0.1. */
function connect(port: number, tls: { ca: Buffer; cert?: Buffer; key?: Buffer; servername: string }): Promise<string> {
  return new Promise((resolve) => {
    const client = mqtt.connect({
      protocol: "mqtts",
      host: "127.0.0.1",
      port,
      clientId: "test-client",
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      rejectUnauthorized: true,
      ...tls,
    });
    const done = (outcome: string) => {
      client.end(true);
      resolve(outcome);
    };
    client.on("connect", (connack) => done(`connack ${connack.returnCode ?? 0}`));
    client.on("error", (err) => done(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    client.on("close", () => done("closed"));
  });
}

describe("a real mosquitto with the generated certificates", () => {
  let dir: string;
  let other: string;
  let broker: Broker;
  const file = (d: string, f: string) => readFileSync(path.join(d, "certs", f));

  beforeAll(async () => {
    dir = store();
    other = store();
    const c = (f: string) => path.join(dir, "certs", f);
    broker = await startMosquitto({ tls: { cafile: c("ca.crt.pem"), certfile: c("server.crt.pem"), keyfile: c("server.key.pem") } });
  });
  afterAll(async () => broker?.stop());

  /** TLS options of client dev02 from `certsOf`, trusting this store's CA, checking the broker as `servername`. */
  const dev02 = (certsOf: string, servername = "win10.local") => ({
    ca: file(dir, "ca.crt.pem"),
    cert: file(certsOf, "clients/dev02.crt.pem"),
    key: file(certsOf, "clients/dev02.key.pem"),
    servername,
  });

  it("accepts dev02 checking the broker as win10.local, and knows it as dev02", async () => {
    expect(await connect(broker.port, dev02(dir))).toBe("connack 0");
    // use_identity_as_username: the certificate's CN is the MQTT user.
    expect(broker.log()).toMatch(/u'dev02'|as test-client .*u'dev02'/);
  });

  it("rejects a client with no certificate", async () => {
    expect(await connect(broker.port, { ca: file(dir, "ca.crt.pem"), servername: "win10.local" })).not.toBe("connack 0");
  });

  it("rejects a client signed by another CA", async () => {
    expect(await connect(broker.port, dev02(other))).not.toBe("connack 0");
  });

  it("is refused by a client that checks the broker under a name not in its SANs", async () => {
    expect(await connect(broker.port, dev02(dir, "elsewhere.local"))).toBe("error ERR_TLS_CERT_ALTNAME_INVALID");
  });
});
