// Revoking client certificates: the CA signs a CRL that lists them, and the store moves the
// current one's files aside (docs/revocation.md). The command then gives the broker folder the
// new CRL. The CRL signed on from is judged first (store/crl-trust.ts): one that cannot be
// trusted is rebuilt from the manifest's history, never signed on from.
import { existsSync, statSync } from "node:fs";
import { isConfiguredClient } from "../config/clients.js";
import type { Config } from "../config/config.js";
import { reservedIdKind } from "../config/reserved-ids.js";
import { EspCertsError } from "../errors.js";
import { removeStaleTemps } from "../fs/atomic.js";
import { DEFAULT_REASON, normalSerial, type ReadCrl, type RevocationReason } from "../pki/crl.js";
import { judgeStoreCrl, setAsideUntrusted } from "./crl-trust.js";
import { defaultDeps } from "./ensure.js";
import { reissueCommand, storeClients } from "./inventory.js";
import type { IssueDeps } from "../pki/issue.js";
import type { PassphraseSources } from "../pki/passphrase.js";
import type { StorePaths } from "./paths.js";
import { readManifest, type Manifest } from "./manifest.js";
import { stillValid } from "./revocation-record.js";
import { archiveDir, archiveRevoked, finishRevocations, recordRevocations, revokedClients, revokedDir, revokedWhen } from "./revocations.js";
import { readCert } from "../pki/cert-files.js";
import { writeNextCrl } from "./crl.js";
import type { CertificateStore } from "./store.js";

export interface RevokeReport {
  id: string;
  /** The first certificate revoked (the current one, when it is among them). */
  serial: string;
  /** Every certificate this run revoked: with --all, earlier ones still valid too. */
  serials: string[];
  /** ISO date of the revocation, as the CRL records it. */
  at: string;
  reason: RevocationReason;
  crl: { file: string; number: string; nextUpdate: string };
  /** Why the store's CRL could not be signed on from, when it was rebuilt from the manifest's history. */
  repaired?: string;
  /** Where the certificate and key went. */
  archived?: string;
}

const STATUS = 'Run "esp-certs status" to see every client and its state.';

/** Refuses what cannot or need not be revoked, before the CA passphrase is asked for. */
function refuse(config: Config, id: string): void {
  const kind = reservedIdKind(id, config.mqttHost);
  if (kind === "ca") {
    throw new EspCertsError(
      "Cannot revoke the CA",
      "a CRL is signed by the CA and cannot revoke the CA itself",
      'If its key leaked, make a new CA: "esp-certs generate --new-ca" (the old one goes to certs/backup/), then reflash every device.',
    );
  }
  if (kind === "broker") {
    throw new EspCertsError(
      "Cannot revoke the broker",
      "the devices check no CRL (BearSSL has none), so revoking the broker's certificate would not stop them trusting it",
      'If the broker\'s key leaked, make a new CA: "esp-certs generate --new-ca", then reflash every device; to give the broker a new key only, move certs/server.key.pem away and run "esp-certs generate".',
    );
  }
}

interface Target {
  id: string;
  serial: string;
  /** The id's certificate in certs/clients/ (its files move to certs/revoked/). */
  current: boolean;
}

/** Earlier certificates of `id` that still work, as the hint of a refusal names them. */
function earlierHint(manifest: Manifest | undefined, id: string, now: Date): string {
  const n = stillValid(manifest, now).filter((r) => r.id === id).length;
  return n === 0 ? "" : ` ${n === 1 ? "1 earlier certificate" : `${n} earlier certificates`} of ${id} still valid: esp-certs revoke ${id} --all.`;
}

function currentTarget(config: Config, p: StorePaths, id: string, crl: ReadCrl | undefined, manifest: Manifest | undefined, now: Date): Target | undefined {
  const revoked = revokedClients(p, crl, config.clients).get(id);
  const cert = readCert(p.client(id).certPem, `Move ${p.client(id).certPem} away; the store's other files are unchanged.`);
  if (cert !== undefined) {
    if (!cert.cert.checkIssued(authorityCert(p)) || !cert.cert.verify(authorityCert(p).publicKey)) {
      throw new EspCertsError(`Cannot revoke ${id}`, "its certificate was not issued by this store's CA, so the broker refuses it already", 'Run "esp-certs generate" to issue it again from this CA, or leave it.');
    }
    return { id, serial: normalSerial(cert.cert.serialNumber), current: true };
  }
  if (revoked !== undefined) {
    throw new EspCertsError(
      `Cannot revoke ${id}`,
      `it was revoked on ${revokedWhen(revoked)}, and has no newer certificate`,
      `Nothing to do.${earlierHint(manifest, id, now)} To bring it back with a new key: ${reissueCommand(config, id)}`,
    );
  }
  const known = isConfiguredClient(config.clients, id);
  throw new EspCertsError(
    `Cannot revoke ${id}`,
    known ? "it has no certificate in the store yet" : `the store has no client "${id}" (clients: ${storeClients(config).join(", ")})`,
    known ? "Nothing to revoke: a client without a certificate cannot connect. Remove it from clients in [esp_certs] if it is not wanted." : STATUS,
  );
}

const authorityCert = (p: StorePaths) => readCert(p.caCertPem, "")!.cert;

