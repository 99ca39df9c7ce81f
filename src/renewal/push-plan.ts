/**
 * What `esp-certs push` publishes (docs/renewal.md): for each device of the store, its current
 * certificate (DER), retained, on `<id>/esp-certs/cert`; for a revoked device, an empty
 * retained message, which removes the one the broker kept.
 */
import { existsSync, readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { isApp } from "../config/app-identity.js";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { CertificateStore } from "../store/store.js";

export const certTopic = (id: string) => `${id}/esp-certs/cert`;
export const stateTopic = (id: string) => `${id}/esp-certs/state`;

export interface PushItem {
  id: string;
  topic: string;
  action: "publish" | "clear";
  payload: Buffer;
  /** The certificate published (lower-case hex, as status shows it) and its end. */
  serial?: string;
  notAfter?: string;
}

/** The store's devices (every client but the apps), each with what push sends it. `only`: --client. */
export function pushPlan(config: Config, only?: string[]): PushItem[] {
  const store = CertificateStore.open(config);
  const p = store.paths;
  // The store's records say which clients are devices and which are revoked (docs/store.md).
  const records = new Map(store.clients().filter((c) => c.role === "device").map((c) => [c.id, c]));
  const devices = [...records.keys()];
  for (const id of only ?? []) {
    if (!devices.includes(id)) {
      const why = isApp(config, id) ? `${id} is an app, not a device: it takes its certificate from the store's files` : `the store has no device "${id}"`;
      throw new EspCertsError(`Cannot push to "${id}"`, why, `Name devices of the store (${devices.join(", ") || "none yet"}); "esp-certs status" lists them.`);
    }
  }
  const items: PushItem[] = [];
  for (const id of only ?? devices) {
    if (records.get(id)?.state === "revoked") {
      items.push({ id, topic: certTopic(id), action: "clear", payload: Buffer.alloc(0) });
      continue;
    }
    const der = p.client(id).certDer;
    if (!existsSync(der)) continue;
    const bytes = readFileSync(der);
    const cert = new X509Certificate(bytes);
    items.push({ id, topic: certTopic(id), action: "publish", payload: bytes, serial: cert.serialNumber.toLowerCase(), notAfter: new Date(cert.validTo).toISOString() });
  }
  return items;
}
