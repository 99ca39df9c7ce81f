// Why a live connection failed, as data: Node's error codes (and OpenSSL's alert codes it
// passes through) -> cause -> fix. Testable alone, like the monitor's table of BearSSL codes.
import type { ProbeOutcome } from "./probe.js";

export interface Diagnosis {
  cause: string;
  fix: string;
}

const RESTART = 'Run "esp-certs broker" and restart the broker, so that it serves the store\'s files.';

interface Rule {
  codes: RegExp;
  explain(target: string, host: string): Diagnosis;
}

const RULES: Rule[] = [
  {
    codes: /^ECONNREFUSED$/,
    explain: (t) => ({ cause: `refused: nothing accepts connections on ${t}`, fix: 'Start the broker ("esp-certs broker" prints how), and check the port.' }),
  },
  {
    codes: /^(TIMEOUT|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/,
    explain: (t) => ({ cause: `no answer from ${t}`, fix: "Check the address, and that a firewall lets the port through." }),
  },
  {
    codes: /^(ENOTFOUND|EAI_AGAIN|EAI_FAIL)$/,
    explain: (_t, h) => ({ cause: `${h} does not resolve on this machine`, fix: "Use --broker-address ADDR to dial the broker by address while still checking the name." }),
  },
  {
    codes: /^ERR_TLS_CERT_ALTNAME_INVALID$/,
    explain: (_t, h) => ({ cause: `name mismatch: the broker's certificate does not name ${h}`, fix: `The broker runs an older certificate, or this is another broker. ${RESTART}` }),
  },
  {
    codes: /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_SIGNATURE_FAILURE)$/,
    explain: () => ({ cause: "unknown CA: the broker's certificate was not issued by this store's CA", fix: `It serves another PKI's certificate. ${RESTART}` }),
  },
  {
    codes: /^(CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)$/,
    explain: () => ({ cause: "the broker's certificate is out of its validity period (or this machine's clock is wrong)", fix: `Run "esp-certs generate", then: ${RESTART}` }),
  },
  {
    codes: /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL/,
    explain: (t) => ({ cause: `${t} does not speak TLS (a plain MQTT listener, e.g. 1883?)`, fix: "Dial the TLS port (mqtt_port, 8883)." }),
  },
  {
    codes: /ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/,
    explain: () => ({
      cause: "the broker refuses TLS 1.2, the newest version the ESP8266's BearSSL speaks",
      fix: 'Remove tls_version from the broker\'s mosquitto.conf (or set "tls_version tlsv1.2"); "esp-certs broker" writes one without it.',
    }),
  },
  {
    codes: /ALERT_CERTIFICATE_REVOKED/,
    explain: () => ({ cause: "the broker's CRL lists this client's certificate: it was revoked", fix: 'Connect as another client (--client); "esp-certs status" shows each client\'s state.' }),
  },
  {
    // Also what OpenSSL sends for every client once the broker's CRL is past its nextUpdate.
    codes: /ALERT_CERTIFICATE_EXPIRED/,
    explain: () => ({ cause: "the broker finds the client certificate expired, or its CRL is past nextUpdate (then it refuses every client)", fix: 'Run "esp-certs generate" (it renews what expires and re-signs the CRL), then "esp-certs broker" and restart the broker.' }),
  },
  {
    // The broker's alert about our certificate: unknown_ca (48), bad_certificate (42),
    // certificate_required (116, TLS 1.3), handshake_failure (40: none sent, TLS 1.2) ...
    codes: /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR|ACCESS_DENIED)/,
    explain: () => ({ cause: "client certificate rejected: the broker does not trust the CA that issued it", fix: `If the chain check passed, the broker's cafile is another CA. ${RESTART}` }),
  },
  {
    codes: /^(ECONNRESET|CLOSED|EPIPE)$/,
    explain: () => ({ cause: "the broker closed the connection during the handshake or the MQTT CONNECT: most often it rejected the client certificate", fix: `Look at the broker's log. ${RESTART}` }),
  },
];

/** MQTT 3.1.1 CONNACK return codes. */
const CONNACK: Record<number, string> = {
  1: "unacceptable protocol version",
  2: "client identifier rejected",
  3: "server unavailable",
  4: "bad user name or password",
  5: "not authorised (an ACL, or use_identity_as_username is off)",
};

export function diagnose(o: Extract<ProbeOutcome, { ok: false }>, target: string, host: string): Diagnosis {
  if (o.code === "CONNACK") {
    return { cause: `TLS passed, but the broker refused the MQTT connection: ${CONNACK[o.connackCode ?? -1] ?? o.message}`, fix: "Compare the broker's mosquitto.conf with the one \"esp-certs broker\" writes." };
  }
  const rule = RULES.find((r) => r.codes.test(o.code));
  if (rule) return rule.explain(target, host);
  return { cause: `${o.message} (${o.code})`, fix: "Look at the broker's log." };
}
