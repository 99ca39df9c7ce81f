import { normalSerial as normalHex, type Revoked } from "../pki/crl.js";
import type { IssuedRecord, Manifest } from "./manifest.js";
import { REVOCATION_REASONS, type RevocationReason } from "../pki/reasons.js";

/**
 * The manifest's history and the CRL are two records of the same revocations, and they must
 * agree (docs/revocation.md, "Two records"): a revocation either holds is never dropped by the
 * other. Pure functions over the manifest; the CRL's side is in crl-trust.ts.
 */

/** A client certificate the history holds, issued under the manifest's CA (a new CA re-issues every leaf). */
function underCurrentCa(m: Manifest, r: IssuedRecord): r is IssuedRecord & { role: "client"; id: string } {
  return r.role === "client" && r.issuedAt >= m.ca.issuedAt;
}

/** Every revocation the manifest records of this CA's client certificates, as CRL entries. */
export function recordedRevocations(m: Manifest | undefined): Revoked[] {
  if (m === undefined) return [];
  return m.history
    .filter((r) => underCurrentCa(m, r) && r.revoked !== undefined)
    .map((r) => ({ serial: normalHex(r.serial), at: new Date(r.revoked!.at), reason: knownReason(r.revoked!.reason) }));
}

/** The recorded revocations that `entries` (a CRL's) leave out. */
export function forgotten(entries: Revoked[], m: Manifest | undefined): Revoked[] {
  const listed = new Set(entries.map((e) => e.serial));
  return recordedRevocations(m).filter((r) => !listed.has(r.serial));
}

/** A CRL's entries with what it forgot added: what every CRL esp-certs signs lists. */
export function withRecorded(entries: Revoked[], m: Manifest | undefined): Revoked[] {
  return [...entries, ...forgotten(entries, m)];
}

/** A client certificate of the history that still works at the broker: not revoked, not expired, this CA's. */
export interface ValidRecord {
  id: string;
  serial: string;
  notAfter: string;
  /** Undefined for the id's current certificate. */
  replacedBy?: string;
}

export function stillValid(m: Manifest | undefined, now: Date): ValidRecord[] {
  if (m === undefined) return [];
  return m.history
    .filter((r) => underCurrentCa(m, r) && r.revoked === undefined && new Date(r.notAfter) > now)
    .map((r) => ({ id: (r as { id: string }).id, serial: normalHex(r.serial), notAfter: r.notAfter, replacedBy: r.replacedBy }));
}

/** Certificates replaced by a newer one and still valid (a renewal on the same key keeps the old one so). */
export function supersededValid(m: Manifest | undefined, now: Date): ValidRecord[] {
  return stillValid(m, now).filter((r) => r.replacedBy !== undefined);
}

/**
 * The manifest with every still-valid certificate of `id` other than `current` revoked as
 * `superseded`: a new key replaced them, so the board that holds the old key must not connect
 * with it. Returns the manifest and what it revoked.
 */
export function supersede(m: Manifest, id: string, current: string, now: Date): { manifest: Manifest; revoked: Revoked[] } {
  const cur = normalHex(current);
  const targets = new Set(stillValid(m, now).filter((r) => r.id === id && r.serial !== cur).map((r) => r.serial));
  if (targets.size === 0) return { manifest: m, revoked: [] };
  const revocation = { at: now.toISOString(), reason: "superseded" };
  const history = m.history.map((r) => (r.role === "client" && targets.has(normalHex(r.serial)) ? { ...r, revoked: revocation } : r));
  return { manifest: { ...m, history }, revoked: [...targets].map((serial) => ({ serial, at: now, reason: "superseded" })) };
}

/** A reason the CRL can carry; an older store's "unspecified" has no code of ours. */
const knownReason = (reason: string): RevocationReason | undefined => (reason in REVOCATION_REASONS ? (reason as RevocationReason) : undefined);
