import path from "node:path";
import { clientForEnv, loadConfig, type Config, type ConfigOverrides } from "./config/config.js";
import { EspCertsError, ExitCode } from "./errors.js";
import { ensureStore, type StoreAction } from "./pki/ensure.js";
import type { PassphraseSources } from "./pki/passphrase.js";
import { askHidden, canPrompt, colour, info, printJson, warn } from "./ui.js";

/**
 * `esp-certs generate`: the store (SPEC §4), then the header for one client, then the
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
}

export interface GenerateReport {
  actions: StoreAction[];
  warnings: string[];
}

export function passphraseSources(opts: { interactive: boolean; caPassphraseFile?: string }): PassphraseSources {
  return {
    file: opts.caPassphraseFile,
    env: process.env.ESP_CERTS_CA_PASSPHRASE,
    prompt: opts.interactive && canPrompt() ? askHidden : undefined,
  };
}

export async function generate(config: Config, opts: GenerateOptions): Promise<GenerateReport> {
  const client = opts.client ?? clientForEnv(config);
  if (!config.clients.includes(client)) {
    throw new EspCertsError(`Cannot make a header for client "${client}"`, `it is not one of clients (${config.clients.join(", ")})`, `Add it to clients in [esp_certs], or pass --client ${config.clients[0]}.`);
  }
  for (const id of opts.rekey ?? []) {
    if (!config.clients.includes(id)) {
      throw new EspCertsError(`Cannot rekey "${id}"`, `it is not one of clients (${config.clients.join(", ")})`, "Name a configured client.");
    }
  }
  const store = await ensureStore(config, {
    newCa: opts.newCa,
    rekey: opts.rekey,
    noCaPassphrase: opts.noCaPassphrase,
    passphrase: passphraseSources(opts),
  });
  return { actions: store.actions, warnings: [...config.warnings, ...store.warnings] };
}

/** One line an action, as `generate` prints them: what, where, until when, and why. */
export function describeAction(a: StoreAction, projectDir: string): string {
  const what = a.item === "ca" ? "CA" : a.item === "server" ? "broker certificate" : a.item;
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
  if (o.host !== undefined) {
    const saved = loadConfigQuietly(o.projectDir);
    if (saved && saved.mqttHost !== config.mqttHost) {
      report.warnings.push(
        `--host ${config.mqttHost} is for this run only: the \`pio run\` hook reads mqtt_host from platformio.ini (${saved.mqttHost}) and would issue for that again. To keep it: esp-certs init --host ${config.mqttHost}`,
      );
    }
  }
  printReport(report, config.projectDir, o.json);
  return ExitCode.ok;
}

export function printReport(report: GenerateReport, projectDir: string, json?: boolean): void {
  if (json) {
    printJson(report);
    return;
  }
  for (const a of report.actions) {
    const line = describeAction(a, projectDir);
    info(a.action === "kept" ? colour.dim(line) : line);
  }
  for (const w of report.warnings) warn(w);
}

function loadConfigQuietly(projectDir: string): Config | undefined {
  try {
    return loadConfig(projectDir);
  } catch {
    return undefined;
  }
}
