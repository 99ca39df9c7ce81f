/**
 * `esp-certs hook --env NAME`: what firmware/esp_certs_hook.py runs before every `pio run`.
 * The common case is "nothing to do", so that path reads a few small files and hashes
 * them (no X.509 or template library is loaded) and prints nothing. Only when something
 * must be issued does it load `generate`, which may need the CA key.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { clientForEnv, loadConfig, NO_CLIENT, type Config } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { accessRulesNeedWork, storeNeedsWork } from "../platformio/needs-work.js";
import { headerIsCurrent } from "../render/header-inputs.js";
import { libraryNeedsWork, libraryState, syncLibrary } from "../platformio/library.js";
import { layoutNeedsWork, syncLayoutFiles } from "../platformio/layout-file.js";
import { buildStamp, writeStamp } from "../platformio/stamp.js";
import type { BrokerResult } from "../broker/broker.js";
import type { HeaderResult } from "../render/header.js";
import { info, note, warn } from "../ui.js";

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
  let parsed;
  try {
    // strict: an unknown flag, a flag without its value, or a value that looks like a flag throws.
    parsed = parseArgs({ args: argv.slice(at + 1), options: { env: { type: "string" }, client: { type: "string" }, stamp: { type: "string" } }, tokens: true });
  } catch {
    return undefined;
  }
  const names = parsed.tokens.filter((t) => t.kind === "option").map((t) => t.name);
  const { env, client, stamp } = parsed.values;
  if (env === undefined || new Set(names).size !== names.length) return undefined;
  return { projectDir: before[1] ?? process.cwd(), env, client, stamp };
}

export async function hookCommand(o: HookOptions): Promise<number> {
  const config = loadConfig(o.projectDir);
  const clientId = o.client || clientForEnv(config, o.env);
  if (
    storeNeedsWork(config, clientId, new Date()) === undefined &&
    headerIsCurrent(config, clientId) &&
    accessRulesNeedWork(config) === undefined &&
    layoutNeedsWork(config, o.env) === undefined &&
    !libraryNeedsWork(libraryState(config.projectDir))
  ) {
    return stamped(config, o, clientId);
  }
  // Only a hook with work takes the store's lock; the common no-op path stays free of it.
  const { lockStore } = await import("../store/lock.js");
  return lockStore(config.projectDir, "hook", () => refresh(o), { certDir: config.certDir, onWait: note });
}

/** The hook's work, as the store's one writer: read again, since another run may have done it meanwhile. */
async function refresh(o: HookOptions): Promise<number> {
  const config = loadConfig(o.projectDir);
  const clientId = o.client || clientForEnv(config, o.env);
  const work = storeNeedsWork(config, clientId, new Date());
  const library = syncLibrary(config.projectDir, { install: false });
  if (library.done) info(`esp-certs: updated ${library.done}: the device library, in step with esp-certs`);
  if (library.warning) warn(`esp-certs: ${library.warning}`);
  for (const file of syncLayoutFiles(config, o.env)) info(`esp-certs: wrote ${path.relative(config.projectDir, file)}: the flash layout [env:${o.env}] links with`);
  if (work === undefined && headerIsCurrent(config, clientId) && accessRulesNeedWork(config) === undefined) return stamped(config, o, clientId);

  for (const w of config.warnings) warn(w);
  const broker = await import("../broker/broker.js");
  let header: HeaderResult;
  let brokerResult: BrokerResult | undefined;
  if (work !== undefined) {
    // A revoked client's files are gone from the store: say it is revoked, not that they are missing.
    const { refuseRevoked } = await import("../store/revocations.js");
    if (clientId !== NO_CLIENT) refuseRevoked(config, clientId);
    const { generate } = await import("../generate/generate.js");
    const { describeAction } = await import("./print/generate-report.js");
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
    // listener must follow it, or the device dials a port nothing listens on; its acl must
    // follow an edited `apps`.
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
