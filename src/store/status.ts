import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { CA_ID, certLabel, clientId, SERVER_ID, type CertId } from "../pki/identity.js";
import { keyTypeOf } from "../pki/keys.js";
import { sanOf } from "./plan.js";
import { readCert } from "../pki/cert-files.js";
import { sha256Hex } from "../units.js";
import { normalSerial } from "../pki/crl.js";
import { stillValidRenewed, type StillValid } from "./renewal.js";
import { supersededValid } from "./revocation-record.js";
import { archiveDir } from "./revocations.js";
import { certState, type CertState, type ClientRecord } from "./clients.js";
import type { CertificateStore } from "./store.js";
import { DAY_MS } from "../units.js";

/** `esp-certs status`: what the store holds, read from the certificates themselves. */
export interface CertStatus {
  role: CertId["role"];
  /** "ca", "server", or the client id (--json readers; `label` is the typed identity's name). */
  name: string;
  /** "CA", "broker", "client dev01". */
  label: string;
  file: string;
  subject: string;
  dns: string[];
  ips: string[];
  serial: string;
  sha256: string;
  keyType: string;
  notAfter: string;
  daysLeft: number;
  /** Whether the CA in the store signed it (the CA: whether it is self-signed). */
  signedByCa: boolean;
  state: CertState;
  /** When and why it was revoked (state "revoked"). */
  revoked?: { at: string; reason: string };
  /** A client's earlier certificates on the same key, renewed and still valid (docs/renewal.md). */
  renewedFrom?: StillValid[];
}

/**
 * Every certificate in the store, read from the files themselves. A client's state and
 * revocation are its record's (store.clients(), the one place that derives them), when the
 * record describes the file shown; the CA's and the broker's follow from their dates.
 */
export function storeStatus(store: CertificateStore, now = new Date()): CertStatus[] {
  const p = store.paths;
  // An unreadable CRL is doctor's to explain: status lists what it can.
  const records = new Map(store.clients(now, () => store.readCrl().crl).map((c) => [c.id, c]));
  const fix = "Run \"esp-certs doctor\" for what to do.";
  const ca = readCert(p.caCertPem, fix);
  const entries: { id: CertId; file: string }[] = [
    { id: CA_ID, file: p.caCertPem },
    { id: SERVER_ID, file: p.serverCertPem },
  ];
  if (existsSync(p.clientsDir)) {
    for (const f of readdirSync(p.clientsDir).filter((n) => n.endsWith(".crt.pem")).sort()) {
      const id = f.slice(0, -".crt.pem".length);
      entries.push({ id: clientId(id), file: p.client(id).certPem });
    }
  }
  // A revoked client's certificate has moved to certs/revoked/: it is listed from there.
  const revoked = [...records.values()].flatMap((c) => c.revoked ?? []);
  for (const r of revoked.sort((a, b) => a.id.localeCompare(b.id))) {
    if (!entries.some((e) => e.id.role === "client" && e.id.id === r.id)) {
      entries.push({ id: clientId(r.id), file: path.join(archiveDir(p, r.id, r.serial), path.basename(p.client(r.id).certPem)) });
    }
  }
  const manifest = store.manifest();
  const out: CertStatus[] = [];
  for (const e of entries) {
    const stored = e.id.role === "ca" ? ca : readCert(e.file, fix);
    if (!stored) continue;
    const { dns, ips } = sanOf(stored.cert);
    const notAfter = new Date(stored.cert.validTo);
    out.push({
      role: e.id.role,
      name: e.id.role === "client" ? e.id.id : e.id.role,
      label: certLabel(e.id),
      file: e.file,
      subject: stored.cert.subject.replace(/\n/g, ", "),
      dns,
      ips,
      serial: stored.cert.serialNumber.toLowerCase(),
      sha256: sha256Hex(stored.der),
      keyType: keyTypeOf(stored.cert.publicKey) ?? stored.cert.publicKey.asymmetricKeyType ?? "unknown",
      notAfter: notAfter.toISOString(),
      daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
      signedByCa: ca !== undefined && stored.cert.checkIssued(ca.cert) && stored.cert.verify(ca.cert.publicKey),
      ...stateOf(e.id.role === "client" ? records.get(e.id.id) : undefined, stored.cert.serialNumber, notAfter, now),
      ...(e.id.role === "client" ? { renewedFrom: stillValidRenewed(manifest, e.id.id, now) } : {}),
    });
  }
  return out;
}

/** The record's state when the record is about this very certificate; else (the CA, the broker, a file the manifest does not describe) by its dates. */
function stateOf(c: ClientRecord | undefined, serial: string, notAfter: Date, now: Date): Pick<CertStatus, "state" | "revoked"> {
  const r = c?.revoked;
  if (r !== undefined && r.serial === normalSerial(serial)) return { state: "revoked", revoked: { at: r.at.toISOString(), reason: r.reason ?? "unspecified" } };
  if (c?.state !== undefined && c.current !== undefined && normalSerial(c.current.serial) === normalSerial(serial)) return { state: c.state };
  return { state: certState(notAfter, now, false) };
}

/** The store's CRL, when there is one. */
export function crlStatus(store: CertificateStore): { file: string; number: string; nextUpdate: string; revoked: number } | undefined {
  const crl = store.readCrl().crl;
  return crl && { file: store.paths.crlPem, number: crl.number.toString(), nextUpdate: crl.nextUpdate.toISOString(), revoked: crl.revoked.length };
}

/** Certificates replaced by a newer one of the same client and still accepted by the broker (a renewal on the same key). */
export interface SupersededStatus {
  name: string;
  serial: string;
  notAfter: string;
  replacedBy: string;
}

export function supersededStatus(store: CertificateStore): SupersededStatus[] {
  return supersededValid(store.manifest(), new Date()).map((r) => ({ name: r.id, serial: r.serial, notAfter: r.notAfter, replacedBy: r.replacedBy! }));
}
