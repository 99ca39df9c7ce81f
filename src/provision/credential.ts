/** A client's identity from the store, as the credential record carries it. */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { EspCertsError } from "../errors.js";
import type { CertificateStore } from "../store/store.js";
import type { Credential } from "./record.js";

/** Whether the store holds a certificate and key for `id`. */
export function inStore(store: CertificateStore, id: string): boolean {
  const c = store.paths.client(id);
  return existsSync(c.certDer) && existsSync(c.keyDer);
}

/** The record's contents for `id`, checked against the store's CA. */
export function credentialFromStore(store: CertificateStore, id: string): Credential {
  const p = store.paths;
  const c = p.client(id);
  const certDer = readFileSync(c.certDer);
  const keyDer = readFileSync(c.keyDer);
  const cert = new X509Certificate(certDer);
  const ca = new X509Certificate(readFileSync(p.caCertDer));
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new EspCertsError(`Cannot provision ${id}`, `${c.certDer} was not issued by the store's CA`, `Re-issue it: esp-certs generate --rekey ${id} (after adding it to clients), then provision again.`);
  }
  // A key file and certificate of two different issues (a rekey half done) would make the board say `cred fail reason=mismatch`.
  const pub = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  if (!pub(createPublicKey(createPrivateKey({ key: keyDer, format: "der", type: "pkcs8" }))).equals(pub(cert.publicKey))) {
    throw new EspCertsError(`Cannot provision ${id}`, `${c.keyDer} is not the key of ${c.certDer}`, `Run "esp-certs generate" to bring the store in step, then provision again.`);
  }
  const type = cert.publicKey.asymmetricKeyType;
  if (type !== "ec" && type !== "rsa") {
    throw new EspCertsError(`Cannot provision ${id}`, `its certificate has a ${type} key; the firmware takes EC or RSA`, `Re-issue it with client_key_type = ec-p256.`);
  }
  return { clientId: id, keyType: type, certDer, keyDer, notBefore: Math.floor(Date.parse(cert.validFrom) / 1000) };
}
