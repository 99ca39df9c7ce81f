/**
 * The hook's stamp (docs/commands.md, "hook"): what a successful `esp-certs hook` depended on,
 * so that firmware/esp_certs_hook.py can tell that nothing changed without starting Node.js.
 * The script skips the CLI only while every recorded input is as recorded and the clock is
 * before `renewBy`; anything it cannot read or compare sends it to the CLI, which decides.
 * Part of the hook's no-op path: node:crypto hashing only, no X.509 or template library.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import type { Config } from "../config/config.js";
import { platformioIniPath } from "../config/config.js";
import { writeIfChanged } from "../fs/sync.js";
import type { Manifest } from "../store/manifest.js";
import { readManifest } from "../store/manifest.js";
import { crlNextUpdateOf } from "../pki/crl-dates.js";
import { storePaths } from "../store/paths.js";
import { renewalStart, RENEW_WITHIN_DAYS } from "../pki/renewal-window.js";
import { noopInputs } from "./noop-inputs.js";
import { sha256Hex } from "../units.js";

/** Bump when the stamp's shape or meaning changes; esp_certs_hook.py checks it (STAMP_FORMAT there). */
export const STAMP_FORMAT = 2;

export interface HookStamp {
  format: typeof STAMP_FORMAT;
  /** $PIOENV and the --client the script passed ("" when none). */
  env: string;
  client: string;
  /** The machine's name: mqtt_host's default is <hostname>.local. */
  hostname: string;
  /** SHA-256 of each ${sysenv.NAME} platformio.ini reads (null: unset); hashes, as a value may be a secret. */
  sysenv: Record<string, string | null>;
  /** The CLI that wrote it (its bundle, symlinks followed): another version may render differently. */
  cli: { path: string; size: number; mtimeNs: string } | null;
  /**
   * SHA-256 of every input of the no-op decision (noop-inputs.ts); null for a path that was
   * absent and whose appearing would give the hook work (the CRL, an unfinished --new-ca).
   */
  files: Record<string, string | null>;
  /** The permission bits (mode & 0o777) of noop-inputs.ts's `modes`; empty on Windows, which has none. */
  modes: Record<string, number>;
  /** Unix ms from which the clock alone may give the hook work (a renewal); null: never. */
  renewBy: number | null;
}

/**
 * What the hook must act on at a time of day rather than on a changed file: each certificate
 * the header depends on enters its renewal window, and the CRL its re-sign window. This is the one
 * place for such deadlines; the stamp holds the earliest.
 */
export function clockDeadlines(config: Config, manifest: Manifest, clientId: string): { what: string; at: number }[] {
  const caNotAfter = Date.parse(manifest.ca.notAfter);
  const leaves: [string, { notAfter: string } | undefined, number][] = [
    ["the broker certificate", manifest.server, RENEW_WITHIN_DAYS],
    [`client ${clientId}'s certificate`, manifest.clients[clientId], RENEW_WITHIN_DAYS],
    // Every client enters renew_days (hook.ts: storeNeedsWork renews them on their own keys).
    ...Object.entries(manifest.clients).map(([id, c]): [string, { notAfter: string }, number] => [`client ${id}'s certificate`, c, config.renewDays]),
  ];
  const out: { what: string; at: number }[] = [];
  for (const [what, leaf, windowDays] of leaves) {
    if (leaf === undefined) continue;
    const at = renewalStart(Date.parse(leaf.notAfter), config.certDays, caNotAfter, windowDays);
    if (at !== undefined) out.push({ what, at });
  }
  // The CRL is re-signed by the same rule as a certificate is renewed (crl-dates.ts).
  const crl = storePaths(config.certDir).crlPem;
  const next = existsSync(crl) ? crlNextUpdateOf(readFileSync(crl, "utf8")) : undefined;
  const at = next && renewalStart(next.getTime(), config.certDays, caNotAfter);
  if (at !== undefined) out.push({ what: "the CRL", at });
  return out;
}

export function buildStamp(config: Config, opts: { env: string; client?: string; cliFile?: string }, clientId: string): HookStamp {
  const inputs = noopInputs(config, clientId, opts.env);
  const files: Record<string, string | null> = Object.fromEntries(inputs.files.map((f) => [f, sha256Hex(readFileSync(f))]));
  for (const f of inputs.optional) files[f] = existsSync(f) ? sha256Hex(readFileSync(f)) : null;
  for (const absent of inputs.absences) files[absent] = null;
  const ini = readFileSync(platformioIniPath(config.projectDir), "utf8");
  const sysenv = Object.fromEntries([...ini.matchAll(/\$\{sysenv\.([^}]+)\}/g)].map(([, name]) => [name, process.env[name] === undefined ? null : sha256Hex(Buffer.from(process.env[name]!))]));
  const manifest = readManifest(storePaths(config.certDir).manifest);
  const deadlines = manifest === undefined ? [] : clockDeadlines(config, manifest, clientId);
  return {
    format: STAMP_FORMAT,
    env: opts.env,
    client: opts.client ?? "",
    hostname: hostname(),
    sysenv,
    cli: cliIdentity(opts.cliFile),
    files,
    modes: process.platform === "win32" ? {} : Object.fromEntries(inputs.modes.map((f) => [f, statSync(f).mode & 0o777])),
    renewBy: deadlines.length === 0 ? null : Math.min(...deadlines.map((d) => d.at)),
  };
}

function cliIdentity(file: string | undefined): HookStamp["cli"] {
  if (file === undefined) return null;
  try {
    const real = realpathSync(file);
    const st = statSync(real, { bigint: true });
    return { path: real, size: Number(st.size), mtimeNs: String(st.mtimeNs) };
  } catch {
    return null; // the script then never skips the CLI: slower, never wrong
  }
}

/** Writes the stamp where the script asked (PlatformIO's build folder for the environment). */
export function writeStamp(file: string, stamp: HookStamp): void {
  writeIfChanged(path.resolve(file), `${JSON.stringify(stamp, null, 2)}\n`);
}

