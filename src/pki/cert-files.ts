import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { EspCertsError } from "../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { readNamed } from "../fs/read.js";
import type { Issued } from "./issue.js";
import { isEncryptedPem } from "./keys.js";

/** Reading and writing the store's files; every parse error becomes a message that names the file. */

export interface StoredCert {
  pem: string;
  der: Buffer;
  cert: X509Certificate;
}

/** A certificate from its PEM file, or undefined when the file is not there. */
export function readCert(pemPath: string, fixIfBroken: string): StoredCert | undefined {
  if (!existsSync(pemPath)) return undefined;
  const pem = readNamed(pemPath, "utf8");
  try {
    if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem)) throw new Error("no complete PEM block");
    const cert = new X509Certificate(pem);
    return { pem, der: Buffer.from(cert.raw), cert };
  } catch {
    throw new EspCertsError(`Cannot read ${pemPath}`, "it is not a complete PEM certificate (truncated or corrupted)", fixIfBroken);
  }
}

/** A private key from its PEM file, or undefined when the file is not there. */
export async function readKey(pemPath: string, fixIfBroken: string, passphrase?: () => Promise<string>): Promise<KeyObject | undefined> {
  if (!existsSync(pemPath)) return undefined;
  const pem = readNamed(pemPath, "utf8");
  const encrypted = isEncryptedPem(pem);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+-----END [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new EspCertsError(`Cannot read ${pemPath}`, "it is not a complete PEM private key (truncated or corrupted)", fixIfBroken);
  }
  if (encrypted && passphrase === undefined) {
    throw new EspCertsError(`Cannot read ${pemPath}`, "it is encrypted, and only the CA key may be", fixIfBroken);
  }
  const secret = encrypted ? await passphrase!() : undefined;
  try {
    return createPrivateKey(secret === undefined ? { key: pem } : { key: pem, passphrase: secret });
  } catch {
    if (encrypted) {
      throw new EspCertsError(
        "Cannot unlock the CA key",
        `the passphrase does not decrypt ${pemPath}`,
        "Give the passphrase the CA was made with (ESP_CERTS_CA_PASSPHRASE, --ca-passphrase-file, or the prompt).",
      );
    }
    throw new EspCertsError(`Cannot read ${pemPath}`, "it is not a valid private key (truncated or corrupted)", fixIfBroken);
  }
}

/** A certificate as PEM and DER. The PEM goes last: its presence marks the pair complete. */
export function writeCert(pemPath: string, derPath: string, issued: Issued): void {
  writeFileAtomic(derPath, issued.der);
  writeFileAtomic(pemPath, issued.pem);
}

export function writeKey(file: string, data: string | Buffer): void {
  writeFileAtomic(file, data, 0o600);
}
