/**
 * What the field holds (docs/renewal.md): each device publishes, retained, on
 * `<id>/esp-certs/state` the certificate it connects with; push leaves the store's current one,
 * retained, on `<id>/esp-certs/cert`. Read back through the broker as esp-certs' own client and
 * set against the store: `status --live` and `doctor` say where a renewal stands.
 */
import { X509Certificate } from "node:crypto";
import type { MqttClient } from "mqtt";
import { isApp } from "../config/app-identity.js";
import type { Config } from "../config/config.js";
import type { BrokerTarget } from "../mqtt/app-client.js";
import { CertificateStore } from "../store/store.js";

export interface DeviceState {
  serial: string;
  /** Unix seconds. */
  until: number;
  cred: string;
}

/** A state message as the firmware writes it, or undefined when it is not one. */
export function parseState(payload: Buffer): DeviceState | undefined {
  try {
    const v = JSON.parse(payload.toString("utf8")) as Record<string, unknown>;
    if (typeof v.serial === "string" && /^[0-9a-f]+$/i.test(v.serial) && typeof v.until === "number" && typeof v.cred === "string") {
      return { serial: v.serial, until: v.until, cred: v.cred };
    }
  } catch {
    // not JSON: not a state message
  }
  return undefined;
}

/** Serials compared as numbers: case and leading zeros aside. */
export const sameSerial = (a: string, b: string) => a.toLowerCase().replace(/^0+/, "") === b.toLowerCase().replace(/^0+/, "");

export type FieldVerdict =
  | { kind: "current"; state: DeviceState }
  | { kind: "pushed-not-taken"; state: DeviceState; daysLeft: number }
  | { kind: "field-ends"; state: DeviceState; daysLeft: number }
  | { kind: "no-state" };

const DAY_S = 24 * 60 * 60;

/** Where one device stands: its field certificate against the store's current one and what push left. Pure. */
export function fieldVerdict(storeSerial: string, state: DeviceState | undefined, pushedSerial: string | undefined, now: Date): FieldVerdict {
  if (state === undefined) return { kind: "no-state" };
  if (sameSerial(state.serial, storeSerial)) return { kind: "current", state };
  const daysLeft = Math.floor((state.until - now.getTime() / 1000) / DAY_S);
  if (pushedSerial !== undefined && sameSerial(pushedSerial, storeSerial)) return { kind: "pushed-not-taken", state, daysLeft };
  return { kind: "field-ends", state, daysLeft };
}

/** One line for a person. */
export function describeField(id: string, v: FieldVerdict): string {
  switch (v.kind) {
    case "current":
      return `${id}: holds the store's current certificate (${v.state.serial}, from ${v.state.cred})`;
    case "pushed-not-taken":
      return `${id}: renewal pushed, not taken yet; its certificate ${v.state.serial} ends in ${v.daysLeft} days (is it online? its serial lines say why: cred renew fail reason=...)`;
    case "field-ends":
      return `${id}: its certificate ${v.state.serial} ends in ${v.daysLeft} days and the store's newer one was not pushed: esp-certs push --client ${id}`;
    case "no-state":
      return `${id}: no state at the broker (never connected with this firmware, or the broker forgot its retained messages)`;
  }
}

export interface FieldRead {
  states: Map<string, DeviceState>;
  /** Serial of the certificate each device's retained cert message holds. */
  pushed: Map<string, string>;
}

/**
 * The retained state and certificate messages of every device, as the broker hands them out
 * right after the subscription; read until `quietMs` pass without one.
 */
export async function readField(client: MqttClient, quietMs = 700): Promise<FieldRead> {
  const out: FieldRead = { states: new Map(), pushed: new Map() };
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(resolve, quietMs);
    };
    client.on("message", (topic, payload, packet) => {
      if (!packet.retain) return;
      const m = /^([^/]+)\/esp-certs\/(state|cert)$/.exec(topic);
      if (m && m[2] === "state") {
        const s = parseState(payload);
        if (s) out.states.set(m[1], s);
      } else if (m && payload.length > 0) {
        try {
          out.pushed.set(m[1], new X509Certificate(payload).serialNumber);
        } catch {
          // not a certificate: nothing pushed by esp-certs
        }
      }
      quiet();
    });
    void client.subscribeAsync(["+/esp-certs/state", "+/esp-certs/cert"], { qos: 1 }).then(quiet, () => resolve());
  });
  clearTimeout(timer);
  return out;
}

/** Each active device of the store (one with a current certificate) and where its field stands. */
export async function fieldStatus(config: Config, target: BrokerTarget, now = new Date()): Promise<{ broker: string; devices: ({ id: string } & FieldVerdict)[] }> {
  const store = CertificateStore.open(config);
  const manifest = store.manifest();
  const devices = store.clientIds().filter((id) => !isApp(config, id) && manifest?.clients[id] !== undefined);
  const { connectAsApp } = await import("../mqtt/app-client.js");
  const client = await connectAsApp(config, target, store);
  try {
    const field = await readField(client);
    return {
      broker: `${target.host}:${target.port}`,
      devices: devices.map((id) => ({ id, ...fieldVerdict(manifest!.clients[id].serial, field.states.get(id), field.pushed.get(id), now) })),
    };
  } finally {
    await client.endAsync();
  }
}
