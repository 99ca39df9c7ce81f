import { readFileSync } from "node:fs";
import type { Config, KeyType, Subject } from "../config/config.js";

/** What was issued, from which configuration (certs/manifest.json). */
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

export interface Manifest {
  version: 1;
  config: ManifestConfig;
  ca: IssuedCert & { subject: string };
  server?: IssuedCert & { dns: string[]; ips: string[]; caSha256: string };
  /** keyDerSha256: the DER copy of the key, which the header embeds. */
  clients: Record<string, IssuedCert & { caSha256: string; keyDerSha256: string }>;
  /** Every serial this store has issued, to keep them unique. */
  serials: string[];
}

/** The manifest, or undefined when there is none or it cannot be read (it is derived state). */
export function readManifest(file: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(file, "utf8")) as Manifest;
    return m.version === 1 && m.ca ? m : undefined;
  } catch {
    return undefined;
  }
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
