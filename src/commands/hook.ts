/**
 * `esp-certs hook --env NAME`: what firmware/esp_certs_hook.py runs before every `pio run`.
 * The common case is "nothing to do", so that path reads a few small files and hashes
 * them (no X.509 or template library is loaded) and prints nothing. Only when something
 * must be issued does it load `generate`, which may need the CA key.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { clientForEnv, loadConfig, NO_CLIENT, type Config } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { manifestConfig, readManifest } from "../pki/manifest.js";
import { storePaths } from "../pki/paths.js";
import { crlNextUpdateOf, crlRenewalDue } from "../pki/crl-dates.js";
import { renewalDue } from "../pki/plan.js";
import { sha256Hex } from "../pki/store.js";
import { headerIsCurrent } from "../render/header-inputs.js";
import { buildStamp, writeStamp } from "../platformio/stamp.js";
import type { BrokerResult } from "../broker/broker.js";
import type { HeaderResult } from "../render/header.js";
import { info, warn } from "../ui.js";

export interface HookOptions {
  projectDir: string;
  /** The PlatformIO environment being built ($PIOENV). */
  env: string;
  /** The environment's custom_esp_certs_client as PlatformIO resolved it (with [env] and extends). */
  client?: string;
  /** Where to write the stamp that lets the script skip the CLI next time (stamp.ts). */
  stamp?: string;
}

/**
 * The options of `esp-certs [--project-dir DIR] hook --env NAME [--client ID]`, the form
 * esp_certs_hook.py runs, or undefined for any other command line (commander reads those).
 */
export function hookArgv(argv: string[]): HookOptions | undefined {
  const at = argv.indexOf("hook");
  const before = argv.slice(0, at);
  if (at < 0 || !(before.length === 0 || (before.length === 2 && before[0] === "--project-dir"))) return undefined;
  const opts: Record<string, string> = {};
  const after = argv.slice(at + 1);
  for (let i = 0; i < after.length; i += 2) {
    const [flag, value] = [after[i], after[i + 1]];
    if (!["--env", "--client", "--stamp"].includes(flag) || value === undefined || value.startsWith("-") || flag in opts) return undefined;
    opts[flag] = value;
  }
  if (opts["--env"] === undefined) return undefined;
  return { projectDir: before[1] ?? process.cwd(), env: opts["--env"], client: opts["--client"], stamp: opts["--stamp"] };
}

export async function hookCommand(o: HookOptions): Promise<number> {
  const config = loadConfig(o.projectDir);
  const clientId = o.client || clientForEnv(config, o.env);
  if (storeNeedsWork(config, clientId, new Date()) === undefined && headerIsCurrent(config, clientId)) return stamped(config, o, clientId);
  // Only a hook with work takes the store's lock; the common no-op path stays free of it.
  const { lockStore } = await import("../pki/store-lock.js");
  return lockStore(config.projectDir, "hook", () => refresh(o), config.certDir);
}

/** The hook's work, as the store's one writer: read again, since another run may have done it meanwhile. */
async function refresh(o: HookOptions): Promise<number> {
  const config = loadConfig(o.projectDir);
  const clientId = o.client || clientForEnv(config, o.env);
  const work = storeNeedsWork(config, clientId, new Date());
  if (work === undefined && headerIsCurrent(config, clientId)) return stamped(config, o, clientId);

  for (const w of config.warnings) warn(w);
  const broker = await import("../broker/broker.js");
  let header: HeaderResult;
  let brokerResult: BrokerResult | undefined;
  if (work !== undefined) {
    const { generate, describeAction } = await import("./generate.js");
    info(`esp-certs: ${work}: generating`);
    const report = await generate(config, { client: clientId, interactive: true, crlMayWait: true });
    for (const a of report.actions) if (a.action !== "kept") info(`esp-certs: ${describeAction(a, config.projectDir)}`);
    for (const w of report.warnings.filter((w) => !config.warnings.includes(w))) warn(w);
    header = report.header;
    brokerResult = report.broker;
  } else {
    const { writeHeader } = await import("../render/header.js");
    header = await writeHeader(config, clientId);
    // A new mqtt_port reaches the header without a new certificate: the broker folder's
    // listener must follow it, or the device dials a port nothing listens on.
    if (broker.brokerFolderExists(config)) brokerResult = await broker.writeBrokerFolder(config);
  }
  if (header.changed) {
    const who = clientId === NO_CLIENT ? "no client: a fleet image" : `client ${clientId}`;
    info(`esp-certs: wrote ${path.relative(config.projectDir, header.path)} (${who}, broker ${config.mqttHost}:${config.mqttPort})`);
  }
  if (brokerResult !== undefined && brokerResult.changed.length > 0) {
    info(`esp-certs: updated ${path.relative(config.projectDir, brokerResult.dir)} (${brokerResult.changed.join(", ")})`);
    for (const line of broker.brokerAdvice(brokerResult, config.mqttPort)) info(`esp-certs: ${line}`);
  }
  return stamped(config, o, clientId);
}

