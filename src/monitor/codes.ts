/**
 * Names of the numbers an ESP8266 prints when something fails, each from its source:
 * BearSSL's bearssl_ssl.h and bearssl_x509.h (test/monitor/codes.test.ts checks these
 * against the installed headers), RFC 5246 §7.2 alerts, the ESP8266 core's wl_status_t,
 * PubSubClient's state(), and the Xtensa EXCCAUSE table of the core's documentation.
 */

/** `br_ssl_engine_last_error()` values; 32 and up are the X.509 engine's. */
export const BEARSSL_ERRORS: Readonly<Record<number, string>> = {
  1: "BR_ERR_BAD_PARAM",
  2: "BR_ERR_BAD_STATE",
  3: "BR_ERR_UNSUPPORTED_VERSION",
  4: "BR_ERR_BAD_VERSION",
  5: "BR_ERR_BAD_LENGTH",
  6: "BR_ERR_TOO_LARGE",
  7: "BR_ERR_BAD_MAC",
  8: "BR_ERR_NO_RANDOM",
  9: "BR_ERR_UNKNOWN_TYPE",
  10: "BR_ERR_UNEXPECTED",
  12: "BR_ERR_BAD_CCS",
  13: "BR_ERR_BAD_ALERT",
  14: "BR_ERR_BAD_HANDSHAKE",
  15: "BR_ERR_OVERSIZED_ID",
  16: "BR_ERR_BAD_CIPHER_SUITE",
  17: "BR_ERR_BAD_COMPRESSION",
  18: "BR_ERR_BAD_FRAGLEN",
  19: "BR_ERR_BAD_SECRENEG",
  20: "BR_ERR_EXTRA_EXTENSION",
  21: "BR_ERR_BAD_SNI",
  22: "BR_ERR_BAD_HELLO_DONE",
  23: "BR_ERR_LIMIT_EXCEEDED",
  24: "BR_ERR_BAD_FINISHED",
  25: "BR_ERR_RESUME_MISMATCH",
  26: "BR_ERR_INVALID_ALGORITHM",
  27: "BR_ERR_BAD_SIGNATURE",
  28: "BR_ERR_WRONG_KEY_USAGE",
  29: "BR_ERR_NO_CLIENT_AUTH",
  31: "BR_ERR_IO",
  32: "BR_ERR_X509_OK",
  33: "BR_ERR_X509_INVALID_VALUE",
  34: "BR_ERR_X509_TRUNCATED",
  35: "BR_ERR_X509_EMPTY_CHAIN",
  36: "BR_ERR_X509_INNER_TRUNC",
  37: "BR_ERR_X509_BAD_TAG_CLASS",
  38: "BR_ERR_X509_BAD_TAG_VALUE",
  39: "BR_ERR_X509_INDEFINITE_LENGTH",
  40: "BR_ERR_X509_EXTRA_ELEMENT",
  41: "BR_ERR_X509_UNEXPECTED",
  42: "BR_ERR_X509_NOT_CONSTRUCTED",
  43: "BR_ERR_X509_NOT_PRIMITIVE",
  44: "BR_ERR_X509_PARTIAL_BYTE",
  45: "BR_ERR_X509_BAD_BOOLEAN",
  46: "BR_ERR_X509_OVERFLOW",
  47: "BR_ERR_X509_BAD_DN",
  48: "BR_ERR_X509_BAD_TIME",
  49: "BR_ERR_X509_UNSUPPORTED",
  50: "BR_ERR_X509_LIMIT_EXCEEDED",
  51: "BR_ERR_X509_WRONG_KEY_TYPE",
  52: "BR_ERR_X509_BAD_SIGNATURE",
  53: "BR_ERR_X509_TIME_UNKNOWN",
  54: "BR_ERR_X509_EXPIRED",
  55: "BR_ERR_X509_DN_MISMATCH",
  56: "BR_ERR_X509_BAD_SERVER_NAME",
  57: "BR_ERR_X509_CRITICAL_EXTENSION",
  58: "BR_ERR_X509_NOT_CA",
  59: "BR_ERR_X509_FORBIDDEN_KEY_USAGE",
  60: "BR_ERR_X509_WEAK_PUBLIC_KEY",
  62: "BR_ERR_X509_NOT_TRUSTED",
};

/** BearSSL adds the alert number to these (BR_ERR_RECV_FATAL_ALERT, BR_ERR_SEND_FATAL_ALERT). */
export const RECV_FATAL_ALERT = 256;
export const SEND_FATAL_ALERT = 512;

/** The ESP8266 core's getLastSSLError() when it could not allocate the TLS buffers. */
export const OUT_OF_MEMORY = -1000;

