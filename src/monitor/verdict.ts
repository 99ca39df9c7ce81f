/**
 * The verdict state machine: device events in, at most one verdict out (docs/serial-protocol.md). Pure:
 * monitor.ts feeds it lines and the clock; tests feed it recorded logs.
 */
import { isIP } from "node:net";
import type { CrashKind, DeviceEvent } from "./classify.js";
import { BEARSSL_ERRORS, EXCEPTION_CAUSES, MQTT_STATES, OUT_OF_MEMORY, RECV_FATAL_ALERT, ROM_RESET_CAUSES, SEND_FATAL_ALERT, TLS_ALERTS, WIFI_STATUS, named } from "./codes.js";
import { diagnosis, type DiagnosisContext, type DiagnosisId } from "./diagnoses.js";
import { shellWord } from "../ui.js";

export type Result = "verified" | "failed" | "timeout";

export interface Verdict {
  result: Result;
  exitCode: 0 | 1 | 3;
  /** The diagnosis, or "verified" / "timeout". */
  id: DiagnosisId | "verified" | "timeout";
  title: string;
  cause?: string;
  fix?: string;
}

export interface Expected {
  host: string;
  port: number;
  /** First 16 hex digits of the local CA's SHA-256; undefined when the project has no CA. */
  ca?: string;
  certDir: string;
  /** The DNS names of the store's broker certificate; undefined when the store has none. */
  brokerNames?: string[];
  /** The serial port being read (for fix commands). */
  serial: string;
  /** Set by `provision`: verified only when the device says `client=<this> cred=flash`. */
  client?: string;
}

/** What the device has said so far. */
export interface DeviceFacts {
  client?: string;
  /** The boot line's cred= (flash, header, none); undefined from firmware that reads no record. */
  cred?: string;
  /** The reason of a `cred fail` line before the boot line. */
  credFail?: string;
  host?: string;
  port?: number;
  ca?: string;
  ip?: string;
  timeSource?: string;
  epoch?: number;
  tlsMs?: number;
  heap?: number;
  mfln?: string;
  /** The TLS session was resumed (no certificate checked, no public-key operation). */
  resumed?: boolean;
  /** A `dns fail` not yet followed by a `dns fallback`: the next event decides (docs/windows.md). */
  dnsFail?: { ms?: number };
  /** The address the device dials since the name failed, and its source (last, mqtt_address). */
  fallback?: { ip?: string; from?: string };
  /** This cycle began with a wake from deep sleep (docs/deep-sleep.md). */
  woke?: boolean;
  /** What the wake found in RTC memory: kept (session, record size, address, clock), or discarded and why. */
  rtc?: { kept: boolean; reason?: string; age?: number; ip?: string };
  /** From the last `sleep` line: time awake in that wake, and the deep sleep that followed. */
  awakeMs?: number;
  sleepUs?: number;
}

type Stage = "silent" | "noise" | "talking" | "booted" | "wifi" | "time" | "tls" | "sleeping";

interface Crash {
  crash: CrashKind;
  exception?: number;
  detail?: string;
  ctx?: string;
  allocFail?: number;
}

export interface MonitorState {
  expected: Expected;
  device: DeviceFacts;
  stage: Stage;
  /**
   * Boots seen (boot lines and readable ROM resets; a ROM reset and the boot line after it count once).
   * A wake from deep sleep is not counted: a sleeping device boots once per wake, by design.
   */
  boots: number;
  /** Deep-sleep wakes seen. */
  wakes: number;
  /** The device said it goes to sleep (`sleep` line, or the ROM's rst cause 5): its next boot is a wake. */
  asleep: boolean;
  resetCauses: number[];
  lastWasRomReset: boolean;
  /** Inside the core's "CUT HERE" markers. */
  inDump: boolean;
  crash?: Crash;
  lastLine?: string;
  verdict?: Verdict;
}

export const REBOOT_LOOP_BOOTS = 3;
/** The ROM's `rst cause:5`: the RTC timer woke the chip from deep sleep. */
const ROM_DEEP_SLEEP_WAKE = 5;

export function initialState(expected: Expected): MonitorState {
  return { expected, device: {}, stage: "silent", boots: 0, wakes: 0, asleep: false, resetCauses: [], lastWasRomReset: false, inDump: false };
}

