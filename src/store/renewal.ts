/**
 * Renewal on a client's own key (docs/renewal.md): the rules `generate --renew` checks its
 * ids against, and how the store tells a renewal from a new key.
 */
import { EspCertsError } from "../errors.js";
import type { Manifest } from "./manifest.js";

/** Refuses --renew ids the store does not hold, and an id given to both --renew and --rekey. */
export function checkRenewIds(renew: string[], rekey: string[], known: string[]): void {
  for (const id of renew) {
    if (!known.includes(id)) {
      throw new EspCertsError(`Cannot renew "${id}"`, `the store has no client "${id}" (clients: ${known.join(", ")})`, 'Name one of those; "esp-certs status" lists every client.');
    }
    if (rekey.includes(id)) {
      throw new EspCertsError(`Cannot both renew and rekey "${id}"`, "--renew keeps its key, --rekey makes a new one", "Give it to one of the two.");
    }
  }
}

/** An earlier certificate of a client on the key of its current one, still valid. */
export interface StillValid {
  serial: string;
  notAfter: string;
}

/**
 * The certificates `id`'s current one renewed on the same key (and those they renewed), that
 * have not ended and are not revoked: a device holding one of them still connects.
 */
export function stillValidRenewed(manifest: Manifest | undefined, id: string, now: Date): StillValid[] {
  const current = manifest?.clients[id];
  if (manifest === undefined || current === undefined) return [];
  const bySerial = new Map(manifest.history.filter((r) => r.role === "client" && r.id === id).map((r) => [r.serial, r]));
  const out: StillValid[] = [];
  const seen = new Set<string>();
  for (let serial = bySerial.get(current.serial)?.renewalOf; serial !== undefined && !seen.has(serial); serial = bySerial.get(serial)?.renewalOf) {
    seen.add(serial);
    const r = bySerial.get(serial);
    if (r !== undefined && r.revoked === undefined && Date.parse(r.notAfter) > now.getTime()) out.push({ serial, notAfter: r.notAfter });
  }
  return out;
}
