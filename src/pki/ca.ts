import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { readNamed } from "../fs/read.js";
import type { Subject } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { stageNewCa, finishCaSwitch, type CaFiles } from "./ca-switch.js";
import type { IssueDeps, Issued, LeafRequest } from "./issue.js";
import { isEncryptedPem, KEY_ALGORITHMS, keyMaterialFrom, pkcs8Pem, samePublicKey, type KeyAlgorithm, type KeyMaterial } from "./keys.js";
import { passphraseGetter, type PassphraseSources } from "./passphrase.js";
import { readCert, readKey, writeCert, type StoredCert } from "./cert-files.js";
import { sha256Hex } from "../units.js";

/**
 * The store's CA as one object (docs/store.md): opened once, its key unlocked at most once
 * and only when something is signed, and every issuing path (generate, provision, a CRL)
 * signs through it.
 */

export const CA_FIX =
  'esp-certs never replaces a CA by itself: restore the CA\'s files from your backup (certs/backup/ keeps replaced ones), or run "esp-certs generate --new-ca" and reflash every device.';

/** The unlocked CA: what signing a certificate or a CRL needs. */
export interface CaSigner {
  /** The CA certificate. */
  cert: StoredCert;
  /** Its key pair as WebCrypto keys (privateKey signs). */
  key: KeyMaterial;
  /** The signature algorithm for what it signs: certificates and CRLs alike. */
  signingAlgorithm: KeyAlgorithm["signing"];
  crypto: Crypto;
  /** A broker or client certificate signed by this CA (its notAfter never passes the CA's). */
  issueLeaf(req: LeafRequest): Promise<Issued>;
}

/**
 * Whether ca.key.pem is the CA certificate's key, as far as can be told without the
 * passphrase: an unencrypted key is compared directly, an encrypted one by its file's
 * SHA-256 against what the manifest recorded for each CA.
 */
export type CaKeyCheck =
  | { verdict: "matches" }
  | { verdict: "absent" }
  /** Not recorded for this CA: unlocking tells. */
  | { verdict: "unknown" }
  | { verdict: "mismatch"; why: string };

/**
 * What the CA needs of the manifest: the certificates the store issued, to tell a replaced CA's
 * key from this one's (the store's Manifest is one).
 */
export interface CaRecords {
  history: readonly { role: string; serial: string; sha256: string; keySha256?: string; replacedBy?: string }[];
}

export class CertificateAuthority {
  private unlocked?: Promise<CaSigner>;

  private constructor(
    readonly paths: CaFiles,
    readonly cert: StoredCert,
    readonly keyCheck: CaKeyCheck,
    private readonly passphrase: PassphraseSources,
    private readonly deps: IssueDeps,
    key?: KeyMaterial,
  ) {
    if (key) this.unlocked = Promise.resolve(signer(cert, key, deps));
  }

  /**
   * The store's CA, or undefined when it has no CA certificate. Finishes an interrupted
   * CA switch first. Reads the certificate and the key file; asks nothing.
   */
  static open(paths: CaFiles, opts: { passphrase: PassphraseSources; manifest?: CaRecords; deps: IssueDeps }): CertificateAuthority | undefined {
    finishCaSwitch(paths);
    const cert = readCert(paths.caCertPem, CA_FIX);
    if (cert === undefined) return undefined;
    return new CertificateAuthority(paths, cert, checkCaKey(paths, cert, opts.manifest), opts.passphrase, opts.deps);
  }

  /** SHA-256 of the CA certificate's DER. */
  get sha256(): string {
    return sha256Hex(this.cert.der);
  }

  /** Throws the error to show when ca.key.pem is known to be another CA's key. */
  assertKeyMatches(): void {
    if (this.keyCheck.verdict === "mismatch") {
      throw new EspCertsError("Cannot use the CA", this.keyCheck.why, CA_FIX);
    }
  }

  /** The CA ready to sign: asks the passphrase once, and checks that the key is the certificate's. */
  signer(): Promise<CaSigner> {
    return (this.unlocked ??= this.unlock());
  }

  private async unlock(): Promise<CaSigner> {
    this.assertKeyMatches();
    const p = this.paths;
    const stored = await readKey(p.caKey, CA_FIX, passphraseGetter(this.passphrase, "unlock"));
    if (stored === undefined) {
      throw new EspCertsError("Cannot sign certificates", `the CA key ${p.caKey} is missing`, CA_FIX);
    }
    if (!samePublicKey(stored, this.cert.cert.publicKey)) {
      throw new EspCertsError("Cannot use the CA", `${p.caKey} is not the key of ${p.caCertPem}`, CA_FIX);
    }
    return signer(this.cert, await keyMaterialFrom(stored, this.deps.crypto, p.caKey), this.deps);
  }

  /**
   * A new CA in place of the store's (if any), its key encrypted with `secret` unless that is
   * undefined. The old CA's files go to certs/backup/<time>/; killed anywhere, the store
   * holds the old CA or the new one, whole (ca-switch.ts).
   */
  static async create(paths: CaFiles, req: NewCa, deps: IssueDeps): Promise<{ ca: CertificateAuthority; issued: Issued; backup?: string }> {
    const key = await req.key;
    const issued = await issueCaCert(req, key, deps);
    stageNewCa(paths, { keyPem: caKeyPem(key, req.secret), certPem: issued.pem, certDer: issued.der }, deps.now());
    const backup = finishCaSwitch(paths);
    return { ca: CertificateAuthority.fromIssued(paths, key, req.passphrase, deps), issued, backup };
  }

