// Reading the generated header back (its #defines and byte arrays), for the checks of the
// header (checks.ts) and of revoked identities in it (revocation.ts).
import { X509Certificate } from "node:crypto";
import type { DoctorContext } from "./context.js";
import { normalSerial } from "../pki/crl.js";

/** `#define NAME "value"` or `#define NAME 123` from the generated header. */
export function headerDefine(text: string, name: string): string | undefined {
  const m = new RegExp(`^\\s*#define\\s+${name}\\s+(?:"([^"]*)"|(\\S+))`, "m").exec(text);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** The bytes of `static const unsigned char <name>[] ... = { 0x.., ... };`. */
export function headerBytes(text: string, name: string): Buffer | undefined {
  const m = new RegExp(`${name}\\s*\\[\\s*\\][^=]*=\\s*\\{([^}]*)\\}`).exec(text);
  return m ? Buffer.from((m[1].match(/0x[0-9a-fA-F]{1,2}/g) ?? []).map((h) => parseInt(h, 16))) : undefined;
}

/** The revocation of the certificate in header `text`, when the CRL lists it. */
export function headerRevocation(ctx: DoctorContext, text: string) {
  const der = headerBytes(text, "esp_certs_client_cert_der");
  const serial = der !== undefined && der.length > 0 ? serialOf(der) : undefined;
  return serial !== undefined ? ctx.revocation.revokedSerials.get(serial) : undefined;
}

function serialOf(der: Buffer): string | undefined {
  try {
    return normalSerial(new X509Certificate(der).serialNumber);
  } catch {
    return undefined; // the header check reports a broken certificate
  }
}
