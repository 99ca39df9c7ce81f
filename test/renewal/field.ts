// What the field-renewal tests share: a project with a provisioned device, a real mosquitto with
// per-client access rules, and esp-certs' own client (MQTT.js) to read and write topics as an app.
import { createPrivateKey, randomBytes, webcrypto } from "node:crypto";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { expect } from "vitest";
import { issueLeaf } from "../../src/pki/issue.js";
import { keyMaterialFrom } from "../../src/pki/keys.js";
import { decodeRecord, SECTOR_SIZE } from "../../src/provision/record.js";
import { runCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { type Project, startFirmware } from "../firmware/rehearsal.js";

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

/** The store's current serial of device `id`, as `status` prints it. */
export function statusSerial(p: Project, id: string): string {
  const serial = /serial\s+(\S+)/.exec(mustCli(p, ["status"]).split(/^client /m).find((s) => s.startsWith(`${id} `)) ?? "")?.[1];
  if (serial === undefined) throw new Error(`status names no serial for ${id}`);
  return serial;
}

/** A serial as the device prints it: upper case, no leading zero bytes. */
export const deviceSerial = (serial: string) => serial.toUpperCase().replace(/^(00)+/, "");

/** The store's current serial of device `id`, as the device prints it. */
export function storeSerial(p: Project, id: string): string {
  return deviceSerial(statusSerial(p, id));
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

/**
 * The sequence numbers of the records in a flash image (ESP_CERTS_FLASH), its sectors in address
 * order: [at offset 0, at offset 4096]; -1 where no sound record is.
 */
export function sequences(file: string): [number, number] {
  const image = readFileSync(file);
  const seq = (sector: Buffer) => {
    try {
      return decodeRecord(sector).sequence ?? 0;
    } catch {
      return -1;
    }
  };
  return [seq(image.subarray(0, SECTOR_SIZE)), seq(image.subarray(SECTOR_SIZE, 2 * SECTOR_SIZE))];
}

/** A device of the rehearsal: its project, the broker, the firmware image, its id. */
export interface FieldDevice {
  project: Project;
  broker: Broker;
  image: string;
  id: string;
}

/**
 * A power cut at the 1st, 2nd, ... flash erase or page write of the renewal the broker holds
 * (`serial`), each run from a copy of `base`, until a run is not cut. The cut run must leave the
 * image's sector in use (`inUse`: 0 at offset 0, 1 at offset 4096) as it was; the next boot must
 * come up from flash and connect, and hold the renewal after it (taken in the cut run, or taken
 * again now). The run that is not cut leaves the records' sequence numbers `whole`
 * (see sequences()). Returns "N:cut" / "N:done".
 */
export async function cutAtEveryWrite(dev: FieldDevice, base: string, inUse: 0 | 1, serial: string, whole: [number, number]): Promise<string[]> {
  const { project, broker, image, id } = dev;
  const sectorInUse = (bytes: Buffer) => bytes.subarray(inUse * SECTOR_SIZE, (inUse + 1) * SECTOR_SIZE);
  const outcomes: string[] = [];
  for (let cut = 1; cut < 50; cut++) {
    const flash = path.join(project.dir, `${id}-cut-${path.basename(image)}-${path.basename(base, ".bin")}-${cut}.bin`);
    copyFileSync(base, flash);
    // The broker holds the renewed certificate (retained): the device takes it after connecting.
    // Until it is cut (it ends by itself) or has taken the renewal: a bound for a loaded machine, not a pace.
    const first = startFirmware(image, { ESP_CERTS_FLASH: flash, ESP_CERTS_FLASH_CUT: String(cut), ESP_CERTS_RUN_SECONDS: "120" });
    const completed = await first.waitFor(/^\[esp-certs\] cred renewed /, 0, 90_000).then(
      () => true,
      () => false,
    );
    await first.stop();
    expect(sectorInUse(readFileSync(flash)).equals(sectorInUse(readFileSync(base))), `cut ${cut}: the sector in use (${inUse}) was written`).toBe(true);
    // The state the next boot publishes, and nothing older.
    await clearRetained(project, broker.port, `${id}/esp-certs/state`);
    const next = startFirmware(image, { ESP_CERTS_FLASH: flash, ESP_CERTS_RUN_SECONDS: "120" });
    let state: { serial: string } | undefined;
    try {
      await next.waitFor(new RegExp(`^\\[esp-certs\\] mqtt ok client=${id}$`), 0, 60_000);
      // Taken in the cut run, or now (then it connects again): it says so once the broker holds its state.
      for (const end = Date.now() + 60_000; state?.serial !== serial && Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
        const held = await retained(project, broker.port, `${id}/esp-certs/state`);
        state = held === undefined || held.length === 0 ? undefined : (JSON.parse(held.toString()) as { serial: string });
      }
    } finally {
      await next.stop();
    }
    expect(next.lines(), `cut ${cut}`).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(` boot client=${id} .* cred=flash$`)), `[esp-certs] mqtt ok client=${id}`]));
    expect(state?.serial, `cut ${cut}`).toBe(serial);
    outcomes.push(`${cut}:${completed ? "done" : "cut"}`);
    if (completed) expect(sequences(flash)).toEqual(whole);
    rmSync(flash);
    if (completed) break;
  }
  // One erase and a few page writes, each cut once, then a run that is not cut.
  expect(outcomes.length).toBeGreaterThanOrEqual(3);
  expect(outcomes.at(-1)).toMatch(/done$/);
  return outcomes;
}
