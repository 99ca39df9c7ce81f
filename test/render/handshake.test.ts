// A BearSSL client built from nothing but the rendered header completes mutual TLS and an
// MQTT CONNECT with a real Mosquitto running the generated broker certificate; and fails
// the way an ESP8266 would with an IP address as server name (56) or another CA (62).
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";
import { headerOf } from "../helpers/project.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireHeader, requireTool } from "../helpers/tools.js";
import { generatedProject, INI, run } from "./helpers.js";

const has = requireTool("mosquitto", "mosquitto") && requireTool("gcc", "gcc") && requireHeader("bearssl.h", "libbearssl-dev");
const source = fileURLToPath(new URL("./fixtures/mqtt_client.c", import.meta.url));

/** Renders the project's header and builds the test client against it. */
function buildClient(project: string, out: string): string {
  const r = runCli(["header"], { cwd: project });
  expect(r.status, r.stderr).toBe(0);
  run("gcc", ["-std=c99", "-Wall", "-Werror", `-I${path.dirname(headerOf(project))}`, source, "-lbearssl", "-o", out]);
  return out;
}

// The key-type combinations of issue 7: the default (RSA CA and broker, EC device key),
// the workshop's all-RSA set, and EC throughout.
describe.skipIf(!has).each([
  ["an RSA CA and broker key, EC device key", ""],
  ["an RSA CA and broker key, RSA device key", "client_key_type = rsa2048\n"],
  ["an EC CA and broker key, EC device key", "key_type = ec-p256\n"],
])("handshake with Mosquitto using only the header, with %s", (_name, setting) => {
  let project: string;
  let client: string;
  let broker: Broker;
  beforeAll(async () => {
    project = generatedProject(INI(setting));
    client = buildClient(project, path.join(tmpProject("esp-certs-cli-"), "mqtt_client"));
    const certs = path.join(project, "certs");
    broker = await startMosquitto({
      tls: { cafile: path.join(certs, "ca.crt.pem"), certfile: path.join(certs, "server.crt.pem"), keyfile: path.join(certs, "server.key.pem") },
    });
  });
  afterAll(async () => broker?.stop());

  const connect = (bin: string, ...serverName: string[]) =>
    // Asynchronous: the test's event loop keeps serving while the client runs.
    new Promise<{ status: number; out: string }>((resolve) => {
      execFile(bin, ["127.0.0.1", String(broker.port), ...serverName], { timeout: 15_000 }, (err, stdout) =>
        resolve({ status: err ? Number((err as { code?: number }).code ?? -1) : 0, out: stdout }),
      );
    });

  it("verifies the broker as ESP_CERTS_MQTT_HOST and gets CONNACK 0 as dev01", async () => {
    const r = await connect(client);
    expect(r.out).toBe("connack 0\n");
    expect(r.status).toBe(0);
    expect(broker.log()).toMatch(/dev01/);
  });

  it("fails with BearSSL error 56 when dialling the IP address as server name", async () => {
    const r = await connect(client, "127.0.0.1");
    expect(r.out).toBe("error 56\n"); // BR_ERR_X509_BAD_SERVER_NAME
  });

  it("fails with BearSSL error 62 with a header from another CA", async () => {
    const other = generatedProject(undefined, "esp-certs-other-");
    const otherClient = buildClient(other, path.join(other, "mqtt_client"));
    const r = await connect(otherClient);
    expect(r.out).toBe("error 62\n"); // BR_ERR_X509_NOT_TRUSTED
  });
});