function ctxOf(s: MonitorState, extra: Partial<DiagnosisContext> = {}): DiagnosisContext {
  const id = s.expected.client ?? s.device.client ?? "<id>";
  return {
    host: s.expected.host,
    port: s.expected.port,
    // Only ever put into a suggested command: one shell word.
    serial: shellWord(s.expected.serial),
    certDir: s.expected.certDir,
    localCa: s.expected.ca,
    deviceCa: s.device.ca,
    deviceHost: s.device.host,
    devicePort: s.device.port,
    client: s.expected.client ?? s.device.client,
    reason: s.device.credFail,
    // An identity from the credential record is replaced by provision; a reflash keeps the record.
    bringBack:
      s.device.cred === "flash"
        ? `\`esp-certs provision --port ${shellWord(s.expected.serial)} --client ${id}\``
        : `\`esp-certs generate --rekey ${id}\`, then \`esp-certs flash --port ${shellWord(s.expected.serial)}\``,
    ...extra,
  };
}

function fail(s: MonitorState, id: DiagnosisId, extra: Partial<DiagnosisContext> = {}): MonitorState {
  const d = diagnosis(id, ctxOf(s, extra));
  return { ...s, verdict: { result: "failed", exitCode: 1, id, ...d } };
}

/** The device named a host or a port other than the configured ones (each checked once named). */
function dialsElsewhere(s: MonitorState): boolean {
  const { host, port } = s.device;
  return (host !== undefined && host.toLowerCase() !== s.expected.host.toLowerCase()) || (port !== undefined && port !== s.expected.port);
}

function tlsFailure(s: MonitorState, code: number, text: string): MonitorState {
  const extra = { code, text };
  if (code === OUT_OF_MEMORY) return fail(s, "tls-oom", extra);
  // The core reports an alert as 256/512 + alert; newer cores strip the offset from the number
  // but keep the words, so either one marks an alert.
  const received = code >= RECV_FATAL_ALERT && code < SEND_FATAL_ALERT || /SSL received fatal alert/i.test(text);
  const sent = code >= SEND_FATAL_ALERT || /SSL sent fatal alert/i.test(text);
  if (received || sent) {
    const alert = code & 0xff;
    const name = `${TLS_ALERTS[alert] ?? "alert"} (alert ${alert})`;
    const id = received ? (ALERT_DIAGNOSES[alert] ?? "alert-received") : "alert-sent";
    return fail(s, id, { ...extra, name });
  }
  const name = named(BEARSSL_ERRORS, code);
  if (code === 62 && s.device.ca !== undefined && s.device.ca === s.expected.ca) return fail(s, "tls-62-broker-ca", { ...extra, name });
  if (code === 54 && s.device.timeSource === "floor") return fail(s, "tls-54-floor", { ...extra, name });
  if (code === 56 && isIP(s.expected.host) !== 0) return fail(s, "tls-56-ip", { ...extra, name });
  // The store's certificate names the host already: re-issuing changes nothing; the broker runs another.
  if (code === 56 && s.expected.brokerNames?.some((n) => n.toLowerCase() === s.expected.host.toLowerCase())) {
    return fail(s, "tls-56-broker-stale", { ...extra, name });
  }
  const known = TLS_DIAGNOSES[code];
  if (known !== undefined) return fail(s, known, { ...extra, name });
  return fail(s, code > 32 && code < 64 ? "tls-x509" : "tls", { ...extra, name });
}

// The codes with a diagnosis of their own; the others get their family's.
const TLS_DIAGNOSES: Partial<Record<number, DiagnosisId>> = {
  28: "tls-28", 29: "tls-29", 31: "tls-31", 54: "tls-54", 56: "tls-56", 57: "tls-57", 58: "tls-58", 59: "tls-59", 60: "tls-60", 62: "tls-62",
};
const ALERT_DIAGNOSES: Partial<Record<number, DiagnosisId>> = {
  40: "alert-received-40", 42: "alert-received-42", 43: "alert-received-43", 44: "alert-received-44", 45: "alert-received-45",
  48: "alert-received-48", 51: "alert-received-51", 70: "alert-received-70", 71: "alert-received-71",
};
const WIFI_DIAGNOSES: Partial<Record<number, DiagnosisId>> = { 1: "wifi-1", 4: "wifi-4", 6: "wifi-6" };
const MQTT_DIAGNOSES: Partial<Record<number, DiagnosisId>> = {
  [-4]: "mqtt--4", [-3]: "mqtt--3", [-2]: "mqtt--2", 1: "mqtt-1", 2: "mqtt-2", 4: "mqtt-4", 5: "mqtt-5",
};