/** Success: records what it depended on, when the script asked for a stamp. */
function stamped(config: Config, o: HookOptions, clientId: string): number {
  // argv[1]: the bundle node runs, whose identity the script compares before skipping it.
  if (o.stamp !== undefined) writeStamp(o.stamp, buildStamp(config, { env: o.env, client: o.client, cliFile: process.argv[1] }, clientId));
  return ExitCode.ok;
}

/**
 * Why `generate` must run before this build, or undefined when the store already holds
 * what the configuration asks for. Reads the manifest and hashes the few files the build
 * uses (no X.509 parsing): fast, and a key or certificate replaced behind the manifest's
 * back (an interrupted --rekey, a CA restored from backup/) sends the hook to generate.
 */
export function storeNeedsWork(config: Config, clientId: string, now: Date): string | undefined {
  const p = storePaths(config.certDir);
  const manifest = readManifest(p.manifest);
  if (manifest === undefined) return "there is no certificate store yet";
  if (existsSync(p.newCaDir)) return "a new CA was being put in place";
  if (!isDeepStrictEqual(manifest.config, manifestConfig(config))) return "[esp_certs] changed since the certificates were issued";
  const withClient = clientId !== NO_CLIENT;
  const client = p.client(clientId);
  const files = [p.caCertPem, p.caCertDer, p.serverCertPem, p.serverCertDer, p.serverKey, ...(withClient ? [client.certPem, client.certDer, client.keyPem, client.keyDer] : [])];
  const missing = files.find((f) => !existsSync(f));
  if (missing !== undefined) return `${path.relative(config.projectDir, missing)} is missing`;
  const own = manifest.clients[clientId];
  const recorded: [string, string | undefined][] = [
    [p.caCertDer, manifest.ca.sha256],
    [p.serverCertDer, manifest.server?.sha256],
    [p.serverKey, manifest.server?.keySha256],
    ...(withClient ? ([[client.certDer, own?.sha256], [client.keyPem, own?.keySha256], [client.keyDer, own?.keyDerSha256]] as [string, string | undefined][]) : []),
  ];
  const changed = recorded.find(([file, sha]) => sha !== undefined && sha256Hex(readFileSync(file)) !== sha);
  if (changed !== undefined) return `${path.relative(config.projectDir, changed[0])} is not the file the manifest recorded`;
  const leaves = { "the broker certificate": manifest.server, ...(withClient ? { [`client ${clientId}'s certificate`]: manifest.clients[clientId] } : {}) };
  for (const [name, leaf] of Object.entries(leaves)) {
    if (leaf === undefined) return `${name} is not in the manifest`;
    if (leaf.caSha256 !== manifest.ca.sha256) return `${name} was issued by another CA`;
    if (renewalDue(new Date(leaf.notAfter), now, config.certDays, new Date(manifest.ca.notAfter))) return `${name} expires ${leaf.notAfter.slice(0, 10)}`;
  }
  if (existsSync(p.crlPem)) {
    const next = crlNextUpdateOf(readFileSync(p.crlPem, "utf8"));
    if (next === undefined) return `${path.relative(config.projectDir, p.crlPem)} cannot be read`;
    if (crlRenewalDue(next, now, config.certDays, new Date(manifest.ca.notAfter))) return `the CRL expires ${next.toISOString().slice(0, 10)}`;
  }
  return undefined;
}
