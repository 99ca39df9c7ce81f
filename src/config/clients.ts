// Rules about the client ids of [esp_certs] that more than one command applies.
import { EspCertsError } from "../errors.js";
import { APP_ID } from "./app-identity.js";
import type { Config } from "./types.js";
import { clientForEnv } from "./env-client.js";

/** Whether `id` is one of `clients` (configured in [esp_certs], so `generate` issues it). */
export function isConfiguredClient(clients: readonly string[], id: string): boolean {
  return clients.includes(id);
}

/** "not one of clients (dev01, dev02)": the words every command uses for an id outside `clients`. */
export function notOneOfClients(clients: readonly string[]): string {
  return `not one of clients (${clients.join(", ")})`;
}

/**
 * Refuses (exit 2) an id that is not one of `clients`. `what` and `fix` are the command's
 * own; `because` adds what follows from it (e.g. "so it has no certificate").
 */
export function requireConfiguredClient(clients: readonly string[], id: string, what: string, fix: string, because?: string): void {
  if (isConfiguredClient(clients, id)) return;
  // Not "add it to clients", which refuses it: it is an app, and no board holds an app's key.
  if (id === APP_ID) throw new EspCertsError(what, "it is esp-certs' own client (push, status --live): an app, never built into a board", `Name one of clients (${clients.join(", ")}).`);
  throw new EspCertsError(what, `it is ${notOneOfClients(clients)}${because === undefined ? "" : `, ${because}`}`, fix);
}

/**
 * Node-RED's client by default: the first of `apps`, else the first of `clients` that no
 * PlatformIO environment puts on a device (dev02 with the defaults). Sharing the device's id
 * would make the broker drop one connection each time the other connects.
 */
export function defaultAppClient(config: Config): string | undefined {
  if (config.apps.length > 0) return config.apps[0];
  const onDevices = new Set([clientForEnv(config), ...config.environments.map((e) => e.client).filter((c) => c !== undefined)]);
  return config.clients.find((c) => !onDevices.has(c));
}
