// The recorded logs of test/fixtures/serial/ and what each must produce; shared by the
// pure replay (verdict.test.ts) and the pty runs of the built CLI (fixtures.test.ts).
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../helpers/cli.js";

export interface Case {
  log: string;
  exit: number;
  diagnosis: string;
  /** Words the human report must contain. */
  says: string[];
  /**
   * Flags for the pty run. A timeout must outlast the reading of the whole log on a loaded
   * machine (the timer starts when the port is open), or "last line" is an earlier one.
   */
  args?: string[];
}

export const CASES: Case[] = [
  { log: "verified.log", exit: 0, diagnosis: "verified", says: ["verified:", "dev01 connected to win10.local:8883"] },
  { log: "tls-56-bad-server-name.log", exit: 1, diagnosis: "tls-56", says: ["BR_ERR_X509_BAD_SERVER_NAME = 56", "esp-certs generate --host win10.local", "esp-certs broker"] },
  { log: "tls-54-clock-floor.log", exit: 1, diagnosis: "tls-54-floor", says: ["NTP", "esp-certs generate"] },
  { log: "tls-62-broker-other-ca.log", exit: 1, diagnosis: "tls-62-broker-ca", says: ["another CA", "esp-certs broker"] },
  { log: "ca-mismatch.log", exit: 1, diagnosis: "ca-mismatch", says: ["0123456789abcdef", "esp-certs flash --port"] },
  { log: "wrong-host.log", exit: 1, diagnosis: "wrong-host", says: ["raspberrypi.local:8883", "win10.local:8883"] },
  { log: "alert-296-no-client-cert.log", exit: 1, diagnosis: "alert-received-40", says: ["handshake_failure", "sent none"] },
  { log: "alert-40-core3.log", exit: 1, diagnosis: "alert-received-40", says: ["handshake_failure"] },
  { log: "tls-oom.log", exit: 1, diagnosis: "tls-oom", says: ["memory"] },
  { log: "exception-28-bearssl.log", exit: 1, diagnosis: "crash-bearssl", says: ["inside BearSSL", "ctx: bearssl"] },
  { log: "soft-wdt.log", exit: 1, diagnosis: "soft-wdt", says: ["watchdog", "ctx: cont"] },
  { log: "exception-29-cont.log", exit: 1, diagnosis: "exception", says: ["Exception (29) StoreProhibitedCause"] },
  { log: "wifi-fail-1.log", exit: 1, diagnosis: "wifi-1", says: ["WL_NO_SSID_AVAIL = 1", "2.4 GHz"] },
  { log: "mqtt-fail-5.log", exit: 1, diagnosis: "mqtt-5", says: ["MQTT_CONNECT_UNAUTHORIZED = 5", "use_identity_as_username"] },
  { log: "workshop-ssl-56.log", exit: 1, diagnosis: "tls-56", says: ["does not name win10.local"] },
  { log: "workshop-connected.log", exit: 1, diagnosis: "unconfirmed", says: ["MQTT Connected"] },
  { log: "reboot-loop-74880.log", exit: 1, diagnosis: "reboot-loop", says: ["the hardware watchdog", "--baud 74880"], args: ["--baud", "74880"] },
  { log: "deep-sleep-wake.log", exit: 0, diagnosis: "verified", says: ["verified:", "woke from deep sleep", "resumed its TLS session"] },
  { log: "deep-sleep-no-wifi.log", exit: 3, diagnosis: "timeout", says: ["deep sleep for 300 s", "--timeout"], args: ["--timeout", "5"] },
  { log: "timeout-after-wifi.log", exit: 3, diagnosis: "timeout", says: ["timed out:", "last line: [esp-certs] time ok"], args: ["--timeout", "5"] },
];

/** A log's bytes; `{CA}` stands for the CA id of the project the board was flashed from. */
export function fixtureBytes(log: string, caId: string): Buffer {
  const raw = readFileSync(path.join(repoRoot, "test", "fixtures", "serial", log));
  return Buffer.from(raw.toString("latin1").replaceAll("{CA}", caId), "latin1");
}
