import path from "node:path";
import { requireConfiguredClient } from "../config/clients.js";
import { clientForEnv, loadConfig, NO_CLIENT, type Config, type ConfigOverrides } from "../config/config.js";
import { EspCertsError, ExitCode } from "../errors.js";
import { tightenStoreModes } from "../pki/store-modes.js";
import { maintainCrl } from "../pki/crl-refresh.js";
import { ensureStore, type StoreAction } from "../pki/ensure.js";
import { certLabel } from "../pki/identity.js";
import { storeClients } from "../pki/inventory.js";
import { storePaths } from "../pki/paths.js";
import { SUBJECT_CHANGED, subjectChanges } from "../pki/plan.js";
import { revokedHeaderError, revokedIdsFor, revokedAction } from "../pki/revocations.js";
import { readCert } from "../pki/store.js";
import { passphraseSources } from "../pki/passphrase.js";
import { brokerAdvice, brokerFolderExists, writeBrokerFolder, type BrokerResult } from "../broker/broker.js";
import { checkHeaderTarget, writeHeader, type HeaderResult } from "../render/header.js";
import { colour, info, printJson, warn } from "../ui.js";

/**
 * `esp-certs generate`: the store (docs/store.md), then the header for one client, then the
 * broker folder when the project has one. Each step keeps what is already right.
 */
export interface GenerateOptions {
  /** The client whose certificate goes into the header. Default: the first environment's. */
  client?: string;
  newCa?: boolean;
  rekey?: string[];
  /** May ask for the CA passphrase on the terminal. */
  interactive: boolean;
  caPassphraseFile?: string;
  noCaPassphrase?: boolean;
  /** A passphrase already settled (init asks before it writes anything). */
  caPassphrase?: string;
  /** The pre-build hook: a CRL due for re-signing warns rather than stops when no passphrase can be had. */
  crlMayWait?: boolean;
}

export interface GenerateReport {
  actions: StoreAction[];
  header: HeaderResult & { client: string };
  /** The broker folder, when the project has one (docs/commands.md: generate keeps it in step). */
  broker?: BrokerResult & { port: number };
  warnings: string[];
}

export async function generate(config: Config, opts: GenerateOptions): Promise<GenerateReport> {
  const client = opts.client ?? clientForEnv(config);
  if (client !== NO_CLIENT) {
    requireConfiguredClient(config.clients, client, `Cannot make a header for client "${client}"`, `Add it to clients in [esp_certs], or pass --client ${config.clients[0]}.`);
  }
  // A provisioned client is rekeyed as a configured one (its board then needs provision to get it).
  const known = storeClients(config);
  for (const id of opts.rekey ?? []) {
    if (!known.includes(id)) {
      throw new EspCertsError(`Cannot rekey "${id}"`, `the store has no client "${id}" (clients: ${known.join(", ")})`, 'Name one of those; "esp-certs status" lists every client.');
    }
  }
  const passphrase = opts.caPassphrase !== undefined ? { env: opts.caPassphrase } : passphraseSources(opts);
  const revoked = revokedIdsFor(config, opts.rekey ?? []);
  const headerRevoked = revoked.get(client);
  if (headerRevoked !== undefined && opts.client !== undefined) throw revokedHeaderError(headerRevoked);
  // The header's path first: a wrong one must stop the run before the store is written.
  checkHeaderTarget(config);
  const store = await ensureStore(config, { newCa: opts.newCa, rekey: opts.rekey, noCaPassphrase: opts.noCaPassphrase, passphrase, skip: [...revoked.keys()] });
  // Found looser (a copy, an unzip, a umask of 000): the store's folders are the owner's alone.
  const p = storePaths(config.certDir);
  tightenStoreModes(p);
  const warnings = [...config.warnings, ...store.warnings, ...subjectAdvice(store.actions, p.caCertPem, config)];
  const actions = [...store.actions, ...[...revoked.values()].map((r) => revokedAction(config, r))];
  const crl = await maintainCrl(config, store.ca, opts.crlMayWait === true);
  if (crl.action) actions.push(crl.action);
  if (crl.warning) warnings.push(crl.warning);
  let header: GenerateReport["header"];
  if (headerRevoked === undefined) {
    header = { ...(await writeHeader(config, client)), client };
  } else {
    warnings.push(`The header was left as it is: ${revokedHeaderError(headerRevoked).why}. Bring it back with "esp-certs generate --rekey ${client}", or build for another client.`);
    header = { path: config.header, changed: false, client };
  }
  const broker = brokerFolderExists(config) ? { ...(await writeBrokerFolder(config)), port: config.mqttPort } : undefined;
  return { actions, header, broker, warnings };
}

