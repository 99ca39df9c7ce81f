// The store's clients as typed records (docs/store.md): who each is, where it came from, who
// holds its key, its current certificate and its state. Derived from the manifest, the
// certificates in clients/ and the CRL, in this one place.
import { clientRole, type ClientRole } from "../config/apps.js";
import { isConfiguredClient } from "../config/clients.js";
import type { Config } from "../config/config.js";
import { normalSerial } from "../pki/crl.js";
import type { ClientEntry, IssuedRecord, KeyHolder, Manifest } from "./manifest.js";
import type { ClientRevocation } from "./revocations.js";
import { DAY_MS } from "../units.js";

export type { ClientRole };
/** Configured: listed in `clients`, issued by `generate`. Provisioned: issued by `provision`, its identity in the board's flash. */
export type ClientOrigin = "configured" | "provisioned";
export type { KeyHolder };

export type CertState = "active" | "expiring" | "expired" | "revoked";

export const EXPIRING_WITHIN_DAYS = 30;

/** A certificate's state: revoked wins; then expired, or expiring within 30 days. */
export function certState(notAfter: Date, now: Date, revoked: boolean): CertState {
  if (revoked) return "revoked";
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return "expired";
  return left < EXPIRING_WITHIN_DAYS * DAY_MS ? "expiring" : "active";
}

export interface ClientRecord {
  id: string;
  role: ClientRole;
  origin: ClientOrigin;
  keyHolder: KeyHolder;
  /** The current certificate as the manifest records it; undefined when it has none (not issued yet, or revoked). */
  current?: ClientEntry;
  /** Undefined while the client has no certificate at all. */
  state?: CertState;
  revoked?: ClientRevocation;
  /** Every certificate the store issued for it, oldest first. */
  history: IssuedRecord[];
}

export interface ClientSources {
  config: Config;
  manifest: Manifest | undefined;
  /** Every client id the store knows (inventory.ts storeClients). */
  ids: string[];
  revoked: Map<string, ClientRevocation>;
  now: Date;
}

/** The records of every client the store knows, configured ones first in their configured order. */
export function clientRecords(s: ClientSources): ClientRecord[] {
  // One pass over the history for all clients: filtering it per client would be quadratic in a fleet.
  const histories = new Map<string, IssuedRecord[]>();
  for (const r of s.manifest?.history ?? []) {
    if (r.role !== "client") continue;
    const list = histories.get(r.id);
    if (list) list.push(r);
    else histories.set(r.id, [r]);
  }
  return s.ids.map((id) => recordOf(s, id, histories.get(id) ?? []));
}

export function clientRecord(s: ClientSources, id: string): ClientRecord {
  return recordOf(s, id, s.manifest?.history.filter((r) => r.role === "client" && r.id === id) ?? []);
}

function recordOf(s: ClientSources, id: string, history: IssuedRecord[]): ClientRecord {
  const current = s.manifest?.clients[id];
  const revoked = s.revoked.get(id);
  // A revocation counts when no newer certificate took its place (a --rekey makes it active again).
  const stillRevoked = revoked !== undefined && (current === undefined || normalSerial(current.serial) === revoked.serial);
  const state = stillRevoked ? "revoked" : current !== undefined ? certState(new Date(current.notAfter), s.now, false) : undefined;
  return {
    id,
    role: clientRole(s.config, id),
    origin: isConfiguredClient(s.config.clients, id) ? "configured" : "provisioned",
    keyHolder: current?.keyHolder ?? "store",
    current: stillRevoked ? undefined : current,
    state,
    revoked: stillRevoked ? revoked : undefined,
    history,
  };
}
