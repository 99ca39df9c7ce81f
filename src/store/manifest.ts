import { existsSync } from "node:fs";
import { readNamed } from "../fs/read.js";
import type { Config, KeyType, Subject } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { sameCertId, type CertId } from "../pki/identity.js";
import { checkManifest } from "./manifest-check.js";

/**
 * certs/manifest.json (docs/store.md): what is current for each role, from which
 * configuration, and the history of every certificate the store issued. The hook's
 * no-op path reads it: no X.509 library here.
 */
export const MANIFEST_VERSION = 2;

/** A current certificate, with what the hook compares without parsing it. */
export interface IssuedCert {
  /** Hex, as in `openssl x509 -serial`. */
  serial: string;
  /** SHA-256 of the certificate DER, lower-case hex. */
  sha256: string;
  /** ISO dates. */
  notBefore: string;
  notAfter: string;
  keyType: KeyType;
  /** Unix seconds at issue: the device's clock floor (ESP_CERTS_GENERATED_AT). */
  issuedAt: number;
  /** SHA-256 of the key file: a changed or half-replaced key shows without parsing it. */
  keySha256: string;
}

/** The configuration the store was made from; a difference sends the hook to `generate`. */
export interface ManifestConfig {
  mqttHost: string;
  serverNames: string[];
  serverIps: string[];
  clients: string[];
  keyType: KeyType;
  clientKeyType: KeyType;
  caDays: number;
  certDays: number;
  subject: Subject;
}

export interface Revocation {
  /** ISO date. */
  at: string;
  reason: string;
}

/** One certificate the store issued, kept after it is replaced. */
export type IssuedRecord = CertId & Omit<IssuedCert, "keySha256"> & {
  /** The CA's only: its key file's SHA-256, to tell whose key a ca.key.pem is without its passphrase. */
  keySha256?: string;
  /** The serial of the certificate that took its place. */
  replacedBy?: string;
  /** A client's: the serial of the certificate this one renewed on the same key (which stays valid to its end). */
  renewalOf?: string;
  revoked?: Revocation;
};

/** Where a client's private key lives: in the store (clients/<id>.key.*), or only on the device. */
export type KeyHolder = "store" | "device";

/**
 * A client's current certificate. A key held by the device (`keyHolder: "device"`) leaves no
 * key file in the store, so no key hashes; absent `keyHolder` means "store" (what every
 * manifest before it was added holds).
 */
export type ClientEntry = Omit<IssuedCert, "keySha256"> & {
  caSha256: string;
  keySha256?: string;
  /** The DER copy of the key, which the header embeds. */
  keyDerSha256?: string;
  keyHolder?: KeyHolder;
};

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  config: ManifestConfig;
  ca: IssuedCert & { subject: string };
  server?: IssuedCert & { dns: string[]; ips: string[]; caSha256: string };
  clients: Record<string, ClientEntry>;
  /** Oldest first; the current certificates too. */
  history: IssuedRecord[];
  /** Serials a version 1 store issued whose certificates it did not record: kept so none is reused. */
  legacySerials: string[];
}

/** The version 1 manifest: current certificates and a bare list of serials. */
export type ManifestV1 = Omit<Manifest, "version" | "history" | "legacySerials"> & { version: 1; serials: string[] };

export const MANIFEST_FIX =
  'Restore certs/manifest.json from a backup, or move it away: "esp-certs generate" writes it again from the certificates (forgetting the certificates it replaced).';

/**
 * The manifest, migrated to the current version, or undefined when there is none.
 * A manifest that is not JSON or has fields of the wrong type is an error (exit 2) that
 * names the field, never a TypeError later.
 */
export function readManifest(file: string): Manifest | undefined {
  if (!existsSync(file)) return undefined;
  return parseManifest(readNamed(file, "utf8"), file);
}

export function parseManifest(text: string, file: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EspCertsError(`Cannot read ${file}`, "it is not JSON (truncated or edited)", MANIFEST_FIX);
  }
  const problem = checkManifest(json);
  if (problem !== undefined) throw new EspCertsError(`Cannot read ${file}`, problem, problem.includes("newer esp-certs") ? "Update esp-certs to the release that wrote it." : MANIFEST_FIX);
  const m = json as Manifest | ManifestV1;
  return m.version === 1 ? migrateV1(m) : m;
}

/** Version 1 to 2: the current certificates become the history; other serials are kept bare. */
export function migrateV1(v1: ManifestV1): Manifest {
  const { serials, version: _, ...rest } = v1;
  const history: IssuedRecord[] = [
    { role: "ca", ...recordOf(v1.ca), keySha256: v1.ca.keySha256 || undefined },
    ...(v1.server ? [{ role: "server" as const, ...recordOf(v1.server) }] : []),
    ...Object.entries(v1.clients).map(([id, c]) => ({ role: "client" as const, id, ...recordOf(c) })),
  ];
  const recorded = new Set(history.map((r) => r.serial));
  return { version: MANIFEST_VERSION, ...rest, history, legacySerials: serials.filter((s) => !recorded.has(s)) };
}

/** What the history keeps of a current certificate (a CA's key hash is added by its caller). */
export function recordOf(c: Omit<IssuedCert, "keySha256">): Omit<IssuedCert, "keySha256"> {
  return { serial: c.serial, sha256: c.sha256, notBefore: c.notBefore, notAfter: c.notAfter, keyType: c.keyType, issuedAt: c.issuedAt };
}

/** Every serial the store has used: a new one must be none of them. */
export function usedSerials(m: Manifest | undefined): Set<string> {
  return new Set([...(m?.history.map((r) => r.serial) ?? []), ...(m?.legacySerials ?? [])]);
}

/**
 * The history with `record` as the current certificate of its identity: the one it
 * replaces gets `replacedBy`. A record already there (same serial) changes nothing.
 */
export function withCurrent(history: IssuedRecord[], record: IssuedRecord): IssuedRecord[] {
  if (history.some((r) => r.serial === record.serial)) return history;
  return [...history.map((r) => (sameCertId(r, record) && r.replacedBy === undefined ? { ...r, replacedBy: record.serial } : r)), record];
}

/** `m` with the certificate `serial` marked revoked; undefined when the store never issued it. */
export function withRevoked(m: Manifest, serial: string, revoked: Revocation): Manifest | undefined {
  if (!m.history.some((r) => r.serial === serial)) return undefined;
  return { ...m, history: m.history.map((r) => (r.serial === serial ? { ...r, revoked } : r)) };
}

export function manifestConfig(c: Config): ManifestConfig {
  return {
    mqttHost: c.mqttHost,
    serverNames: c.serverNames,
    serverIps: c.serverIps,
    clients: c.clients,
    keyType: c.keyType,
    clientKeyType: c.clientKeyType,
    caDays: c.caDays,
    certDays: c.certDays,
    subject: c.subject,
  };
}