/** What this run revokes: the id's current certificate, with --all every other still valid, or the one --serial names. */
function findTargets(config: Config, p: StorePaths, sel: Selection, crl: ReadCrl | undefined, manifest: Manifest | undefined, now: Date): Target[] {
  const valid = stillValid(manifest, now);
  if (sel.serial !== undefined) {
    const serial = normalSerial(sel.serial);
    const record = manifest?.history.find((r) => r.role === "client" && normalSerial(r.serial) === serial);
    if (record === undefined || record.role !== "client") {
      throw new EspCertsError(`Cannot revoke serial ${serial}`, "the store never issued a client certificate with that serial", `${STATUS} ("esp-certs status --json" lists every serial, superseded ones too)`);
    }
    const v = valid.find((r) => r.serial === serial);
    if (v === undefined) {
      const why = record.revoked ? `it was revoked on ${record.revoked.at.slice(0, 10)} (${record.revoked.reason})` : "it has expired, or was issued by an earlier CA";
      throw new EspCertsError(`Cannot revoke serial ${serial}`, `${why}: the broker refuses it already`, "Nothing to do.");
    }
    const current = existsSync(p.client(record.id).certPem) && currentTarget(config, p, record.id, crl, manifest, now)?.serial === serial;
    return [{ id: record.id, serial, current }];
  }
  const id = sel.id!;
  if (!sel.all) return [currentTarget(config, p, id, crl, manifest, now)!];
  const current = existsSync(p.client(id).certPem) ? currentTarget(config, p, id, crl, manifest, now) : undefined;
  const earlier = valid.filter((r) => r.id === id && r.serial !== current?.serial).map((r) => ({ id, serial: r.serial, current: false }));
  const all = [...(current ? [current] : []), ...earlier];
  if (all.length === 0) {
    throw new EspCertsError(`Cannot revoke ${id}`, `no certificate of ${id} is still valid (each is revoked or expired)`, STATUS);
  }
  return all;
}

/** The revoked certificate's files move into certs/revoked/: a file in its place must stop the run before anything is signed. */
function checkArchiveFolder(p: StorePaths, targets: Target[]): void {
  const dirs = [revokedDir(p), ...targets.filter((t) => t.current).map((t) => archiveDir(p, t.id, t.serial))];
  for (const dir of dirs) {
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw new EspCertsError(
        `Cannot revoke ${targets[0].id}`,
        `${dir} is a file, not a folder: the revoked certificate's files are moved there`,
        "Move that file away, then run the same command again (nothing was signed or written).",
      );
    }
  }
}

interface Selection {
  id?: string;
  serial?: string;
  all?: boolean;
}

export async function revoke(
  store: CertificateStore,
  opts: Selection & { reason?: RevocationReason; passphrase: PassphraseSources },
  deps: IssueDeps = defaultDeps(),
): Promise<RevokeReport> {
  if ((opts.id === undefined) === (opts.serial === undefined)) {
    throw new EspCertsError("Cannot revoke", opts.id === undefined ? "it needs a client id or --serial" : "give a client id or --serial, not both", "e.g. esp-certs revoke dev02, esp-certs revoke dev02 --all, or esp-certs revoke --serial 3f2a...");
  }
  const { config, paths: p } = store;
  if (opts.id !== undefined) refuse(config, opts.id);
  const what = opts.id ?? `serial ${opts.serial}`;
  removeStaleTemps(p.dir);
  const manifest = readManifest(p.manifest);
  const authority = store.ca(opts.passphrase, deps);
  if (authority === undefined) throw new EspCertsError(`Cannot revoke ${what}`, `the store has no CA (${p.caCertPem})`, 'Run "esp-certs generate" first.');
  const ca = authority.cert;
  // The CRL to sign on from: sound, or rebuilt from the manifest's history (crl-trust.ts).
  const verdict = await judgeStoreCrl(p, ca.der, manifest, deps);
  if (verdict.state === "earlier-ca") {
    throw new EspCertsError(`Cannot revoke ${what}`, `${p.crlPem} is an earlier CA's`, 'Run "esp-certs generate" first: it moves that CRL to the old CA\'s backup and starts one for this CA.');
  }
  const trusted = verdict.state === "sound" || (verdict.state === "rebuild" && !verdict.untrusted) ? verdict.crl : undefined;
  const base = verdict.state === "sound" ? verdict.crl.revoked : verdict.state === "none" ? [] : verdict.entries;
  const number = verdict.state === "sound" ? verdict.crl.number + 1n : verdict.state === "none" ? 1n : verdict.number;
  // The one CRL builder signs on from `previous` (number + 1).
  const previous = { revoked: base, number: number - 1n };
  // What an interrupted run left undone (files still to move, the manifest's record) first.
  const done = revokedClients(p, trusted, config.clients);
  finishRevocations(p, done);
  recordRevocations(p, done.values());
  const now = deps.now();
  const targets = findTargets(config, p, opts, trusted, readManifest(p.manifest), now);
  checkArchiveFolder(p, targets);

  const signer = await authority.signer();
  const entry = { at: now, reason: opts.reason ?? DEFAULT_REASON };
  const listed = new Set(base.map((e) => e.serial));
  const add = targets.filter((t) => !listed.has(t.serial)).map((t) => ({ serial: t.serial, ...entry }));
  if (verdict.state === "rebuild") setAsideUntrusted(p, verdict);
  // From this write on, the certificates are revoked; everything after it is tidying up that
  // the next run finishes if this one is killed.
  const content = await writeNextCrl(p, config, { der: ca.der, key: signer.key, notAfter: new Date(ca.cert.validTo) }, previous, { add }, deps);
  const current = targets.find((t) => t.current);
  const archived = current ? archiveRevoked(p, current.id, current.serial) : undefined;
  recordRevocations(p, targets.map((t) => ({ id: t.id, serial: t.serial, ...entry })));
  return {
    id: targets[0].id,
    serial: targets[0].serial,
    serials: targets.map((t) => t.serial),
    at: entry.at.toISOString(),
    reason: entry.reason,
    crl: { file: p.crlPem, number: content.number.toString(), nextUpdate: content.nextUpdate.toISOString() },
    repaired: verdict.state === "rebuild" ? verdict.problem : undefined,
    archived,
  };
}