/**
 * After a change of organization, country, state or locality the leaves were re-issued
 * (plan.ts): say so, and that the CA keeps its subject until a new CA is made, which needs
 * every device reflashed, and so is never done for a name alone.
 */
function subjectAdvice(actions: StoreAction[], caCertPem: string, config: Config): string[] {
  const reissued = actions.filter((a) => a.reason === SUBJECT_CHANGED).map((a) => (a.item === "server" ? "the broker certificate" : a.item));
  if (reissued.length === 0) return [];
  const ca = readCert(caCertPem, "")!;
  const changes = subjectChanges(ca.cert, config.subject);
  const lines = [`Re-issued ${reissued.join(", ")} with the new subject; reflash the devices to give them theirs (their old certificates stay valid meanwhile).`];
  if (changes.length > 0) {
    lines.push(`The CA keeps its subject (${changes.join(", ")}): only a new CA takes the new one, "esp-certs generate --new-ca", and then every device must be reflashed.`);
  }
  return lines;
}

/** One line an action, as `generate` prints them: what, where, until when, and why. */
export function describeAction(a: StoreAction, projectDir: string): string {
  const what = a.action === "moved" ? "old ca" : a.item === "crl" ? "CRL" : a.cert.role === "server" ? "broker certificate" : certLabel(a.cert);
  const until = a.notAfter ? ` (until ${a.notAfter.slice(0, 10)})` : "";
  const why = a.reason ? `: ${a.reason}` : "";
  return `${a.action.padEnd(9)}${what.padEnd(20)}${path.relative(projectDir, a.file) || a.file}${until}${why}`;
}

export interface GenerateCommandOptions extends ConfigOverrides {
  projectDir: string;
  client?: string;
  newCa?: boolean;
  rekey?: string[];
  caPassphraseFile?: string;
  /** commander's `--no-ca-passphrase` sets this false. */
  caPassphrase?: boolean;
  json?: boolean;
}

export async function generateCommand(o: GenerateCommandOptions): Promise<number> {
  const config = loadConfig(o.projectDir, o);
  const report = await generate(config, {
    client: o.client,
    newCa: o.newCa,
    rekey: o.rekey,
    interactive: !o.json,
    caPassphraseFile: o.caPassphraseFile,
    noCaPassphrase: o.caPassphrase === false,
  });
  report.warnings.push(...oneRunOnly(o, config));
  printReport(report, config.projectDir, { json: o.json });
  return ExitCode.ok;
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
  const h = report.header;
  line(h.changed, `${(h.changed ? "wrote" : "kept").padEnd(9)}${"header".padEnd(20)}${path.relative(projectDir, h.path)} (${h.client === NO_CLIENT ? "no client: a fleet image" : `client ${h.client}`})`);
  const b = report.broker;
  if (b) {
    const dir = path.relative(projectDir, b.dir) || b.dir;
    line(b.changed.length > 0, `${(b.changed.length > 0 ? "wrote" : "kept").padEnd(9)}${"broker folder".padEnd(20)}${dir}${b.changed.length > 0 ? ` (${b.changed.join(", ")})` : ""}`);
    for (const advice of brokerAdvice(b, b.port)) info(advice);
  }
  for (const w of report.warnings) warn(w);
}

/**
 * Flags that change what is issued hold for this run only: the `pio run` hook reads
 * platformio.ini and would issue for that again. Say so, and how to keep them.
 */
function oneRunOnly(o: GenerateCommandOptions, config: Config): string[] {
  const saved = loadConfigQuietly(o.projectDir);
  if (saved === undefined) return [];
  const differs: [string, string, string][] = [
    ["--host", config.mqttHost, saved.mqttHost],
    ["--key-type", config.keyType, saved.keyType],
    ["--client-key-type", config.clientKeyType, saved.clientKeyType],
  ].filter(([, now, kept]) => now !== kept) as [string, string, string][];
  return differs.map(
    ([flag, now, kept]) =>
      `${flag} ${now} is for this run only: the \`pio run\` hook reads platformio.ini (${kept}) and would issue for that again. To keep it: esp-certs init ${flag} ${now}`,
  );
}

function loadConfigQuietly(projectDir: string): Config | undefined {
  try {
    return loadConfig(projectDir);
  } catch {
    return undefined;
  }
}
