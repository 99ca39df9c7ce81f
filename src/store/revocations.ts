import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { isConfiguredClient } from "../config/clients.js";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import type { StoreAction } from "./ensure.js";
import { clientId } from "../pki/identity.js";
import { readManifest } from "./manifest.js";
import { recordedRevocations } from "./revocation-record.js";
import { renameDurably, writeFileAtomic } from "../fs/atomic.js";
import { writeManifest } from "./manifest-write.js";
import { normalSerial, readCrl, type ReadCrl, type RevocationReason } from "../pki/crl.js";
import { storePaths, type StorePaths } from "./paths.js";

/**
 * What the store says is revoked (docs/revocation.md). The signed CRL is the record: a serial is
 * revoked once certs/ca.crl.pem lists it, and from no earlier moment, so a `revoke` killed at
 * any point leaves a client either revoked with a CRL that says so, or not revoked at all. The
 * revoked certificate's files are then moved to certs/revoked/<id>-<serial>/, which says whose
 * serial it was; a run that finds them still in certs/clients/ finishes the move.
 */

export interface ClientRevocation {
  id: string;
  serial: string;
  at: Date;
  reason?: RevocationReason;
}

export interface StoreCrl {
  /** The parsed CRL; undefined when the store has none (nothing was ever revoked) or it is unreadable. */
  crl?: ReadCrl;
  /** Why the CRL file cannot be used. */
  error?: string;
}

export function readStoreCrl(p: StorePaths): StoreCrl {
  if (!existsSync(p.crlPem)) return {};
  try {
    return { crl: readCrl(readFileSync(p.crlPem, "utf8")) };
  } catch (err) {
    return { error: `it is not a readable CRL (${(err as Error).message})` };
  }
}

/** The store's CRL, or an error (exit 2) when a file is there that cannot be read: revocations are never dropped. */
export function requireStoreCrl(p: StorePaths): ReadCrl | undefined {
  const s = readStoreCrl(p);
  if (s.error !== undefined) {
    throw new EspCertsError(`Cannot read ${p.crlPem}`, s.error, `Restore it from your backup; it lists every revoked certificate, and esp-certs will not sign a CRL that forgets them.`);
  }
  return s.crl;
}

const CLIENT_FILES = (p: StorePaths, id: string) => {
  const c = p.client(id);
  // The key first and the certificate last: the certificate left in clients/ names the move to finish.
  return [c.keyDer, c.keyPem, c.certDer, c.certPem];
};

export const revokedDir = (p: StorePaths) => path.join(p.dir, "revoked");
export const archiveDir = (p: StorePaths, id: string, serial: string) => path.join(revokedDir(p), `${id}-${serial}`);

function serialOf(pemFile: string): string | undefined {
  try {
    return normalSerial(new X509Certificate(readFileSync(pemFile)).serialNumber);
  } catch {
    return undefined;
  }
}

/** The certificates moved aside: id and serial, from the folder names. */
function archived(p: StorePaths): { id: string; serial: string }[] {
  const dir = revokedDir(p);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^(.+)-([0-9a-f]+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: m[1], serial: m[2] }));
}

/**
 * Every client whose current certificate is revoked: its certificate in certs/clients/ is listed
 * by the CRL (a revoke not finished), or it has none there and the CRL lists one moved aside.
 * A client issued again (`generate --rekey`) has a certificate the CRL does not list: active.
 */
