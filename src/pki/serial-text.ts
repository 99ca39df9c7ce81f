import { EspCertsError } from "../errors.js";

/**
 * A certificate serial as a user types or pastes it: hex digits as `esp-certs status` and
 * `openssl x509 -serial` print them, or with colons as `openssl x509 -text` does, or with 0x.
 * Lower-case hex without separators; a pure module, so the CLI can parse it before loading X.509.
 */
export function parseSerial(text: string): string {
  const hex = text.trim().replace(/^0x/i, "").replace(/[:\s]/g, "");
  if (!/^[0-9a-f]+$/i.test(hex)) {
    throw new EspCertsError(
      `Cannot use --serial ${text}`,
      "a serial is hexadecimal digits, as esp-certs status and openssl x509 -serial print it (colons allowed)",
      'e.g. --serial 5c1e0f... ("esp-certs status --json" lists every serial, superseded ones too)',
    );
  }
  return hex.toLowerCase();
}
