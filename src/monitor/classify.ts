/**
 * One serial line -> one event. Pure. Knows three dialects: the esp-certs firmware's
 * `[esp-certs] ...` lines (docs/serial-protocol.md), the workshop sketch's plain lines, and what the ESP8266
 * ROM and core print on their own (reset causes, crash dumps).
 */

export type CrashKind = "exception" | "soft-wdt" | "panic" | "abort" | "stack-overflow" | "cpp-exception" | "stack-dump";

export type DeviceEvent =
  /** cred: where the identity came from (flash, header, none); firmware before provisioning names none. */
  | { kind: "boot"; client?: string; host?: string; port?: number; ca?: string; cred?: string }
  /** A credential record is present but unusable (docs/credential-record.md). */
  | { kind: "cred-fail"; reason?: string }
  /** No identity at all: an unprovisioned device of a fleet image. */
  | { kind: "cred-none"; hint?: string }
  /** A renewed certificate taken over MQTT (docs/renewal.md); `until`: its end, unix seconds. */
  | { kind: "cred-renewed"; serial?: string; until?: number }
  /** A certificate offered over MQTT and refused; the device keeps its identity and its connection. */
  | { kind: "cred-renew-fail"; reason?: string }
  | { kind: "wifi-ok"; ip?: string }
  | { kind: "wifi-fail"; status?: number }
  /** How the broker's name resolved before TLS (docs/windows.md). */
  | { kind: "dns-ok"; host?: string; ip?: string; ms?: number }
  | { kind: "dns-fail"; host?: string; ms?: number }
  /** `from`: "last" (the last address that worked) or "mqtt_address". */
  | { kind: "dns-fallback"; host?: string; ip?: string; from?: string }
  /** `source`: ntp, floor, or rtc (the clock kept in RTC memory across deep sleep). */
  | { kind: "time"; epoch?: number; source?: string }
  /**
   * A deep-sleep wake found what the previous wake kept in RTC memory (docs/deep-sleep.md): `age`, seconds since its
   * clock was set, or "none" when no clock was kept; `ip` an address or "none".
   */
  | { kind: "rtc-ok"; age?: string; ip?: string; mfln?: string; session?: boolean }
  /** A deep-sleep wake discarded what was kept; it goes the long way (probe, NTP, full handshake). */
  | { kind: "rtc-fail"; reason?: string }
  /** The device goes into deep sleep: `ms` awake this wake, `us` the sleep; its next boot is a wake. */
  | { kind: "sleep"; ms?: number; us?: number }
  /** `resumed`: undefined from firmware older than session resumption, which does not say. */
  | { kind: "tls-ok"; host?: string; port?: number; ms?: number; heap?: number; mfln?: string; resumed?: boolean }
  /** `plain`: the workshop sketch's "last SSL Error = N : text". */
  | { kind: "tls-fail"; code: number; text: string; plain?: boolean }
  /** `plain`: the workshop sketch's lines, which name no client, host or state. */
  | { kind: "mqtt-ok"; client?: string; plain?: boolean }
  | { kind: "mqtt-fail"; state?: number; plain?: boolean }
  | { kind: "rom-reset"; cause: number }
  | { kind: "crash"; crash: CrashKind; exception?: number; detail?: string }
  | { kind: "stack-ctx"; ctx: string }
  | { kind: "stack-end" }
  | { kind: "cut-here" }
  | { kind: "alloc-fail"; size: number }
  | { kind: "other" };

/** What starts each line of the esp-certs firmware (docs/serial-protocol.md). */
export const PREFIX = "[esp-certs] ";

