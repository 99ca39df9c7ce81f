// How init, generate, flash and the hook print what generate did.
import path from "node:path";
import { NO_CLIENT } from "../../config/config.js";
import { brokerAdvice } from "../../broker/broker.js";
import type { GenerateReport } from "../../generate/generate.js";
import { certLabel } from "../../pki/identity.js";
import type { StoreAction } from "../../store/ensure.js";
import { colour, info, printJson, warn } from "../../ui.js";

/** One line an action, as `generate` prints them: what, where, until when, and why. */
export function describeAction(a: StoreAction, projectDir: string): string {
  const what = a.action === "moved" ? "old ca" : a.item === "crl" ? "CRL" : a.cert.role === "server" ? "broker certificate" : certLabel(a.cert);
  const until = a.notAfter ? ` (until ${a.notAfter.slice(0, 10)})` : "";
  const why = a.reason ? `: ${a.reason}` : "";
  return `${a.action.padEnd(9)}${what.padEnd(20)}${path.relative(projectDir, a.file) || a.file}${until}${why}`;
}

/**
 * What `generate` did, one line a thing; kept things dimmed, or left out when `quiet`
 * (the hook and `flash`, which should say nothing when nothing changed).
 */
export function printReport(report: GenerateReport, projectDir: string, opts: { json?: boolean; quiet?: boolean } = {}): void {
  if (opts.json) {
    printJson(report);
    return;
  }
  const line = (changed: boolean, text: string) => {
    if (changed) info(text);
    else if (!opts.quiet) info(colour.dim(text));
  };
  for (const a of report.actions) line(a.action !== "kept", describeAction(a, projectDir));
  if (report.storeGitignore !== undefined) info(`${"wrote".padEnd(9)}${"git-ignored store".padEnd(20)}${path.relative(projectDir, report.storeGitignore) || report.storeGitignore} (the store holds private keys)`);
  const h = report.header;
  if (h.revoked !== undefined) info(`${"left".padEnd(9)}${"header".padEnd(20)}${path.relative(projectDir, h.path)} (client ${h.client}, revoked on ${h.revoked}: the broker refuses a device built from it)`);
  else line(h.changed, `${(h.changed ? "wrote" : "kept").padEnd(9)}${"header".padEnd(20)}${path.relative(projectDir, h.path)} (${h.client === NO_CLIENT ? "no client: a fleet image" : `client ${h.client}`})`);
  if (h.gitignore !== undefined) info(`${"wrote".padEnd(9)}${"git-ignored header".padEnd(20)}${path.relative(projectDir, h.gitignore) || h.gitignore} (the header holds a private key)`);
  const b = report.broker;
  if (b) {
    const dir = path.relative(projectDir, b.dir) || b.dir;
    line(b.changed.length > 0, `${(b.changed.length > 0 ? "wrote" : "kept").padEnd(9)}${"broker folder".padEnd(20)}${dir}${b.changed.length > 0 ? ` (${b.changed.join(", ")})` : ""}`);
    for (const advice of brokerAdvice(b, b.port)) info(advice);
  }
  for (const file of report.layouts?.written ?? []) info(`${"wrote".padEnd(9)}${"flash layout".padEnd(20)}${path.relative(projectDir, file)}`);
  for (const c of report.layouts?.chosen ?? []) {
    // Without a filesystem the 8 KiB come from OTA updates' room, and on 1m and 512k from the sketch's too.
    const room = c.sketchAfter < c.sketchBefore ? "the sketch and OTA updates have" : "OTA updates have";
    const cost = c.fsBefore === 0 ? `${room} 8 KiB less room (no filesystem)` : `the filesystem is ${c.fsAfter / 1024} KiB (${c.fsBefore / 1024} KiB before)`;
    info(`[env:${c.env}] links with ${c.ldscript}: the device's identity has two flash sectors of its own; ${cost}.`);
  }
  if (report.library?.done) info(`${"wrote".padEnd(9)}${"device library".padEnd(20)}${report.library.done}`);
  if (report.library?.warning) warn(report.library.warning);
  for (const w of report.warnings) warn(w);
}