function crashVerdict(s: MonitorState): MonitorState {
  const c = s.crash!;
  const seen = [
    c.ctx !== undefined ? `in ctx: ${c.ctx}` : "",
    c.allocFail !== undefined ? `last failed allocation: ${c.allocFail} bytes` : "",
    c.detail ? c.detail : "",
  ].filter(Boolean).join("; ");
  const extra = { seen: seen ? ` (${seen})` : "" };
  if (c.ctx === "bearssl") return fail(s, c.crash === "soft-wdt" ? "wdt-bearssl" : "crash-bearssl", extra);
  if (c.crash === "soft-wdt") return fail(s, "soft-wdt", extra);
  if (c.crash === "exception" && c.exception !== undefined) {
    const known = EXCEPTION_CAUSES[c.exception];
    return fail(s, "exception", {
      ...extra,
      name: `Exception (${c.exception})${known ? ` ${known.name}` : ""}`,
      meaning: known?.meaning ?? `exception cause ${c.exception}`,
    });
  }
  return fail(s, "crash", { ...extra, name: c.crash });
}

function dnsFailure(s: MonitorState): MonitorState {
  return fail({ ...s, device: { ...s.device, dnsFail: undefined } }, "dns-fail", { dnsMs: s.device.dnsFail?.ms });
}

function connected(s: MonitorState, plain: boolean): MonitorState {
  if (plain || s.stage !== "tls") return fail(s, "unconfirmed");
  if (s.expected.ca === undefined) return fail(s, "no-local-ca");
  if (s.device.ca === undefined) return fail(s, "no-boot-line");
  const d = s.device;
  // Mismatches failed on their own line; a firmware that never names them confirms nothing.
  if (d.host === undefined || d.port === undefined) return fail(s, "unconfirmed-host");
  return {
    ...s,
    verdict: {
      result: "verified",
      exitCode: 0,
      id: "verified",
      title:
        `${d.client ?? "the device"}${d.cred === "flash" ? " (identity from its credential record)" : ""} connected to ${d.host}:${d.port} with mutual TLS and MQTT; its CA ${d.ca} is this project's` +
        (d.fallback !== undefined
          ? `; but ${d.host} did not resolve: it dialled ${d.fallback.ip ?? "?"} (${d.fallback.from === "last" ? "the last address that worked" : "mqtt_address"}), so run \`esp-certs doctor\` (docs/windows.md)`
          : "") +
        wakeNote(d),
    },
  };
}