/** `key=value` pairs; a value may be double-quoted (then it runs to the last quote). */
export function parseFields(s: string): Map<string, string> {
  const fields = new Map<string, string>();
  const re = /(\w+)=("(.*)"|\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    fields.set(m[1], m[3] ?? m[2]);
    if (m[3] !== undefined) break; // a quoted value is the last field: it may hold anything
  }
  return fields;
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

function flag(v: string | undefined): boolean | undefined {
  return v === "1" ? true : v === "0" ? false : undefined;
}

function ours(rest: string): DeviceEvent {
  const renewal = /^cred (renewed|renew fail)\b\s*(.*)$/.exec(rest);
  if (renewal) {
    const f = parseFields(renewal[2]);
    return renewal[1] === "renewed" ? { kind: "cred-renewed", serial: f.get("serial"), until: int(f.get("until")) } : { kind: "cred-renew-fail", reason: f.get("reason") };
  }
  const m = /^(\w+)(?: (ok|fail|none|fallback)\b)?\s*(.*)$/.exec(rest);
  if (!m) return { kind: "other" };
  const f = parseFields(m[3]);
  switch (m[2] === undefined ? m[1] : `${m[1]} ${m[2]}`) {
    case "boot":
      return { kind: "boot", client: f.get("client"), host: f.get("host"), port: int(f.get("port")), ca: f.get("ca")?.toLowerCase(), cred: f.get("cred") };
    case "cred fail":
      return { kind: "cred-fail", reason: f.get("reason") };
    case "cred none":
      return { kind: "cred-none", hint: f.get("hint") };
    case "wifi ok":
      return { kind: "wifi-ok", ip: f.get("ip") };
    case "wifi fail":
      return { kind: "wifi-fail", status: int(f.get("status")) };
    case "dns ok":
      return { kind: "dns-ok", host: f.get("host"), ip: f.get("ip"), ms: int(f.get("ms")) };
    case "dns fail":
      return { kind: "dns-fail", host: f.get("host"), ms: int(f.get("ms")) };
    case "dns fallback":
      return { kind: "dns-fallback", host: f.get("host"), ip: f.get("ip"), from: f.get("from") };
    case "time ok":
      return { kind: "time", epoch: int(f.get("epoch")), source: f.get("source") };
    case "rtc ok":
      return { kind: "rtc-ok", age: f.get("age"), ip: f.get("ip"), mfln: f.get("mfln"), session: flag(f.get("session")) };
    case "rtc fail":
      return { kind: "rtc-fail", reason: f.get("reason") };
    case "sleep":
      return { kind: "sleep", ms: int(f.get("ms")), us: int(f.get("us")) };
    case "tls ok":
      return {
        kind: "tls-ok",
        host: f.get("host"),
        port: int(f.get("port")),
        ms: int(f.get("ms")),
        heap: int(f.get("heap")),
        mfln: f.get("mfln"),
        resumed: flag(f.get("resumed")),
      };
    case "tls fail": {
      const code = int(f.get("code"));
      return code === undefined ? { kind: "other" } : { kind: "tls-fail", code, text: f.get("text") ?? "" };
    }
    case "mqtt ok":
      return { kind: "mqtt-ok", client: f.get("client") };
    case "mqtt fail":
      return { kind: "mqtt-fail", state: int(f.get("state")) };
    default:
      return { kind: "other" };
  }
}

// The crash report of the ESP8266 core (cores/esp8266/core_esp8266_postmortem.cpp) and the
// older SDK's "Fatal exception N(Name):".
const CRASH_LINES: [RegExp, (m: RegExpExecArray) => DeviceEvent][] = [
  [/Exception \((\d+)\):/, (m) => ({ kind: "crash", crash: "exception", exception: Number(m[1]) })],
  // Not ESP.getResetInfo()'s "Fatal exception:29 flag:2", which reports the previous boot's crash.
  [/Fatal exception (\d+)\(/, (m) => ({ kind: "crash", crash: "exception", exception: Number(m[1]) })],
  [/Soft WDT reset/, () => ({ kind: "crash", crash: "soft-wdt" })],
  [/^\s*Panic (.*)/, (m) => ({ kind: "crash", crash: "panic", detail: m[1].trim() })],
  [/^\s*Abort called/, () => ({ kind: "crash", crash: "abort" })],
  // The core's stack-protector report (its __stack_chk_fail), after "PANIC: Stack overrun".
  [/Stack overflow detected/, () => ({ kind: "crash", crash: "stack-overflow" })],
  [/Unhandled C\+\+ exception: ?(.*)/, (m) => ({ kind: "crash", crash: "cpp-exception", detail: m[1].trim() })],
  [/>>>stack>>>/, () => ({ kind: "crash", crash: "stack-dump" })],
  [/^\s*ctx: (\w+)/, (m) => ({ kind: "stack-ctx", ctx: m[1] })],
  [/<<<stack<<</, () => ({ kind: "stack-end" })],
  [/-{5,} CUT HERE FOR EXCEPTION DECODER -{5,}/, () => ({ kind: "cut-here" })],
  [/last failed alloc call: [0-9A-Fa-f]+\((\d+)\)/, (m) => ({ kind: "alloc-fail", size: Number(m[1]) })],
  [/rst cause:\s*(\d+)/, (m) => ({ kind: "rom-reset", cause: Number(m[1]) })],
];

export function classifyLine(line: string): DeviceEvent {
  // Boot noise can run into the first line without a newline between, so look anywhere.
  const at = line.indexOf(PREFIX);
  if (at !== -1) return ours(line.slice(at + PREFIX.length).trim());

  const ssl = /last SSL Error = (-?\d+)\s*:\s*(.*)$/.exec(line);
  if (ssl) return { kind: "tls-fail", code: Number(ssl[1]), text: ssl[2].trim(), plain: true };
  if (/MQTT Failed to connect/i.test(line)) return { kind: "mqtt-fail", plain: true };
  // "Attempting MQTT connection...MQTT Connected": the sketch prints both on one line.
  if (/MQTT Connected/i.test(line)) return { kind: "mqtt-ok", plain: true };
  if (/WiFi Connected/i.test(line)) return { kind: "wifi-ok" };

  for (const [re, make] of CRASH_LINES) {
    const m = re.exec(line);
    if (m) return make(m);
  }
  return { kind: "other" };
}