export function revokedClients(p: StorePaths, crl: ReadCrl | undefined, ids: Iterable<string>): Map<string, ClientRevocation> {
  const out = new Map<string, ClientRevocation>();
  // A client revoked under an earlier CA stays revoked: its entry is in that CA's CRL, in the backup.
  // The manifest's history too: a CRL deleted or rolled back does not undo a revocation (crl-trust.ts).
  const recorded = recordedRevocations(readManifest(p.manifest));
  const listed = new Map([...backupCrls(p).flatMap((c) => c.revoked), ...recorded, ...(crl?.revoked ?? [])].map((r) => [r.serial, r] as const));
  if (listed.size === 0) return out;
  // revoked/ is read once and grouped by id: once per client would be quadratic in a fleet.
  const aside = new Map<string, string[]>();
  for (const a of archived(p)) aside.set(a.id, [...(aside.get(a.id) ?? []), a.serial]);
  const known = new Set([...ids, ...aside.keys(), ...clientIdsInStore(p)]);
  for (const id of known) {
    const current = existsSync(p.client(id).certPem) ? serialOf(p.client(id).certPem) : undefined;
    const candidates = current !== undefined ? [current] : (aside.get(id) ?? []);
    const hits = candidates.map((s) => listed.get(s)).filter((r) => r !== undefined);
    const latest = hits.sort((a, b) => b.at.getTime() - a.at.getTime())[0];
    if (latest) out.set(id, { id, serial: latest.serial, at: latest.at, reason: latest.reason });
  }
  return out;
}

/** The CRL files of the CAs that --new-ca moved to certs/backup/, oldest first. */
function backupCrlFiles(p: StorePaths): string[] {
  if (!existsSync(p.backupDir)) return [];
  return readdirSync(p.backupDir)
    .sort()
    .map((d) => path.join(p.backupDir, d, path.basename(p.crlPem)))
    .filter((f) => existsSync(f));
}

