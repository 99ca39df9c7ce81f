/**
 * What `esp-certs monitor` (and flash and provision after it) does: restart the board, read its
 * serial lines, stop at the first verdict (docs/serial-protocol.md). The I/O edge only: lines.ts
 * splits, classify.ts reads, verdict.ts decides; what it has to say goes to the caller's `MonitorOutput`.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { loadConfig } from "../config/config.js";
import { EspCertsError, ExitCode } from "../errors.js";
import type { StorePaths } from "../store/paths.js";
import { CertificateStore } from "../store/store.js";
import { LineSplitter } from "../serial/lines.js";
import { DEFAULT_BAUD, DEFAULT_TIMEOUT_S } from "./numeric-options.js";
import { closePort, openPort } from "../serial/open.js";
import { resetBoard } from "../serial/reset.js";
import { feedLine } from "./feed.js";
import { finish, initialState, type Expected, type MonitorState, type Verdict } from "./verdict.js";
import { sha256Hex } from "../units.js";

/** Where the monitor's running commentary goes: the command prints it, or drops it for --json. */
export interface MonitorOutput {
  /** A line the board printed (`noise`: unreadable bytes). */
  line(text: string, noise: boolean): void;
  note(text: string): void;
  warn(text: string): void;
}

export interface MonitorOptions {
  port: string;
  /** Default 115200, the firmware's speed (parseBaud reads the flag). */
  baud?: number;
  /** Seconds without a verdict before exit 3. Default 90 (parseTimeout reads the flag). */
  timeout?: number;
  /** Restart the board through DTR/RTS first. Default true. */
  reset?: boolean;
  json?: boolean;
  projectDir: string;
  /** Set by `provision`: verified only when the device boots as this client from its credential record. */
  expectClient?: string;
}

/** First 16 hex digits of the SHA-256 of the CA's DER: what the firmware's boot line prints as ca=. */
function localCaId(p: StorePaths): string | undefined {
  const der = p.caCertDer;
  if (!existsSync(der)) return undefined;
  return sha256Hex(readFileSync(der)).slice(0, 16);
}

/** Everything checked before the port is opened. */
export function prepare(opts: MonitorOptions, out: Pick<MonitorOutput, "warn">): { expected: Expected; baud: number; timeoutS: number } {
  if (opts.port.trim() === "") throw new EspCertsError("Cannot monitor", "--port is empty", "e.g. --port /dev/ttyUSB0 or --port COM3");
  const baud = opts.baud ?? DEFAULT_BAUD;
  const timeoutS = opts.timeout ?? DEFAULT_TIMEOUT_S;
  const config = loadConfig(opts.projectDir);
  const store = CertificateStore.open(config);
  const ca = localCaId(store.paths);
  if (ca === undefined) {
    out.warn(`${store.paths.caCertDer} does not exist: the device's CA cannot be checked, so a connection will not count as verified.`);
  }
  const expected = { host: config.mqttHost, port: config.mqttPort, ca, certDir: config.certDir, brokerNames: brokerNames(store.paths), serial: opts.port, client: opts.expectClient };
  return { expected, baud, timeoutS };
}

/** The DNS names in the store's broker certificate, to tell a stale broker from a wrong certificate. */
function brokerNames(p: StorePaths): string[] | undefined {
  const der = p.serverCertDer;
  if (!existsSync(der)) return undefined;
  try {
    const san = new X509Certificate(readFileSync(der)).subjectAltName ?? "";
    return san.split(", ").filter((e) => e.startsWith("DNS:")).map((e) => e.slice(4));
  } catch {
    return undefined; // unreadable: doctor and generate report it; the monitor just cannot use it
  }
}

/** Restarts the board (unless told not to) and reads it until a verdict or the timeout. */
export async function watchBoard(opts: MonitorOptions, out: MonitorOutput): Promise<{ verdict: Verdict; state: MonitorState }> {
  const { expected, baud, timeoutS } = prepare(opts, out);
  const port = await openPort(opts.port, baud);
  try {
    if (opts.reset !== false) {
      const why = await resetBoard(port);
      if (why !== undefined) out.warn(`cannot restart the board through DTR/RTS on ${opts.port} (${why}); reading on without a restart: press the board's RESET button if nothing appears.`);
    }
    out.note(`reading ${opts.port} at ${baud} baud for up to ${timeoutS} s`);
    return await read(port, initialState(expected), timeoutS, out);
  } finally {
    await closePort(port);
  }
}

type Readable = Awaited<ReturnType<typeof openPort>>;

function read(port: Readable, start: MonitorState, timeoutS: number, out: MonitorOutput): Promise<{ verdict: Verdict; state: MonitorState }> {
  return new Promise((resolve, reject) => {
    const splitter = new LineSplitter();
    let state = start;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(gone);
      for (const event of ["data", "close", "error"]) port.removeAllListeners(event);
      outcome();
    };
    const stop = (verdict: Verdict) => settle(() => resolve({ verdict, state }));
    const feed = (lines: string[]) => {
      for (const line of lines) {
        const fed = feedLine(state, line);
        state = fed.state;
        for (const l of fed.shown) out.line(l.text, l.noise === true);
        if (state.verdict) return stop(state.verdict);
      }
    };
    const end = (why?: string) => {
      feed(splitter.flush());
      if (state.verdict || state.crash || why === undefined) return stop(finish(state, timeoutS));
      settle(() => reject(new EspCertsError(`Cannot read ${start.expected.serial}`, why, "Plug it in and run the monitor again.", ExitCode.usage)));
    };
    const unplugged = "the port closed before the device reported a result (was the board unplugged?)";
    const timer = setTimeout(() => end(), timeoutS * 1000);
    // Unplugging removes the device node, but serialport does not always hear of it (a hung-up
    // pty can leave its poll waiting): look for the node itself. COM ports have no node.
    const path = start.expected.serial;
    const watch = process.platform !== "win32" && existsSync(path);
    const gone = setInterval(() => watch && !existsSync(path) && end(unplugged), 500);
    port.on("data", (chunk: Buffer) => feed(splitter.push(chunk)));
    port.once("close", () => end(unplugged));
    port.once("error", (err: Error) => end(`${unplugged}: ${err.message}`));
    // It may have gone while the board was being reset, before these listeners were there.
    if (!port.isOpen) end(unplugged);
  });
}