function int(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** What a wake from deep sleep reused, for the verified line. */
function wakeNote(d: DeviceFacts): string {
  if (!d.woke) return "";
  if (d.rtc === undefined) return "; it woke from deep sleep";
  if (!d.rtc.kept) return `; it woke from deep sleep and discarded what RTC memory held (${d.rtc.reason ?? "unknown"}), so it went the long way`;
  return `; it woke from deep sleep with what the wake before kept in RTC memory${d.resumed ? " and resumed its TLS session" : ", but the broker did not resume its TLS session"}`;
}

/** After the boot line: the identity `provision` wrote must be the one in use. */
function credentialCheck(s: MonitorState): MonitorState {
  const { client, cred } = s.device;
  if (cred === "none") return fail(s, s.device.credFail !== undefined ? "cred-rejected" : "unprovisioned");
  if (s.expected.client === undefined) return s;
  if (cred === undefined) return fail(s, "no-cred");
  if (cred !== "flash") return fail(s, s.device.credFail !== undefined ? "cred-rejected" : "cred-not-flash");
  if (client !== s.expected.client) return fail(s, "cred-other-client", { name: client ?? "" });
  return s;
}

function boot(s: MonitorState, fromRom: boolean, wake: boolean): MonitorState {
  const counted = !wake && (fromRom || !s.lastWasRomReset);
  const next = { ...s, boots: s.boots + (counted ? 1 : 0), lastWasRomReset: fromRom, stage: "booted" as Stage };
  // A crash report ends when the board restarts, even without its closing marker.
  if (s.crash) return crashVerdict(s);
  if (next.boots >= REBOOT_LOOP_BOOTS) {
    const causes = [...new Set(next.resetCauses)].map((c) => `rst cause ${c}: ${ROM_RESET_CAUSES[c] ?? "unknown"}`);
    return fail(next, "reboot-loop", { seen: causes.length ? ` (${causes.join("; ")})` : "" });
  }
  return next;
}

/** One event; `line` is what the device printed, kept for the timeout report. */
export function step(state: MonitorState, e: DeviceEvent, line: string, noise = false): MonitorState {
  if (state.verdict) return state;
  let s: MonitorState = { ...state, lastLine: noise ? state.lastLine : line };
  // A dns fail is the verdict unless the device names a fallback address next.
  if (s.device.dnsFail !== undefined && e.kind !== "dns-fallback" && e.kind !== "other") return dnsFailure(s);
  if (s.stage === "silent" || s.stage === "noise") s.stage = noise ? "noise" : "talking";
  if (e.kind !== "rom-reset" && e.kind !== "boot" && e.kind !== "other") s.lastWasRomReset = false;
  switch (e.kind) {
    case "rom-reset": {
      // The ROM's cause 5 is a wake from deep sleep: the boot line after it belongs to the same wake.
      const wake = e.cause === ROM_DEEP_SLEEP_WAKE;
      return boot({ ...s, resetCauses: [...s.resetCauses, e.cause], asleep: wake, wakes: s.wakes + (wake ? 1 : 0) }, true, wake);
    }
    case "boot": {
      const woke = s.asleep;
      s = boot({ ...s, asleep: false, wakes: s.wakes + (woke && !s.lastWasRomReset ? 1 : 0) }, false, woke);
      if (s.verdict) return s;
      const { awakeMs, sleepUs } = s.device;
      s = { ...s, device: { client: e.client, host: e.host, port: e.port, ca: e.ca, cred: e.cred, credFail: s.device.credFail, ...(woke ? { woke, awakeMs, sleepUs } : {}) } };
      if (e.ca !== undefined && s.expected.ca !== undefined && e.ca.slice(0, 16) !== s.expected.ca.slice(0, 16)) return fail(s, "ca-mismatch");
      if (dialsElsewhere(s)) return fail(s, "wrong-host");
      return credentialCheck(s);
    }
    case "cred-fail":
      return { ...s, device: { ...s.device, credFail: e.reason ?? "unknown" } };
    case "cred-none":
      return s.verdict ? s : fail(s, "unprovisioned");
    // Field renewal (docs/renewal.md): neither decides the connection's verdict; a refused
    // certificate leaves the device connected with the identity it had.
    case "cred-renewed":
    case "cred-renew-fail":
      return s;
    case "wifi-ok":
      return { ...s, stage: "wifi", device: { ...s.device, ip: e.ip } };
    case "wifi-fail": {
      const status = e.status ?? -1;
      return fail(s, WIFI_DIAGNOSES[status] ?? "wifi", { name: named(WIFI_STATUS, status), code: status });
    }
    case "dns-ok":
      return { ...s, device: { ...s.device, fallback: undefined } };
    case "dns-fail":
      return { ...s, device: { ...s.device, dnsFail: { ms: e.ms }, fallback: undefined } };
    case "dns-fallback":
      return { ...s, device: { ...s.device, dnsFail: undefined, fallback: { ip: e.ip, from: e.from } } };
    case "time":
      return { ...s, stage: "time", device: { ...s.device, epoch: e.epoch, timeSource: e.source } };
    // Only a wake from deep sleep reads RTC memory: these lines mark one even when the ROM's cause was unreadable.
    case "rtc-ok":
      return { ...s, device: { ...s.device, woke: true, rtc: { kept: true, age: int(e.age), ip: e.ip === "none" ? undefined : e.ip } } };
    case "rtc-fail":
      // Not a failure: the wake goes the long way and says how that went.
      return { ...s, device: { ...s.device, woke: true, rtc: { kept: false, reason: e.reason ?? "unknown" } } };
    case "sleep":
      return { ...s, stage: "sleeping", asleep: true, device: { ...s.device, awakeMs: e.ms, sleepUs: e.us } };
    case "tls-ok": {
      s = { ...s, stage: "tls", device: { ...s.device, host: e.host ?? s.device.host, port: e.port ?? s.device.port, tlsMs: e.ms, heap: e.heap, mfln: e.mfln, resumed: e.resumed } };
      if (dialsElsewhere(s)) return fail(s, "wrong-host");
      return s;
    }
    case "tls-fail":
      // Code 0 is no TLS error: the workshop sketch prints "last SSL Error = 0 : OK" before its
      // MQTT failure line; the esp-certs firmware reports a TCP connection that never opened.
      if (e.code === 0 && !e.plain && s.device.fallback !== undefined) {
        return fail(s, "dns-fallback-dead", { text: e.text, address: s.device.fallback.ip, from: s.device.fallback.from === "last" ? "the last address that worked" : "mqtt_address" });
      }
      if (e.code === 0) return e.plain ? s : fail(s, "no-connection", { text: e.text });
      return tlsFailure(s, e.code, e.text);
    case "mqtt-ok":
      return connected(s, e.plain === true);
    case "mqtt-fail": {
      if (e.plain || e.state === undefined) return fail(s, "mqtt-plain");
      return fail(s, MQTT_DIAGNOSES[e.state] ?? "mqtt", { name: named(MQTT_STATES, e.state), code: e.state });
    }
    case "cut-here":
      if (s.crash && s.inDump) return crashVerdict(s);
      return { ...s, inDump: true };
    case "crash":
      // Soft WDT reports an "Exception (4)" after it, and the stack marker follows both: the first names the crash.
      return s.crash ? s : { ...s, crash: { crash: e.crash, exception: e.exception, detail: e.detail } };
    case "stack-ctx":
      return s.crash ? { ...s, crash: { ...s.crash, ctx: s.crash.ctx ?? e.ctx } } : s;
    case "alloc-fail":
      return s.crash ? { ...s, crash: { ...s.crash, allocFail: e.size } } : s;
    case "stack-end":
      // Cores without the CUT HERE markers end the report here.
      return s.crash && !s.inDump ? crashVerdict(s) : s;
    case "other":
      return s;
  }
}

/** The verdict when reading stops without one: a pending crash report, or a timeout. */
export function finish(s: MonitorState, seconds: number): Verdict {
  if (s.verdict) return s.verdict;
  if (s.crash) return crashVerdict(s).verdict!;
  if (s.device.dnsFail !== undefined) return dnsFailure(s).verdict!;
  const where = `${s.expected.host}:${s.expected.port}`;
  const hints: Record<Stage, string> = {
    silent: `nothing came from ${s.expected.serial}: is the board on this port and running (press its RESET button)?`,
    noise: "only unreadable bytes came: check --baud (the firmware prints at 115200)",
    talking: "the device printed lines, but none of the esp-certs firmware's: is it running this project's firmware?",
    booted: "the device booted but did not report WiFi",
    wifi: `the device has WiFi but did not report the TLS connection to ${where} (does the name resolve on its network?)`,
    time: `the device has WiFi and time but did not report the TLS connection to ${where}`,
    tls: "TLS is up but the device did not report the MQTT session",
    sleeping: `the device went into deep sleep${s.device.sleepUs !== undefined ? ` for ${Math.round(s.device.sleepUs / 1e6)} s` : ""} without connecting; it tries again when it wakes`,
  };
  return {
    result: "timeout",
    exitCode: 3,
    id: "timeout",
    title: `No verdict within ${seconds} s`,
    cause: hints[s.stage] + (s.lastLine !== undefined ? `; last line: ${s.lastLine}` : ""),
    fix: s.stage === "silent" || s.stage === "noise" || s.stage === "talking"
      ? `Flash the firmware: esp-certs flash --port ${shellWord(s.expected.serial)} (a board in deep sleep stays silent until its next wake: watch longer with --timeout)`
      : s.stage === "sleeping"
        ? `Watch longer than its sleep (--timeout), or check the broker with esp-certs doctor.`
        : `Watch longer (--timeout), or check the broker with esp-certs doctor.`,
  };
}