function readBackupCrl(file: string): ReadCrl | undefined {
  try {
    return readCrl(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** The CRLs of the CAs that --new-ca moved to certs/backup/, oldest first; unreadable ones are left to unreadableBackupCrls. */
function backupCrls(p: StorePaths): ReadCrl[] {
  return backupCrlFiles(p).flatMap((f) => readBackupCrl(f) ?? []);
}

/**
 * The warning to give when an earlier CA's CRL in certs/backup/ cannot be read: the clients it
 * revoked would count as never revoked (their certificates are that CA's, so the broker refuses
 * them anyway, but status and generate could no longer say so).
 */
export function unreadableBackupCrls(p: StorePaths): string[] {
  return backupCrlFiles(p)
    .filter((f) => readBackupCrl(f) === undefined)
    .map((f) => `${f} is not a readable CRL: the revocations of that earlier CA are not counted. Restore it from your backup.`);
}

function clientIdsInStore(p: StorePaths): string[] {
  if (!existsSync(p.clientsDir)) return [];
  return readdirSync(p.clientsDir)
    .filter((n) => n.endsWith(".crt.pem"))
    .map((n) => n.slice(0, -".crt.pem".length));
}

/**
 * Moves a revoked client's files from certs/clients/ to certs/revoked/<id>-<serial>/ (renames
 * in one file system: never a copy, never a delete). Returns the folder, or undefined when there
 * was nothing left to move.
 */
export function archiveRevoked(p: StorePaths, id: string, serial: string): string | undefined {
  const files = CLIENT_FILES(p, id).filter((f) => existsSync(f));
  if (files.length === 0) return undefined;
  const dir = archiveDir(p, id, serial);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const f of files) renameDurably(f, path.join(dir, path.basename(f)));
  return dir;
}

/** Finishes the moves of revocations a killed run left half done. Returns the ids it moved. */
export function finishRevocations(p: StorePaths, revoked: Map<string, ClientRevocation>): string[] {
  const moved: string[] = [];
  for (const r of revoked.values()) {
    const c = p.client(r.id);
    // Only the revoked certificate's own files (the certificate moves last, so while any is
    // left it is there); a client issued again keeps its new ones.
    if (existsSync(c.certPem) && serialOf(c.certPem) === r.serial && archiveRevoked(p, r.id, r.serial)) moved.push(r.id);
  }
  return moved;
}

/**
 * Marks the revoked certificates in the manifest's history (and drops them as a client's
 * current one), for the record; idempotent, so a run that finds it undone does it. The CRL,
 * not this, decides what is revoked.
 */
export function recordRevocations(p: StorePaths, revoked: Iterable<ClientRevocation>): void {
  const m = readManifest(p.manifest);
  if (m === undefined) return;
  const by = new Map([...revoked].map((r) => [r.serial, r]));
  const history = m.history.map((h) => {
    const r = h.role === "client" ? by.get(h.serial) : undefined;
    return r && h.revoked === undefined ? { ...h, revoked: { at: r.at.toISOString(), reason: r.reason ?? "unspecified" } } : h;
  });
  const clients = Object.fromEntries(Object.entries(m.clients).filter(([, c]) => !by.has(c.serial)));
  writeManifest(p.manifest, { ...m, clients, history });
}

/** Writes the CRL: DER first, then the PEM that the broker reads and that marks the revocation done. */
export function writeStoreCrl(p: StorePaths, crl: { der: Buffer; pem: string }): void {
  writeFileAtomic(p.crlDer, crl.der);
  writeFileAtomic(p.crlPem, crl.pem);
}

// ---- what `generate` does with revoked clients ----

/** The revoked clients that this run leaves alone (all but those given --rekey), after finishing an interrupted revoke. */
export function revokedIdsFor(config: Config, rekey: string[]): Map<string, ClientRevocation> {
  const p = storePaths(config.certDir);
  const revoked = revokedClients(p, requireStoreCrl(p), config.clients);
  finishRevocations(p, revoked);
  recordRevocations(p, revoked.values());
  for (const id of rekey) revoked.delete(id);
  for (const id of revoked.keys()) if (!isConfiguredClient(config.clients, id)) revoked.delete(id);
  return revoked;
}

/** The revocation of client `id` by the store's CRL (or an earlier CA's), if it is revoked. */
export function revocationOf(config: Config, id: string): ClientRevocation | undefined {
  const p = storePaths(config.certDir);
  return revokedClients(p, requireStoreCrl(p), [id]).get(id);
}

/** "2026-12-01 (keyCompromise)": when and why, as every refusal of a revoked client says it. */
export const revokedWhen = (r: ClientRevocation) => `${r.at.toISOString().slice(0, 10)} (${r.reason ?? "no reason given"})`;

/** Refuses (exit 2) a header for a revoked client, saying how to bring it back. */
export function refuseRevoked(config: Config, id: string): void {
  const r = revocationOf(config, id);
  if (r !== undefined) throw revokedHeaderError(r);
}

export function revokedHeaderError(r: ClientRevocation): EspCertsError {
  return new EspCertsError(
    `Cannot make a header for client "${r.id}"`,
    `${r.id} was revoked on ${revokedWhen(r)}: the broker refuses it`,
    `To bring it back with a new key: esp-certs generate --rekey ${r.id} (then flash the device). Or build for another client (custom_esp_certs_client).`,
  );
}

export function revokedAction(config: Config, r: ClientRevocation): StoreAction {
  const crl = storePaths(config.certDir).crlPem;
  return { item: `client ${r.id}`, cert: clientId(r.id), action: "revoked", reason: `${r.at.toISOString().slice(0, 10)}, ${r.reason ?? "no reason"}; esp-certs generate --rekey ${r.id} brings it back`, file: crl, notAfter: "" };
}

/** A certificate a new key replaced, as `generate` and `provision` list it: revoked, superseded. */
export function supersededAction(config: Config, s: { id: string; serial: string }): StoreAction {
  return { item: `client ${s.id}`, cert: clientId(s.id), action: "revoked", reason: `serial ${s.serial} superseded by its new key`, file: storePaths(config.certDir).crlPem, notAfter: "" };
}

/** What a superseded certificate means for the board that still holds its key (docs/revocation.md). */
export function supersededAdvice(config: Config, s: { id: string; serial: string }): string {
  const back = isConfiguredClient(config.clients, s.id)
    ? `flashed with the new one ("esp-certs flash", or upload the firmware)`
    : `provisioned again ("esp-certs provision --port <port> --client ${s.id}")`;
  return `${s.id}'s earlier certificate (serial ${s.serial}) is revoked as superseded: the board that holds the old key is shut out until it is ${back}, from the moment the broker loads the new CRL.`;
}
