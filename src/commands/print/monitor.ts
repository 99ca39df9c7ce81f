// How monitor, flash and provision watch a board and print what they saw and the verdict.
import type { MonitorOptions, MonitorOutput } from "../../monitor/watch.js";
import { watchBoard } from "../../monitor/watch.js";
import type { MonitorState, Verdict } from "../../monitor/verdict.js";
import { colour, info, note, printJson, warn } from "../../ui.js";

/** Watches the board, printing its lines as they come (not with --json), then the verdict; resolves to the exit code. */
export async function runMonitor(opts: MonitorOptions): Promise<number> {
  const json = opts.json === true;
  const out: MonitorOutput = {
    line: (text, noise) => json || info(colour.dim(noise ? "(unreadable bytes: boot messages at 74880 baud, or a wrong --baud)" : text)),
    note: (text) => json || note(text),
    warn,
  };
  const { verdict, state } = await watchBoard(opts, out);
  report(verdict, state, json);
  return verdict.exitCode;
}

function report(v: Verdict, s: MonitorState, json: boolean): void {
  if (json) {
    printJson({
      result: v.result,
      exitCode: v.exitCode,
      diagnosis: v.id,
      title: v.title,
      cause: v.cause,
      fix: v.fix,
      device: s.device,
      expected: { host: s.expected.host, port: s.expected.port, ca: s.expected.ca ?? null },
      serialPort: s.expected.serial,
      lastLine: s.lastLine ?? null,
    });
    return;
  }
  if (v.result === "verified") {
    const d = s.device;
    const handshake = d.resumed === undefined ? "handshake" : d.resumed ? "resumed session" : "full handshake";
    const extra = [d.tlsMs !== undefined ? `${handshake} ${d.tlsMs} ms` : "", d.heap !== undefined ? `${d.heap} bytes free heap` : ""].filter(Boolean).join(", ");
    info(`${colour.green("verified:")} ${v.title}${extra ? ` (${extra})` : ""}`);
    return;
  }
  info(`${colour.bold(v.result === "timeout" ? "timed out:" : "failed:")} ${v.title}`);
  if (v.cause) info(`  cause: ${v.cause}`);
  if (v.fix) info(`  fix:   ${v.fix}`);
}
