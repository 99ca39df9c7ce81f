// What the field-renewal tests share: a project with a provisioned device, a real mosquitto with
// per-client access rules, and esp-certs' own client (MQTT.js) to read and write topics as an app.
import { createPrivateKey, randomBytes, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { issueLeaf } from "../../src/pki/issue.js";
import { keyMaterialFrom } from "../../src/pki/keys.js";
import { runCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import type { Project } from "../firmware/rehearsal.js";

export function cli(p: Project, args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(args, { cwd: p.dir, env });
}

export function mustCli(p: Project, args: string[]): string {
  const r = cli(p, args);
  if (r.status !== 0) throw new Error(`esp-certs ${args.join(" ")} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * Mosquitto with the store's generated access rules (esp-certs broker): mutual TLS, the
 * certificate's CN as user name and client id, a device confined to `<id>/#`, an app (esp-certs) everywhere.
 */
export async function startBrokerWithRules(p: Project): Promise<Broker> {
  mustCli(p, ["broker", "--paths", "local"]);
  const acl = path.join(p.dir, "broker", "acl");
  if (!/^user esp-certs$/m.test(readFileSync(acl, "utf8"))) throw new Error(`esp-certs is not an app in the generated ${acl}`);
  const config = [
    "listener 1883 127.0.0.1",
    `cafile ${p.caCert}`,
    `certfile ${p.serverCert}`,
    `keyfile ${p.serverKey}`,
    "require_certificate true",
    "use_identity_as_username true",
    "use_username_as_clientid true",
    "allow_anonymous false",
    `acl_file ${acl}`,
  ].join("\n");
  return startMosquitto({ config });
}

/** An MQTT.js client of the store (`id`: its certificate and key) on the broker, protocol 5. */
export async function storeClient(p: Project, port: number, id: string): Promise<MqttClient> {
  const certs = path.join(p.dir, "certs");
  return mqtt.connectAsync({
    protocol: "mqtts",
    host: "127.0.0.1",
    port,
    servername: "win10.local",
    ca: readFileSync(p.caCert),
    cert: readFileSync(path.join(certs, "clients", `${id}.crt.pem`)),
    key: readFileSync(path.join(certs, "clients", `${id}.key.pem`)),
    clientId: id,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
}

/**
 * The retained message of `topic`, or undefined when there is none, read as esp-certs' own
 * client. Connects for this alone: the broker takes the client id from the certificate, so a
 * second connection as esp-certs (push's) would end a long-lived one. The broker queues the
 * retained message as it takes the subscription; a marker published after that (esp-certs may
 * use every topic) arrives after it, so the marker's arrival first means there is none.
 */
export async function retained(p: Project, port: number, topic: string): Promise<Buffer | undefined> {
  const client = await storeClient(p, port, "esp-certs");
  const marker = `esp-certs/marker/${randomBytes(6).toString("hex")}`;
  try {
    const got = new Promise<Buffer | undefined>((resolve) => {
      client.on("message", (t, payload, packet) => {
        if (t === topic && packet.retain) resolve(payload);
        if (t === marker) resolve(undefined);
      });
    });
    await client.subscribeAsync([topic, marker], { qos: 1 });
    await client.publishAsync(marker, "", { qos: 1 });
    return await got;
  } finally {
    await client.endAsync(true);
  }
}

/** Removes the retained message of `topic` (an empty retained message), as esp-certs' own client. */
export async function clearRetained(p: Project, port: number, topic: string): Promise<void> {
  const client = await storeClient(p, port, "esp-certs");
  try {
    await client.publishAsync(topic, "", { qos: 1, retain: true });
  } finally {
    await client.endAsync(true);
  }
}

/** A client certificate signed by `ca`'s CA (default `p`'s) as if issued at `issuedAt`, for `days`, on `keyPem`'s key. */
export async function signedFor(p: Project, opts: { cn: string; keyPem: string; issuedAt?: Date; days?: number; ca?: Project }): Promise<Buffer> {
  const ca = opts.ca ?? p;
  const caKey = createPrivateKey({ key: readFileSync(path.join(ca.dir, "certs", "ca.key.pem")), passphrase: TEST_PASSPHRASE });
  const crypto = webcrypto as unknown as Crypto;
  const issued = await issueLeaf(
    {
      role: "client",
      subject: { country: "GB", state: "DOR", locality: "Bournemouth", organization: "MOSQUITTO" },
      commonName: opts.cn,
      days: opts.days ?? 825,
      publicKey: (await keyMaterialFrom(createPrivateKey(readFileSync(opts.keyPem)), crypto, opts.keyPem)).publicKey,
      keyType: "ec-p256",
      usedSerials: new Set(),
    },
    { der: readFileSync(path.join(ca.dir, "certs", "ca.crt.der")), key: await keyMaterialFrom(caKey, crypto, "ca.key.pem") },
    { crypto, now: () => opts.issuedAt ?? new Date(), randomBytes: (n) => randomBytes(n) },
  );
  return issued.der;
}
