import { children, readTlv, TAG } from "../asn1/der.js";
import { DAY_MS } from "../units.js";
import { renewalDue } from "./renewal-window.js";

/**
 * A CRL's nextUpdate read straight from its PEM with the small DER walker (asn1/der.ts), so that the pre-build
 * hook can tell that the CRL is due for re-signing without loading the X.509 library. Undefined
 * when the text is not a CRL with a nextUpdate (the full reader in crl.ts then says why).
 */
export function crlNextUpdateOf(pem: string): Date | undefined {
  const b64 = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/.exec(pem)?.[1];
  if (b64 === undefined) return undefined;
  const der = Buffer.from(b64.replace(/\s+/g, ""), "base64");
  try {
    const tbs = children(der, readTlv(der, 0))[0];
    // [version (v2 only)], signature, issuer, thisUpdate, nextUpdate (optional).
    const fields = children(der, tbs);
    const next = fields[(fields[0]?.tag === TAG.integer ? 1 : 0) + 3];
    return next && derTime(der.subarray(next.valueStart, next.end), next.tag);
  } catch {
    return undefined;
  }
}

/** UTCTime (0x17, YYMMDDHHMMSSZ; 50-99 are 19xx) or GeneralizedTime (0x18, YYYYMMDDHHMMSSZ). */
function derTime(v: Uint8Array, tag: number): Date | undefined {
  const s = Buffer.from(v).toString("latin1");
  const m = (tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^$/).exec(s);
  if (m === null) return undefined;
  const year = tag === 0x17 ? (Number(m[1]) >= 50 ? 1900 : 2000) + Number(m[1]) : Number(m[1]);
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/**
 * When a CRL signed now stops being accepted. OpenSSL (and so Mosquitto) refuses EVERY client
 * once the CRL is past nextUpdate, so it must outlive the gap between two runs that can re-sign
 * it. The broker certificate sets that gap: it lasts cert_days and its renewal, in `generate`,
 * asks for the CA passphrase anyway. A CRL lasting cert_days from now outlives the broker
 * certificate in use, so the run that renews the one re-signs the other. Never past the CA.
 */
export function crlNextUpdate(now: Date, certDays: number, caNotAfter: Date): Date {
  return new Date(Math.min(now.getTime() + certDays * DAY_MS, caNotAfter.getTime()));
}

/**
 * Whether `generate` should re-sign a CRL that ends at `nextUpdate`: the certificates' renewal
 * rule (renewal-window.ts): a CRL cut to its CA's end is not re-signed on every run.
 */
export function crlRenewalDue(nextUpdate: Date, now: Date, certDays: number, caNotAfter: Date): boolean {
  // crlNextUpdate(now, ...) is what a renewed certificate would get: the same rule holds.
  return renewalDue(nextUpdate, now, certDays, caNotAfter);
}
