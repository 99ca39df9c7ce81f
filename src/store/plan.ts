import type { X509Certificate } from "node:crypto";
import type { KeyType, Subject } from "../config/config.js";
import { canonicalIp } from "../config/validate.js";
import { EspCertsError } from "../errors.js";
import type { CertId } from "../pki/identity.js";
import { DAY_MS } from "../units.js";
import { renewalDue, RENEW_WITHIN_DAYS } from "../pki/renewal-window.js";

/**
 * What `generate` must do with each certificate, decided from what the store holds and
 * what the configuration wants. Pure: the tests drive it with parsed certificates and a
 * fixed clock.
 */
export type LeafPlan =
  | { action: "keep" }
  | { action: "issue"; reason: string; newKey: boolean; keyType: KeyType };

export interface LeafState {
  cert?: X509Certificate;
  /** The key's type, or undefined when there is no key file or it is of another kind. */
  keyType?: KeyType;
  /** A key file is there, of a kind esp-certs does not issue (e.g. RSA-4096 made by hand). */
  keyUnsupported?: boolean;
  /** Whether the key is the pair of the certificate's public key. */
  keyMatches: boolean;
}

export interface LeafWanted {
  /** CN: mqtt_host for the broker, the id for a client. */
  commonName: string;
  /** DNS and IP SANs, for the broker; undefined for a client. */
  dns?: string[];
  ips?: string[];
  /** The subject's other fields (country, state, locality, organization); optional for callers that plan names only. */
  subject?: Subject;
  /** The key type a new key gets. */
  keyType: KeyType;
  /** A new key of `keyType` whatever the present one is (`--rekey`). */
  rekey: boolean;
  /** A new key when the present one is not of `keyType` (the broker follows key_type). */
  followKeyType: boolean;
  /** A new certificate on the present key now (`--renew`). */
  renew?: boolean;
  /** The renewal window in days: renew_days for a client, RENEW_WITHIN_DAYS for the broker. */
  windowDays?: number;
  /** What a certificate issued now could get: for the renewal rule. */
  renewal: { certDays: number; caNotAfter: Date };
}

/** The reason of a renewal asked for with --renew (on the same key). */
export const RENEWED_NOW = "renewed on its own key (--renew)";
/** The SANs of a certificate, split by kind, as node:crypto prints them. */
export function sanOf(cert: X509Certificate): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const part of (cert.subjectAltName ?? "").split(/,\s*/)) {
    if (part.startsWith("DNS:")) dns.push(part.slice(4).toLowerCase());
    else if (part.startsWith("IP Address:")) ips.push(canonicalIp(part.slice(11)));
  }
  return { dns, ips };
}

/** The certificate's CN, as node:crypto prints the subject (one attribute a line). */
export function commonNameOf(cert: X509Certificate): string | undefined {
  return /^CN=(.*)$/m.exec(cert.subject)?.[1];
}

/** The reason a leaf is re-issued for a new organization, country, state or locality. */
export const SUBJECT_CHANGED = "its subject changed (organization, country, state or locality)";

const SUBJECT_FIELDS = [["C", "country"], ["ST", "state"], ["L", "locality"], ["O", "organization"]] as const;

/**
 * The subject's fields as node:crypto prints them, one a line, RFC 2253 escapes undone
 * ("ACME\, Inc" is "ACME, Inc"), so that a value with a comma does not look changed on every run.
 */
export function subjectFields(cert: X509Certificate): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of cert.subject.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1).replace(/\\(.)/g, "$1"));
  }
  return fields;
}

/** Whether the certificate's C, ST, L and O are the configured ones. */
export function sameSubject(cert: X509Certificate, subject: Subject): boolean {
  const have = subjectFields(cert);
  return SUBJECT_FIELDS.every(([attr, key]) => have.get(attr) === subject[key]);
}

