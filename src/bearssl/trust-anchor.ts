/**
 * A BearSSL trust anchor computed from a CA certificate, as `brssl ta` computes it
 * (BearSSL tools/certs.c): the subject DN as its DER bytes, the public key as BearSSL's
 * X.509 decoder yields it, and BR_X509_TA_CA when the certificate is a CA's. Precomputing
 * it spares the ESP8266 decoding the certificate at every boot. Pure functions.
 *
 * node:crypto reads the key and the CA flag; only the DN is sliced by hand, since node gives
 * the subject as text, not as the DER bytes BearSSL compares.
 */
import { X509Certificate, type JsonWebKey } from "node:crypto";
import { DerError, TAG, children, expectTag, readTlv } from "../asn1/der.js";

/** The named curves BearSSL's decoder knows, by their JWK names, with their `BR_EC_*` ids (bearssl_ec.h). */
const CURVES: Record<string, { id: number; name: string }> = {
  "P-256": { id: 23, name: "BR_EC_secp256r1" },
  "P-384": { id: 24, name: "BR_EC_secp384r1" },
  "P-521": { id: 25, name: "BR_EC_secp521r1" },
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
  const dn = subjectDer(der);
  const cert = parse(der);
  // node's `ca` is OpenSSL's X509_check_ca() == 1: basicConstraints cA, as BearSSL reads it, and
  // keyCertSign when keyUsage is present (a CA without it signs nothing OpenSSL accepts).
  return { dn, isCa: cert.ca, key: publicKey(cert) };
}

/** The certificate's public key as BearSSL's decoder gives it. */
export function certificatePublicKey(der: Uint8Array): PublicKey {
  return publicKey(parse(der));
}

function parse(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw new CertificateFormatError(`it is not a well-formed DER certificate: ${(err as Error).message}`);
  }
}

/** The subject DN's DER bytes: the TBSCertificate's sixth field, or fifth without a version. */
function subjectDer(der: Uint8Array): Uint8Array {
  try {
    const cert = expectTag(readTlv(der, 0), TAG.sequence, "Certificate");
    const tbs = expectTag(children(der, cert)[0], TAG.sequence, "TBSCertificate");
    const fields = children(der, tbs);
    // version [0] is optional (v1 certificates); the rest has a fixed order.
    const at = fields[0]?.tag === TAG.context0 ? 1 : 0;
    const [serial, , , , subject] = fields.slice(at);
    expectTag(serial, TAG.integer, "serialNumber");
    expectTag(subject, TAG.sequence, "subject");
    return der.slice(subject.start, subject.end);
  } catch (err) {
    if (err instanceof DerError) throw new CertificateFormatError(`it is not a well-formed DER certificate: ${err.message}`);
    throw err;
  }
}

function publicKey(cert: X509Certificate): PublicKey {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType;
  if (type !== "rsa" && type !== "ec") throw new CertificateFormatError(`its key algorithm ${type ?? "(unknown)"} is neither RSA nor EC`);
  let jwk: JsonWebKey;
  try {
    jwk = key.export({ format: "jwk" });
  } catch {
    // node exports EC keys as JWK only on the curves JWK names (P-256, P-384, P-521, secp256k1).
    throw new CertificateFormatError(`its EC curve ${key.asymmetricKeyDetails?.namedCurve ?? "(unknown)"} is not one BearSSL supports (P-256, P-384, P-521)`);
  }
  if (type === "rsa") {
    // JWK's n and e are unsigned big-endian without leading zeros, as BearSSL keeps them.
    return { type: "rsa", n: base64url(jwk.n), e: base64url(jwk.e) };
  }
  const curve = CURVES[jwk.crv ?? ""];
  if (!curve) throw new CertificateFormatError(`its EC curve ${jwk.crv} is not one BearSSL supports (P-256, P-384, P-521)`);
  // The uncompressed point 04 || X || Y (JWK pads X and Y to the field's length), as certificates carry it.
  return { type: "ec", curve: curve.id, curveName: curve.name, q: Buffer.concat([Buffer.from([4]), base64url(jwk.x), base64url(jwk.y)]) };
}

function base64url(s: string | undefined): Buffer {
  return Buffer.from(s ?? "", "base64url");
}