  /**
   * The certificate for a CA key already in the store without one (a first run killed
   * between the two). Refused for the key of a CA that was replaced: a new CA gets a new key.
   */
  static async certifyExistingKey(paths: CaFiles, req: Omit<NewCa, "key" | "secret">, manifest: CaRecords | undefined, deps: IssueDeps): Promise<{ ca: CertificateAuthority; issued: Issued }> {
    const keySha256 = sha256Hex(readNamed(paths.caKey));
    const replaced = manifest?.history.find((r) => r.role === "ca" && r.keySha256 === keySha256 && r.replacedBy !== undefined);
    if (replaced) {
      throw new EspCertsError(
        "Cannot make a CA certificate for ca.key.pem",
        `${paths.caKey} is the key of the CA ${replaced.serial}, which was replaced; a new CA must have a new key`,
        'Run "esp-certs generate --new-ca": it moves that key into certs/backup/ with a new CA in its place.',
      );
    }
    const stored = (await readKey(paths.caKey, CA_FIX, passphraseGetter(req.passphrase, "unlock")))!;
    const key = await keyMaterialFrom(stored, deps.crypto, paths.caKey);
    const issued = await issueCaCert(req, key, deps);
    writeCert(paths.caCertPem, paths.caCertDer, issued);
    return { ca: CertificateAuthority.fromIssued(paths, key, req.passphrase, deps), issued };
  }

  private static fromIssued(paths: CaFiles, key: KeyMaterial, passphrase: PassphraseSources, deps: IssueDeps): CertificateAuthority {
    const cert = readCert(paths.caCertPem, CA_FIX)!;
    return new CertificateAuthority(paths, cert, { verdict: "matches" }, passphrase, deps, key);
  }
}

export interface NewCa {
  subject: Subject;
  days: number;
  /** The new key (being made while the rest is read). */
  key: Promise<KeyMaterial>;
  /** The new key's passphrase; undefined stores it unencrypted (--no-ca-passphrase). */
  secret: string | undefined;
  usedSerials: ReadonlySet<string>;
  /** To unlock the key later (certifyExistingKey) or for the CA object's own use. */
  passphrase: PassphraseSources;
}

async function issueCaCert(req: Omit<NewCa, "key" | "secret">, key: KeyMaterial, deps: IssueDeps): Promise<Issued> {
  // The X.509 engine is loaded only to sign: a run with nothing to sign never pays for it.
  const { issueCa } = await import("./issue.js");
  return issueCa({ subject: req.subject, days: req.days, key, usedSerials: req.usedSerials }, deps);
}

function signer(cert: StoredCert, key: KeyMaterial, deps: IssueDeps): CaSigner {
  return {
    cert,
    key,
    signingAlgorithm: KEY_ALGORITHMS[key.type].signing,
    crypto: deps.crypto,
    async issueLeaf(req) {
      const { issueLeaf } = await import("./issue.js");
      return issueLeaf(req, { der: cert.der, key }, deps);
    },
  };
}

/**
 * An encrypted key hides its public half until unlocked; the line before the PEM block
 * (text there is ignored by OpenSSL and node:crypto) says whose key it is, so that a key
 * of another CA shows without the passphrase.
 */
const FINGERPRINT_LINE = /^esp-certs CA key; public key sha256 ([0-9a-f]{64})$/m;

function caKeyPem(key: KeyMaterial, secret: string | undefined): string {
  const pub = createPublicKey(createPrivateKey({ key: key.pkcs8, format: "der", type: "pkcs8" }));
  return `esp-certs CA key; public key sha256 ${spkiSha256(pub)}\n${pkcs8Pem(key.pkcs8, secret)}`;
}

const spkiSha256 = (k: KeyObject) => sha256Hex(k.export({ type: "spki", format: "der" }));

/** See CaKeyCheck. Reads ca.key.pem; never asks for a passphrase. */
export function checkCaKey(p: CaFiles, ca: Pick<StoredCert, "cert" | "der">, manifest: CaRecords | undefined): CaKeyCheck {
  if (!existsSync(p.caKey)) return { verdict: "absent" };
  const file = readNamed(p.caKey);
  const pem = file.toString("utf8");
  const notIts = { verdict: "mismatch", why: `${p.caKey} is not the key of ${p.caCertPem}` } as const;
  if (!isEncryptedPem(pem)) {
    try {
      return samePublicKey(createPrivateKey(pem), ca.cert.publicKey) ? { verdict: "matches" } : notIts;
    } catch {
      return { verdict: "mismatch", why: `${p.caKey} is not a readable private key` };
    }
  }
  const keySha256 = sha256Hex(file);
  const caSha256 = sha256Hex(ca.der);
  const own = manifest?.history.find((r) => r.role === "ca" && r.sha256 === caSha256);
  if (own?.keySha256 === keySha256) return { verdict: "matches" };
  const other = manifest?.history.find((r) => r.role === "ca" && r.keySha256 === keySha256 && r.sha256 !== caSha256);
  if (other) return { verdict: "mismatch", why: `${p.caKey} is the key of another CA (serial ${other.serial}), not of ${p.caCertPem}` };
  const recorded = FINGERPRINT_LINE.exec(pem.slice(0, pem.indexOf("-----BEGIN")))?.[1];
  if (recorded !== undefined) return recorded === spkiSha256(ca.cert.publicKey) ? { verdict: "matches" } : notIts;
  return { verdict: "unknown" };
}