/** The configured fields that a certificate differs in, as "organization MOSQUITTO -> ACME". */
export function subjectChanges(cert: X509Certificate, subject: Subject): string[] {
  const have = subjectFields(cert);
  return SUBJECT_FIELDS.filter(([attr, key]) => have.get(attr) !== subject[key]).map(([attr, key]) => `${key} ${have.get(attr) ?? "(none)"} -> ${subject[key]}`);
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function planLeaf(state: LeafState, wanted: LeafWanted, issuedByCa: (cert: X509Certificate) => boolean, now: Date): LeafPlan {
  const issue = (reason: string, newKey: boolean): LeafPlan => ({
    action: "issue",
    reason,
    newKey,
    keyType: newKey ? wanted.keyType : state.keyType!,
  });
  if (state.keyUnsupported) return issue("its key is neither RSA-2048 nor EC P-256", true);
  if (state.keyType === undefined) return issue(state.cert ? "its key is missing" : "it is new", true);
  if (wanted.rekey) return issue(`new ${wanted.keyType} key (--rekey)`, true);
  if (wanted.followKeyType && state.keyType !== wanted.keyType) return issue(`new ${wanted.keyType} key`, true);
  if (state.cert === undefined) return issue("it is missing", false);
  if (!state.keyMatches) return issue("it does not match its key", false);
  if (!issuedByCa(state.cert)) return issue("the CA changed", false);
  // The CN too: mqtt_host swapped with one of server_names leaves the SANs as they were.
  if (commonNameOf(state.cert) !== wanted.commonName) return issue("its names changed", false);
  if (wanted.dns !== undefined) {
    const have = sanOf(state.cert);
    if (!sameSet(have.dns, wanted.dns) || !sameSet(have.ips, wanted.ips ?? [])) return issue("its names changed", false);
  }
  if (wanted.subject !== undefined && !sameSubject(state.cert, wanted.subject)) return issue(SUBJECT_CHANGED, false);
  const expires = new Date(state.cert.validTo);
  if (wanted.renew) return issue(RENEWED_NOW, false);
  if (renewalDue(expires, now, wanted.renewal.certDays, wanted.renewal.caNotAfter, wanted.windowDays)) {
    return issue(`it expires ${expires.toISOString().slice(0, 10)}`, false);
  }
  return { action: "keep" };
}

/** What the store holds, as `planStore` sees it (read by ensure.ts). */
export interface StoreFacts {
  /** The CA certificate, when there is one. */
  ca?: X509Certificate;
  caKeyPresent: boolean;
  leaves: { id: CertId; state: LeafState; wanted: Omit<LeafWanted, "renewal"> }[];
}

export interface StoreWanted {
  newCa: boolean;
  keyType: KeyType;
  caDays: number;
  certDays: number;
}

/**
 * The CA's fate: kept; made new (first run or --new-ca); or certified from a key already in
 * the store with no certificate (a first run killed between the two).
 */
export type CaPlan = "keep" | "create" | "certify-key";

export interface StorePlan {
  ca: CaPlan;
  leaves: { id: CertId; plan: LeafPlan }[];
  /** Whether the CA key is needed. */
  mustSign: boolean;
  warnings: string[];
}

/** Everything `generate` will do to the store, decided before anything is written. Pure. */
export function planStore(facts: StoreFacts, wanted: StoreWanted, now: Date): StorePlan {
  const warnings: string[] = [];
  const old = wanted.newCa ? undefined : facts.ca;
  if (old) warnings.push(...caWarnings(old, wanted.keyType, now));
  const ca: CaPlan = old ? "keep" : !wanted.newCa && facts.caKeyPresent ? "certify-key" : "create";
  // A new CA re-issues every leaf: none is issued by it.
  const issuedByCa = (cert: X509Certificate) => old !== undefined && cert.checkIssued(old) && cert.verify(old.publicKey);
  const caNotAfter = old ? new Date(old.validTo) : new Date(now.getTime() + wanted.caDays * DAY_MS);
  const renewal = { certDays: wanted.certDays, caNotAfter };
  const leaves = facts.leaves.map((l) => ({ id: l.id, plan: planLeaf(l.state, { ...l.wanted, renewal }, issuedByCa, now) }));
  return { ca, leaves, mustSign: ca !== "keep" || leaves.some((l) => l.plan.action === "issue"), warnings };
}

function caWarnings(ca: X509Certificate, keyType: KeyType, now: Date): string[] {
  const left = new Date(ca.validTo).getTime() - now.getTime();
  if (left <= 0) {
    throw new EspCertsError("Cannot use the CA", `it expired on ${ca.validTo}`, 'Run "esp-certs generate --new-ca" and reflash every device.');
  }
  const out: string[] = [];
  if (left < RENEW_WITHIN_DAYS * DAY_MS) out.push(`The CA expires on ${ca.validTo}: run "esp-certs generate --new-ca" soon, then reflash every device.`);
  if (ca.publicKey.asymmetricKeyType !== (keyType === "rsa2048" ? "rsa" : "ec")) {
    out.push(`The CA has a ${ca.publicKey.asymmetricKeyType?.toUpperCase()} key; key_type ${keyType} applies to a new CA (esp-certs generate --new-ca).`);
  }
  return out;
}
