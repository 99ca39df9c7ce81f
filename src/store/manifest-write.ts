import { existsSync, readFileSync } from "node:fs";
import { writeIfChanged } from "../fs/sync.js";
import type { Config, KeyType } from "../config/config.js";
import { CA_ID, type CertId } from "../pki/identity.js";
import { keyTypeOf } from "../pki/keys.js";
import { serverDns, type ClientLeaf, type StoredLeaf } from "./leaf.js";
import { manifestConfig, MANIFEST_VERSION, recordOf, withCurrent, type ClientEntry, type IssuedCert, type IssuedRecord, type Manifest } from "./manifest.js";
import type { StorePaths } from "./paths.js";
import { BACKDATE_MS } from "../pki/issue.js";
import { type StoredCert } from "../pki/cert-files.js";
import { sha256Hex } from "../units.js";

/** The manifest as the store now is (docs/store.md), its history carried over from `previous`. */

/** `keySha256` is the one given when the key file is away (a CA key kept offline). */
function entry(stored: StoredCert, keyType: KeyType, keyFile: string, keySha256 = ""): IssuedCert {
  const notBefore = new Date(stored.cert.validFrom);
  return {
    serial: stored.cert.serialNumber.toLowerCase(),
    sha256: sha256Hex(stored.der),
    notBefore: notBefore.toISOString(),
    notAfter: new Date(stored.cert.validTo).toISOString(),
    keyType,
    issuedAt: Math.floor((notBefore.getTime() + BACKDATE_MS) / 1000),
    keySha256: existsSync(keyFile) ? sha256Hex(readFileSync(keyFile)) : keySha256,
  };
}

function record(id: CertId, e: Omit<IssuedCert, "keySha256">): IssuedRecord {
  return { ...id, ...recordOf(e) };
}

const keyTypeOfLeaf = (l: StoredLeaf) => keyTypeOf(l.key!)!;

export function clientEntry(leaf: StoredLeaf, caSha256: string): Manifest["clients"][string] {
  return { ...entry(leaf.cert!, keyTypeOfLeaf(leaf), leaf.files.keyPem), caSha256, keyDerSha256: sha256Hex(readFileSync(leaf.files.keyDer!)) };
}

export interface ManifestInputs {
  config: Config;
  paths: StorePaths;
  ca: StoredCert;
  /** Whether ca.key.pem is known to be the CA's key (checked or unlocked): its SHA-256 is then recorded. */
  caKeyVerified: boolean;
  server: StoredLeaf;
  clients: ClientLeaf[];
  previous?: Manifest;
}

export function buildManifest(m: ManifestInputs): Manifest {
  const { config, paths: p, ca, previous } = m;
  const caSha256 = sha256Hex(ca.der);
  const caEntry = { ...entry(ca, keyTypeOf(ca.cert.publicKey) ?? config.keyType, p.caKey, previous?.ca.keySha256), subject: ca.cert.subject.replace(/\n/g, ", ") };
  const server = { ...entry(m.server.cert!, keyTypeOfLeaf(m.server), m.server.files.keyPem), dns: serverDns(config), ips: config.serverIps, caSha256 };
  const clients = Object.fromEntries(m.clients.map((l) => [l.id.id, clientEntry(l, caSha256)]));
  let history = withCurrent(previous?.history ?? [], record(CA_ID, caEntry));
  if (m.caKeyVerified && existsSync(p.caKey)) {
    history = history.map((r) => (r.role === "ca" && r.serial === caEntry.serial ? { ...r, keySha256: caEntry.keySha256 } : r));
  }
  history = withCurrent(history, record(m.server.id, server));
  for (const l of m.clients) history = withCurrent(history, { ...record(l.id, clients[l.id.id]), ...renewalOf(previous?.clients[l.id.id], clients[l.id.id]) });
  return {
    version: MANIFEST_VERSION,
    config: manifestConfig(config),
    ca: caEntry,
    server,
    clients,
    history,
    legacySerials: previous?.legacySerials ?? [],
  };
}

/**
 * A new certificate on the key of the one it replaces is a renewal (docs/renewal.md): the
 * replaced one stays valid to its end, and a device that has not taken the renewal still connects.
 */
function renewalOf(before: ClientEntry | undefined, now: ClientEntry): Pick<IssuedRecord, "renewalOf"> {
  return before?.keySha256 !== undefined && before.serial !== now.serial && before.keySha256 === now.keySha256 ? { renewalOf: before.serial } : {};
}

/** `previous` with one client's certificate made current (a client issued on its own). */
export function withClient(previous: Manifest, leaf: ClientLeaf, caSha256: string): Manifest {
  const e = clientEntry(leaf, caSha256);
  return { ...previous, clients: { ...previous.clients, [leaf.id.id]: e }, history: withCurrent(previous.history, record(leaf.id, e)) };
}

/** Writes the manifest as every command writes it (atomically, untouched when unchanged). */
export function writeManifest(file: string, manifest: Manifest): void {
  writeIfChanged(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