/** TLS alert descriptions (RFC 5246 §7.2, RFC 6066, RFC 8446). */
export const TLS_ALERTS: Readonly<Record<number, string>> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  22: "record_overflow",
  40: "handshake_failure",
  42: "bad_certificate",
  43: "unsupported_certificate",
  44: "certificate_revoked",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca",
  49: "access_denied",
  50: "decode_error",
  51: "decrypt_error",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  90: "user_canceled",
  110: "unsupported_extension",
  112: "unrecognized_name",
  116: "certificate_required",
};

/** ESP8266 core, wl_definitions.h. */
export const WIFI_STATUS: Readonly<Record<number, string>> = {
  0: "WL_IDLE_STATUS",
  1: "WL_NO_SSID_AVAIL",
  2: "WL_SCAN_COMPLETED",
  3: "WL_CONNECTED",
  4: "WL_CONNECT_FAILED",
  5: "WL_CONNECTION_LOST",
  6: "WL_WRONG_PASSWORD",
  7: "WL_DISCONNECTED",
  255: "WL_NO_SHIELD",
};

/** PubSubClient.h, the values of state(). */
export const MQTT_STATES: Readonly<Record<number, string>> = {
  [-4]: "MQTT_CONNECTION_TIMEOUT",
  [-3]: "MQTT_CONNECTION_LOST",
  [-2]: "MQTT_CONNECT_FAILED",
  [-1]: "MQTT_DISCONNECTED",
  0: "MQTT_CONNECTED",
  1: "MQTT_CONNECT_BAD_PROTOCOL",
  2: "MQTT_CONNECT_BAD_CLIENT_ID",
  3: "MQTT_CONNECT_UNAVAILABLE",
  4: "MQTT_CONNECT_BAD_CREDENTIALS",
  5: "MQTT_CONNECT_UNAUTHORIZED",
};

/** Xtensa EXCCAUSE values as the ESP8266 core documents them (doc/exception_causes.rst). */
export const EXCEPTION_CAUSES: Readonly<Record<number, { name: string; meaning: string }>> = {
  0: { name: "IllegalInstructionCause", meaning: "an illegal instruction (often a jump through a corrupted function pointer)" },
  1: { name: "SyscallCause", meaning: "a SYSCALL instruction" },
  2: { name: "InstructionFetchErrorCause", meaning: "an instruction fetch from a bad address" },
  3: { name: "LoadStoreErrorCause", meaning: "a load or store error (often a byte read of flash data without pgm_read_byte)" },
  4: { name: "Level1InterruptCause", meaning: "a level-1 interrupt" },
  5: { name: "AllocaCause", meaning: "a register-window spill (MOVSP)" },
  6: { name: "IntegerDivideByZeroCause", meaning: "an integer division by zero" },
  8: { name: "PrivilegedCause", meaning: "a privileged instruction" },
  9: { name: "LoadStoreAlignmentCause", meaning: "a load or store to an unaligned address" },
  12: { name: "InstrPIFDataErrorCause", meaning: "a bus data error during an instruction fetch" },
  13: { name: "LoadStorePIFDataErrorCause", meaning: "a bus data error during a load or store" },
  14: { name: "InstrPIFAddrErrorCause", meaning: "a bus address error during an instruction fetch" },
  15: { name: "LoadStorePIFAddrErrorCause", meaning: "a bus address error during a load or store" },
  16: { name: "InstTLBMissCause", meaning: "an instruction TLB miss" },
  17: { name: "InstTLBMultiHitCause", meaning: "an instruction TLB multi-hit" },
  18: { name: "InstFetchPrivilegeCause", meaning: "an instruction fetch at a privileged address" },
  20: { name: "InstFetchProhibitedCause", meaning: "a jump to an address that holds no code (a null or stale function pointer)" },
  24: { name: "LoadStoreTLBMissCause", meaning: "a data TLB miss" },
  25: { name: "LoadStoreTLBMultiHitCause", meaning: "a data TLB multi-hit" },
  26: { name: "LoadStorePrivilegeCause", meaning: "a load or store at a privileged address" },
  28: { name: "LoadProhibitedCause", meaning: "a read through an invalid pointer (null, or memory already freed)" },
  29: { name: "StoreProhibitedCause", meaning: "a write through an invalid pointer (null, or memory already freed)" },
};

/** The ROM's `rst cause:N` at 74880 baud. */
export const ROM_RESET_CAUSES: Readonly<Record<number, string>> = {
  1: "power on",
  2: "the reset pin, or a restart after a crash",
  4: "the hardware watchdog",
  5: "a wake from deep sleep",
};

/** "NAME = n", as the C headers define it, or the number alone when the table does not know it. */
export function named(table: Readonly<Record<number, string>>, n: number): string {
  const name = table[n];
  return name === undefined ? String(n) : `${name} = ${n}`;
}
