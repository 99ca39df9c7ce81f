import { createPrivateKey, type KeyObject } from "node:crypto";
import type { Config } from "../config/config.js";
import type { CaSigner } from "../pki/ca.js";
import { certLabel, type CertId } from "../pki/identity.js";
import { generateKey, keyMaterialFrom, keyTypeOf, pkcs8Pem, samePublicKey, type KeyMaterial } from "../pki/keys.js";
import type { StorePaths } from "./paths.js";
import type { LeafPlan, LeafState, LeafWanted } from "./plan.js";
import { readCert, readKey, writeCert, writeKey, type StoredCert } from "../pki/cert-files.js";

/** A broker or client certificate of the store with its key: reading, planning inputs, issuing. */
export interface LeafFiles {
  certPem: string;
  certDer: string;
  keyPem: string;
  /** Clients also keep their key as DER, for the firmware header. */
  keyDer?: string;
}

export type LeafId = Exclude<CertId, { role: "ca" }>;

export interface StoredLeaf {
  id: LeafId;
  files: LeafFiles;
  cert?: StoredCert;
  key?: KeyObject;
}

export type ClientLeaf = StoredLeaf & { id: { role: "client"; id: string } };

const leafFix = (file: string) => `Move ${file} away and run "esp-certs generate" to issue it again.`;

export function leafFiles(p: StorePaths, id: LeafId): LeafFiles {
  return id.role === "server" ? { certPem: p.serverCertPem, certDer: p.serverCertDer, keyPem: p.serverKey } : p.client(id.id);
}

export async function readLeaf(p: StorePaths, id: LeafId): Promise<StoredLeaf> {
  const files = leafFiles(p, id);
  return { id, files, cert: readCert(files.certPem, leafFix(files.certPem)), key: await readKey(files.keyPem, leafFix(files.keyPem)) };
}

export function leafState(leaf: StoredLeaf): LeafState {
  return {
    cert: leaf.cert?.cert,
    keyType: leaf.key ? keyTypeOf(leaf.key) : undefined,
    keyUnsupported: leaf.key !== undefined && keyTypeOf(leaf.key) === undefined,
    keyMatches: leaf.cert !== undefined && leaf.key !== undefined && samePublicKey(leaf.key, leaf.cert.cert.publicKey),
  };
}

/** The broker's DNS names: the device's host first (an IP host goes in as an IP SAN). */
export function serverDns(config: Config): string[] {
  return config.serverIps.includes(config.mqttHost) ? config.serverNames : [config.mqttHost, ...config.serverNames];
}

/** What the configuration wants of this leaf, but for the renewal rule (plan.ts adds it). */
export function leafWanted(config: Config, id: LeafId, rekey: boolean, renew = false): Omit<LeafWanted, "renewal"> {
  if (id.role === "server") {
    // The broker follows key_type; its key is not worth keeping across a change.
    return { commonName: config.mqttHost, subject: config.subject, dns: serverDns(config), ips: config.serverIps, keyType: config.keyType, rekey: false, followKeyType: true };
  }
  return { commonName: id.id, subject: config.subject, keyType: config.clientKeyType, rekey, followKeyType: false, renew, windowDays: config.renewDays };
}

/**
 * Issues `leaf` as `plan` says: the new key (if any) written first, then the certificate
 * (PEM last: its presence marks the pair complete). Updates `leaf` and `used`; returns a
 * warning when the certificate had to end with the CA.
 */
export async function issueInto(
  leaf: StoredLeaf,
  plan: Extract<LeafPlan, { action: "issue" }>,
  ctx: { config: Config; signer: CaSigner; used: Set<string>; newKey?: Promise<KeyMaterial> },
): Promise<string | undefined> {
  const { config, signer } = ctx;
  const key = plan.newKey ? await (ctx.newKey ?? generateKey(plan.keyType, signer.crypto)) : await keyMaterialFrom(leaf.key!, signer.crypto, leaf.files.keyPem);
  if (plan.newKey) {
    if (leaf.files.keyDer) writeKey(leaf.files.keyDer, key.pkcs8);
    writeKey(leaf.files.keyPem, pkcs8Pem(key.pkcs8));
    leaf.key = createPrivateKey({ key: key.pkcs8, format: "der", type: "pkcs8" });
  }
  const isServer = leaf.id.role === "server";
  const issued = await signer.issueLeaf({
    role: leaf.id.role,
    subject: config.subject,
    commonName: leaf.id.role === "server" ? config.mqttHost : leaf.id.id,
    dns: isServer ? serverDns(config) : undefined,
    ips: isServer ? config.serverIps : undefined,
    days: config.certDays,
    publicKey: key.publicKey,
    keyType: key.type,
    usedSerials: ctx.used,
  });
  ctx.used.add(issued.serial);
  writeCert(leaf.files.certPem, leaf.files.certDer, issued);
  leaf.cert = readCert(leaf.files.certPem, leafFix(leaf.files.certPem));
  if (!issued.clampedToCa) return undefined;
  const which = isServer ? "The broker certificate" : `The ${certLabel(leaf.id)} certificate`;
  return `${which} ends with the CA on ${issued.notAfter.toISOString().slice(0, 10)}, before cert_days (${config.certDays}): renew the CA with "esp-certs generate --new-ca".`;
}
