import { createPrivateKey, createPublicKey, type KeyObject, type webcrypto } from "node:crypto";
import type { KeyType } from "../config/config.js";
import { EspCertsError } from "../errors.js";


/**
 * The key algorithms, as data: how to make a key, how it signs, how the store names it.
 * Adding one is adding an entry here; issuing and the store do not change.
 */
export interface KeyAlgorithm {
  type: KeyType;
  /** WebCrypto parameters to generate and import the key. */
  keyParams: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;
  /** The signature this key makes over certificates it issues. */
  signing: webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;
  /** What node:crypto calls it (KeyObject.asymmetricKeyType). */
  nodeType: "rsa" | "ec";
  /** Key usage bits a leaf with this key gets beyond digitalSignature. */
  keyEncipherment: boolean;
}

export const KEY_ALGORITHMS: Record<KeyType, KeyAlgorithm> = {
  rsa2048: {
    type: "rsa2048",
    keyParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    signing: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    nodeType: "rsa",
    keyEncipherment: true,
  },
  "ec-p256": {
    type: "ec-p256",
    keyParams: { name: "ECDSA", namedCurve: "P-256" },
    signing: { name: "ECDSA", hash: "SHA-256" },
    nodeType: "ec",
    keyEncipherment: false,
  },
};

/** A key pair both as WebCrypto keys (for signing) and the PKCS#8 DER the store keeps. */
export interface KeyMaterial {
  type: KeyType;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  pkcs8: Buffer;
}

export async function generateKey(type: KeyType, crypto: Crypto): Promise<KeyMaterial> {
  const alg = KEY_ALGORITHMS[type];
  const pair = (await crypto.subtle.generateKey(alg.keyParams, true, ["sign", "verify"])) as CryptoKeyPair;
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { type, privateKey: pair.privateKey, publicKey: pair.publicKey, pkcs8 };
}

/** The key type of a parsed key, or undefined when it is neither RSA-2048 nor EC P-256. */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "rsa" && d?.modulusLength === 2048) return "rsa2048";
  if (key.asymmetricKeyType === "ec" && d?.namedCurve === "prime256v1") return "ec-p256";
  return undefined;
}

/** A stored private key (node:crypto KeyObject) as key material for signing. */
export async function keyMaterialFrom(key: KeyObject, crypto: Crypto, where: string): Promise<KeyMaterial> {
  const type = keyTypeOf(key);
  if (type === undefined) {
    throw new EspCertsError(`Cannot use the key in ${where}`, "it is neither RSA-2048 nor EC P-256", "Move it away and run esp-certs generate to make a new one.");
  }
  const alg = KEY_ALGORITHMS[type];
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, alg.keyParams, true, ["sign"]);
  const publicKey = await crypto.subtle.importKey("spki", spki, alg.keyParams, true, ["verify"]);
  return { type, privateKey, publicKey, pkcs8 };
}

/** PKCS#8 PEM; encrypted with AES-256 (PBES2) when a passphrase is given. */
export function pkcs8Pem(pkcs8: Buffer, passphrase?: string): string {
  const key = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  return passphrase === undefined
    ? (key.export({ type: "pkcs8", format: "pem" }) as string)
    : (key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase }) as string);
}

/** Encrypted PKCS#8, or the traditional "Proc-Type: 4,ENCRYPTED" PEM of OpenSSL 1.1's `genrsa -aes256`. */
export function isEncryptedPem(pem: string): boolean {
  return pem.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----") || /^Proc-Type: 4,ENCRYPTED\s*$/m.test(pem);
}

/** Whether a private key and a certificate's public key are one pair. */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const spki = (k: KeyObject) => (k.type === "private" ? createPublicKey(k) : k).export({ type: "spki", format: "der" });
  return spki(a).equals(spki(b));
}
