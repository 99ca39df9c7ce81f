import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CRLNumber, id_ce_cRLNumber } from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";
import { KEY_ALGORITHMS } from "./keys.js";
import { BACKDATE_MS, type IssueDeps, type IssuingCa } from "./issue.js";
import { DEFAULT_REASON, REVOCATION_REASONS, type RevocationReason } from "./reasons.js";

/**
 * The CA's certificate revocation list (docs/revocation.md), as pure functions: building one
 * from the revoked serials and reading one back. With a fixed clock and key the bytes are the
 * same each time, which the fixed-vector tests rely on.
 */

export { DEFAULT_REASON, REVOCATION_REASONS, type RevocationReason } from "./reasons.js";

export interface Revoked {
  /** Lower-case hex, as the manifest and `openssl x509 -serial` (lower-cased) give it. */
  serial: string;
  at: Date;
  /** Undefined only in a CRL read back that has no reason code (not one esp-certs wrote). */
  reason?: RevocationReason;
}

export interface CrlContent {
  revoked: Revoked[];
  /** The CRL number: one more than the previous CRL's, so that a newer CRL always has a larger one. */
  number: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * DER INTEGER of a non-negative number, as the CRL number extension holds it. Written here: the
 * library's CRLNumber writes a JS number, which cannot hold a number past 2^53 (RFC 5280 allows 20 octets).
 */
function derInteger(n: bigint): Uint8Array<ArrayBuffer> {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, "hex");
  const body = bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return new Uint8Array(Buffer.concat([Buffer.from([0x02, body.length]), body]));
}

/**
 * An X.509 v2 CRL signed by the CA: every revoked serial with its date and reason code,
 * authorityKeyIdentifier (the CA's subjectKeyIdentifier) and the CRL number. thisUpdate is
 * backdated as certificates are, so a broker whose clock runs a little slow still accepts it.
 */
export async function buildCrl(content: CrlContent, ca: IssuingCa, crypto: IssueDeps["crypto"]): Promise<{ der: Buffer; pem: string }> {
  const caCert = new x509.X509Certificate(new Uint8Array(ca.der));
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)
    : await x509.AuthorityKeyIdentifierExtension.create(ca.key.publicKey, false, crypto);
  const crl = await x509.X509CrlGenerator.create(
    {
      // The CA's own encoded name: OpenSSL matches a CRL to its CA by these bytes.
      issuer: caCert.subjectName,
      thisUpdate: new Date(content.thisUpdate.getTime() - BACKDATE_MS),
      nextUpdate: content.nextUpdate,
      signingKey: ca.key.privateKey,
      signingAlgorithm: KEY_ALGORITHMS[ca.key.type].signing,
      extensions: [aki, new x509.Extension(id_ce_cRLNumber, false, derInteger(content.number))],
      entries: content.revoked.map((r) => ({
        serialNumber: r.serial,
        revocationDate: r.at,
        reason: REVOCATION_REASONS[r.reason ?? DEFAULT_REASON],
      })),
    },
    crypto,
  );
  const der = Buffer.from(crl.rawData);
  return { der, pem: crlPem(der) };
}

/** PEM with the label OpenSSL reads, "X509 CRL" (@peculiar/x509 writes "CRL", which OpenSSL refuses). */
export function crlPem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g)!;
  return `-----BEGIN X509 CRL-----\n${lines.join("\n")}\n-----END X509 CRL-----\n`;
}

export interface ReadCrl extends CrlContent {
  /** The issuer's DER name, to compare with the CA's subject. */
  issuerDer: Buffer;
  crl: x509.X509Crl;
}

const REASON_NAMES = new Map<number, RevocationReason>(Object.entries(REVOCATION_REASONS).map(([k, v]) => [v, k as RevocationReason]));

/** A CRL's content from PEM or DER; throws on anything that is not a CRL with a nextUpdate. */
export function readCrl(data: string | Uint8Array): ReadCrl {
  const crl = new x509.X509Crl(typeof data === "string" ? data : new Uint8Array(data));
  if (crl.nextUpdate === undefined) throw new Error("it has no nextUpdate");
  const numberExt = crl.extensions.find((e) => e.type === id_ce_cRLNumber);
  return {
    crl,
    issuerDer: Buffer.from(crl.issuerName.toArrayBuffer()),
    number: numberExt ? crlNumber(numberExt.value) : 0n,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    revoked: crl.entries.map((e) => ({
      serial: normalSerial(e.serialNumber),
      at: e.revocationDate,
      reason: e.reason === undefined ? undefined : REASON_NAMES.get(e.reason),
    })),
  };
}

/** The CRL number extension's value. asn1-schema gives an INTEGER of 4 bytes or more as its decimal string, so none is rounded. */
function crlNumber(der: ArrayBuffer): bigint {
  const { value } = AsnConvert.parse(der, CRLNumber);
  return BigInt(value as number | string);
}

/** Lower-case hex without leading zero bytes, as node:crypto's serialNumber gives it (lower-cased). */
export function normalSerial(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+(?=..)/, "");
}

/**
 * Whether the CRL names this CA as its issuer (subject and key identifier); no signature check,
 * so that the hook and `generate` can tell without WebCrypto. A CRL of an earlier CA has the
 * same name but another key.
 */
export function crlMatchesCa(read: ReadCrl, caDer: Uint8Array): boolean {
  const caCert = new x509.X509Certificate(new Uint8Array(caDer));
  if (!Buffer.from(caCert.subjectName.toArrayBuffer()).equals(read.issuerDer)) return false;
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const aki = read.crl.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
  return ski === undefined || aki === undefined || ski === aki;
}

/** Whether the CRL was signed by this CA (its key, and its name). */
export async function crlSignedBy(read: ReadCrl, caDer: Uint8Array, crypto: IssueDeps["crypto"]): Promise<boolean> {
  const caCert = new x509.X509Certificate(new Uint8Array(caDer));
  if (!Buffer.from(caCert.subjectName.toArrayBuffer()).equals(read.issuerDer)) return false;
  return read.crl.verify({ publicKey: caCert }, crypto);
}
