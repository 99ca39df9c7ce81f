/**
 * esp-certs' own MQTT client (docs/renewal.md): mutual TLS as the app identity of the store,
 * with MQTT.js. Loaded with import() by the commands that talk to the broker, so that no
 * other command, and never the hook, loads MQTT.js.
 */
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import tls from "node:tls";
import type { IClientOptions, MqttClient } from "mqtt";
import { APP_ID } from "../config/app-identity.js";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { CertificateStore } from "../store/store.js";

export interface BrokerTarget {
  /** Where to dial: mqtt_host, or --broker-address. */
  host: string;
  port: number;
}

const CONNECT_TIMEOUT_MS = 10_000;

/** Why a connection failed, in the user's words, from Node's, TLS's and MQTT's codes. */
function whyNot(err: Error & { code?: string | number }): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "nothing listens there (is Mosquitto running, on this port?)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the name does not resolve on this machine";
    case "ETIMEDOUT":
    case "TIMEOUT":
      return "no answer in time";
    case 135:
    case 5:
      return "the broker refused esp-certs' client (not authorized: are the broker's certificates and access rules the store's?)";
    default:
      return typeof err.code === "string" && /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_VERIFY/.test(err.code)
        ? `its certificate is not the store's broker certificate (${err.code})`
        : err.message;
  }
}

/**
 * Connected, as the store's app client; an EspCertsError (exit 2) naming the address tried and
 * the fix when the broker cannot be reached or refuses it.
 */
export async function connectAsApp(config: Config, target: BrokerTarget, store = CertificateStore.open(config)): Promise<MqttClient> {
  const p = store.paths;
  const files = p.client(APP_ID);
  const where = `${target.host}:${target.port}`;
  for (const f of [p.caCertPem, files.certPem, files.keyPem]) {
    if (!existsSync(f)) {
      throw new EspCertsError(`Cannot connect to the broker as ${APP_ID}`, `${f} is missing`, 'Run "esp-certs generate": it issues esp-certs\' own client.');
    }
  }
  // MQTT.js hands its options to tls.connect, checkServerIdentity too.
  const options: IClientOptions & Pick<tls.ConnectionOptions, "checkServerIdentity"> = {
    protocol: "mqtts",
    host: target.host,
    port: target.port,
    ca: readFileSync(p.caCertPem),
    cert: readFileSync(files.certPem),
    key: readFileSync(files.keyPem),
    // The broker's certificate is checked for mqtt_host, whatever address is dialled.
    servername: isIP(config.mqttHost) === 0 ? config.mqttHost : undefined,
    checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(config.mqttHost, cert),
    rejectUnauthorized: true,
    clientId: APP_ID,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
  };
  const { connect } = await import("mqtt");
  const client = connect(options);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
      client.once("close", () => reject(Object.assign(new Error("the connection closed before the broker answered"), { code: "CLOSED" })));
    });
  } catch (err) {
    client.end(true);
    const e = err as Error & { code?: string | number };
    const address =
      target.host === config.mqttHost
        ? `give its address: --broker-address 127.0.0.1:${config.mqttPort} when it runs here (the certificate is still checked for ${config.mqttHost})`
        : "give the address it listens on: --broker-address ADDR[:PORT]";
    // Starting Mosquitto is no fix for a name that does not resolve, nor for a broker that answers.
    const code = String(e.code);
    const fix = ["ENOTFOUND", "EAI_AGAIN"].includes(code)
      ? `${address[0].toUpperCase()}${address.slice(1)}.`
      : ["ECONNREFUSED", "ETIMEDOUT", "TIMEOUT", "CLOSED"].includes(code)
        ? `Start Mosquitto with the broker folder (esp-certs broker), or ${address}.`
        : "Run esp-certs broker and restart Mosquitto, so that it serves this store's certificates and access rules.";
    throw new EspCertsError(`Cannot reach the broker at ${where}`, whyNot(e), fix);
  }
  client.removeAllListeners("error");
  client.removeAllListeners("close");
  // Errors after the connection are the caller's, through its publishes and subscriptions.
  client.on("error", () => {});
  return client;
}
