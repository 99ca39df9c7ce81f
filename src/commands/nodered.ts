// `esp-certs nodered`: writes the flow of flow.ts for one client of the store.
import { existsSync, statSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";
import { defaultAppClient } from "../config/clients.js";
import { clientForEnv, loadConfig, type Config } from "../config/config.js";
import { canonicalIp } from "../config/validate.js";
import { EspCertsError, ExitCode } from "../errors.js";
import { storePaths } from "../pki/paths.js";
import { revocationOf, revokedWhen } from "../pki/revocations.js";
import { syncFile } from "../fs/sync.js";
import { checkOutputFile, reservedFolders } from "../fs/output.js";
import { colour, info, printJson, warn } from "../ui.js";
import { buildFlow } from "../nodered/flow.js";
import { storeClients } from "../pki/inventory.js";

export const DEFAULT_FLOW_FILE = "nodered-flow.json";

export interface NoderedOptions {
  client?: string;
  /** Default `<project>/nodered-flow.json`; a folder gets that name inside it. */
  out?: string;
  /** The broker name Node-RED dials; default mqtt_host. */
  host?: string;
  /** The folder where Node-RED sees the store (same layout); default the store itself. */
  filesDir?: string;
}

export interface FlowPlan {
  file: string;
  client: string;
  host: string;
  text: string;
}

/** Checks the options against the config and the store, and renders the flow. Writes nothing. */
export function planFlow(config: Config, opts: NoderedOptions): FlowPlan {
  const client = opts.client ?? defaultAppClient(config);
  if (client === undefined) {
    throw new EspCertsError(
      "Cannot choose a client for Node-RED",
      `every client (${config.clients.join(", ")}) is used by a device, and two connections with one client id push each other off the broker`,
      "Add one to clients in [esp_certs] (e.g. dev02), run \"esp-certs generate\", or name one with --client.",
    );
  }
  const known = storeClients(config);
  if (!known.includes(client)) {
    throw new EspCertsError(`Cannot use client "${client}"`, `it is not one of the store's clients (${known.join(", ")})`, "Name one of those, or add it to clients in [esp_certs].");
  }
  const host = opts.host ?? config.mqttHost;
  const brokerNames = [config.mqttHost, ...config.serverNames, ...config.serverIps];
  // Names match in any case, addresses in any spelling ("::1" is "0:0:0:0:0:0:0:1").
  const spelled = (n: string) => (isIP(n) === 0 ? n.toLowerCase() : canonicalIp(n));
  if (!brokerNames.map(spelled).includes(spelled(host))) {
    throw new EspCertsError(`Cannot use host "${host}"`, `the broker's certificate names only ${brokerNames.join(", ")}, so Node-RED would reject it`, "Use one of those, or add it to server_names and run \"esp-certs generate\".");
  }
  const revoked = revocationOf(config, client);
  if (revoked !== undefined) {
    throw new EspCertsError(
      `Cannot write a Node-RED flow for "${client}"`,
      `its certificate was revoked on ${revokedWhen(revoked)}: the broker refuses it`,
      `Name another client with --client, or bring it back with a new key: esp-certs generate --rekey ${client}`,
    );
  }
  const store = storePaths(config.certDir);
  const own = store.client(client);
  for (const f of [store.caCertPem, own.certPem, own.keyPem]) {
    if (!existsSync(f)) throw new EspCertsError("Cannot write the Node-RED flow", `${f} is missing`, 'Run "esp-certs generate" first.');
  }
  // With --files-dir the paths are Node-RED's view of the same layout (e.g. a container mount).
  const seen = (f: string) => (opts.filesDir === undefined ? f : path.posix.join(opts.filesDir, path.relative(store.dir, f).split(path.sep).join("/")));
  const flow = buildFlow({
    host,
    port: config.mqttPort,
    client,
    deviceClient: clientForEnv(config),
    files: { cert: seen(own.certPem), key: seen(own.keyPem), ca: seen(store.caCertPem) },
    idSeed: `${config.projectDir}\0${client}`,
  });
  const out = path.resolve(config.projectDir, opts.out ?? DEFAULT_FLOW_FILE);
  const file = existsSync(out) && statSync(out).isDirectory() ? path.join(out, DEFAULT_FLOW_FILE) : out;
  checkOutputFile(file, { what: "the Node-RED flow", setting: "--out", isOurs: isOurFlow, reserved: reservedFolders(config.projectDir, config.certDir) });
  return { file, client, host, text: `${JSON.stringify(flow, null, 2)}\n` };
}

/** The CLI action; a given --out is relative to the current directory. */
export function noderedCommand(opts: NoderedOptions & { projectDir: string; json?: boolean }): number {
  const config = loadConfig(opts.projectDir);
  for (const w of config.warnings) warn(w);
  const plan = planFlow(config, { ...opts, out: opts.out && path.resolve(opts.out) });
  const changed = syncFile({ path: plan.file, content: plan.text });
  if (opts.json) {
    printJson({ file: plan.file, client: plan.client, host: plan.host, changed });
    return ExitCode.ok;
  }
  const where = path.relative(process.cwd(), plan.file) || plan.file;
  if (!changed) {
    info(colour.dim(`${where}: up to date.`));
    return ExitCode.ok;
  }
  info(`Wrote ${where}: Node-RED as ${plan.client}, to ${plan.host}:${config.mqttPort} over mutual TLS.`);
  info("Import it in Node-RED (menu > Import > select a file to import), then Deploy.");
  if (opts.filesDir === undefined) info(colour.dim("It names files on this machine; for Node-RED in Docker, mount the store and use --files-dir."));
  return ExitCode.ok;
}

/** A flow this command wrote: its tab says so (flow.ts). */
function isOurFlow(head: string): boolean {
  return head.trimStart().startsWith("[") && head.includes('"info": "Generated by esp-certs');
}
