/**
 * A BearSSL trust anchor computed from a CA certificate, as `brssl ta` computes it
 * (BearSSL tools/certs.c): the subject DN as its DER bytes, the public key as BearSSL's
 * X.509 decoder yields it, and BR_X509_TA_CA when basicConstraints says CA. Precomputing
 * it spares the ESP8266 decoding the certificate at every boot. Pure functions.
 */
import { DerError, TAG, children, expectTag, oidString, readTlv, value, type Tlv } from "./der.js";

const OID = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  ecPublicKey: "1.2.840.10045.2.1",
  basicConstraints: "2.5.29.19",
} as const;

/** The named curves BearSSL's decoder knows, with their `BR_EC_*` names (bearssl_ec.h). */
const CURVES: Record<string, { id: number; name: string }> = {
  "1.2.840.10045.3.1.7": { id: 23, name: "BR_EC_secp256r1" },
  "1.3.132.0.34": { id: 24, name: "BR_EC_secp384r1" },
  "1.3.132.0.35": { id: 25, name: "BR_EC_secp521r1" },
};

export type PublicKey =
  | { type: "rsa"; n: Uint8Array; e: Uint8Array }
  | { type: "ec"; curve: number; curveName: string; q: Uint8Array };

export interface TrustAnchor {
  /** The subject DN, as its full DER encoding (SEQUENCE tag included). */
  dn: Uint8Array;
  /** Whether the anchor may verify other certificates (BR_X509_TA_CA). */
  isCa: boolean;
  key: PublicKey;
}

export class CertificateFormatError extends Error {}

/** The trust anchor of a DER certificate; throws CertificateFormatError on what BearSSL would refuse. */
export function trustAnchorFromCert(der: Uint8Array): TrustAnchor {
  const tbs = tbsFields(der);
  return {
    dn: der.slice(tbs.subject.start, tbs.subject.end),
    isCa: tbs.extensions !== undefined && basicConstraintsCa(der, tbs.extensions),
    key: publicKey(der, tbs.spki),
  };
}

/** The certificate's public key as BearSSL's decoder gives it. */
export function certificatePublicKey(der: Uint8Array): PublicKey {
  return publicKey(der, tbsFields(der).spki);
}

interface TbsFields {
  subject: Tlv;
  spki: Tlv;
  extensions?: Tlv;
}

function tbsFields(der: Uint8Array): TbsFields {
  try {
    const cert = expectTag(readTlv(der, 0), TAG.sequence, "Certificate");
    const tbs = expectTag(children(der, cert)[0], TAG.sequence, "TBSCertificate");
    const fields = children(der, tbs);
    // version [0] is optional (v1 certificates); the rest has a fixed order.
    const at = fields[0]?.tag === TAG.context0 ? 1 : 0;
    const [serial, , , , subject, spki, ...rest] = fields.slice(at);
    expectTag(serial, TAG.integer, "serialNumber");
    expectTag(subject, TAG.sequence, "subject");
    expectTag(spki, TAG.sequence, "subjectPublicKeyInfo");
    return { subject, spki, extensions: rest.find((f) => f.tag === TAG.context3) };
  } catch (err) {
    throw asFormatError(err);
  }
}

function publicKey(der: Uint8Array, spki: Tlv): PublicKey {
  try {
    const [algorithm, bits] = children(der, spki);
    const [oid, params] = children(der, expectTag(algorithm, TAG.sequence, "AlgorithmIdentifier"));
    const keyBits = bitStringBytes(der, expectTag(bits, TAG.bitString, "subjectPublicKey"));
    const alg = oidString(value(der, expectTag(oid, TAG.oid, "algorithm")));
    if (alg === OID.rsaEncryption) {
      const seq = expectTag(readTlv(keyBits, 0), TAG.sequence, "RSAPublicKey");
      const [n, e] = children(keyBits, seq);
      return {
        type: "rsa",
        n: unsignedBigEndian(value(keyBits, expectTag(n, TAG.integer, "modulus"))),
        e: unsignedBigEndian(value(keyBits, expectTag(e, TAG.integer, "publicExponent"))),
      };
    }
    if (alg === OID.ecPublicKey) {
      const curveOid = oidString(value(der, expectTag(params, TAG.oid, "namedCurve")));
      const curve = CURVES[curveOid];
      if (!curve) throw new CertificateFormatError(`the EC curve ${curveOid} is not one BearSSL supports (P-256, P-384, P-521)`);
      return { type: "ec", curve: curve.id, curveName: curve.name, q: keyBits.slice() };
    }
    throw new CertificateFormatError(`its key algorithm ${alg} is neither RSA nor EC`);
  } catch (err) {
    throw asFormatError(err);
  }
}

function bitStringBytes(der: Uint8Array, el: Tlv): Uint8Array {
  const v = value(der, el);
  if (v.length === 0 || v[0] !== 0) throw new DerError("the public key BIT STRING has unused bits");
  return v.subarray(1);
}

/** BearSSL keeps integers as unsigned big-endian bytes without leading zeros. */
function unsignedBigEndian(v: Uint8Array): Uint8Array {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  return v.slice(i);
}

function basicConstraintsCa(der: Uint8Array, extensionsField: Tlv): boolean {
  const list = expectTag(children(der, extensionsField)[0], TAG.sequence, "Extensions");
  for (const ext of children(der, list)) {
    const [oid, ...rest] = children(der, ext);
    if (oidString(value(der, expectTag(oid, TAG.oid, "extnID"))) !== OID.basicConstraints) continue;
    const octets = expectTag(rest[rest.length - 1], TAG.octetString, "extnValue");
    const inner = value(der, octets);
    const [ca] = children(inner, expectTag(readTlv(inner, 0), TAG.sequence, "BasicConstraints"));
    // cA is DEFAULT FALSE, so DER omits it unless TRUE; BearSSL's decoder reads the low bit.
    return ca?.tag === TAG.boolean && (value(inner, ca)[0] & 1) === 1;
  }
  return false;
}

function asFormatError(err: unknown): Error {
  if (err instanceof CertificateFormatError) return err;
  if (err instanceof DerError) return new CertificateFormatError(`it is not a well-formed DER certificate: ${err.message}`);
  return err as Error;
}
