// `esp-certs header`: renders the header only (render/header.ts); says so when it wrote, nothing when unchanged.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { clientForEnv, loadConfig } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { writeHeader } from "../render/header.js";
import { info, printJson, warn } from "../ui.js";

export interface HeaderCommandOptions {
  projectDir: string;
  /** Default: the first environment's custom_esp_certs_client, else the first of clients. */
  client?: string;
  /** Default: `header` of [esp_certs]. Relative to the current directory; a folder gets that file name inside it. */
  out?: string;
  allowIp?: boolean;
  json?: boolean;
}

export async function headerCommand(o: HeaderCommandOptions): Promise<number> {
  const config = loadConfig(o.projectDir, { allowIp: o.allowIp });
  for (const w of config.warnings) warn(w);
  const clientId = o.client ?? clientForEnv(config);
  const out = o.out === undefined ? undefined : path.resolve(o.out);
  // A folder (an include directory, or a path ending in a separator) gets the header under its configured name.
  const folder = out !== undefined && (/[\\/]$/.test(o.out!) || (existsSync(out) && statSync(out).isDirectory()));
  const file = folder ? path.join(out, path.basename(config.header)) : out;
  const { refuseRevoked } = await import("../store/revocations.js");
  refuseRevoked(config, clientId);
  const r = await writeHeader(config, clientId, { out: file });
  if (o.json) printJson({ path: r.path, client: clientId, host: config.mqttHost, port: config.mqttPort, changed: r.changed, ...(r.gitignore ? { gitignore: r.gitignore } : {}) });
  else if (r.changed) info(`wrote ${path.relative(process.cwd(), r.path) || r.path} (client ${clientId}, broker ${config.mqttHost}:${config.mqttPort})`);
  if (!o.json && r.gitignore) info(`wrote ${path.relative(process.cwd(), r.gitignore) || r.gitignore} (git-ignores the header: it holds the client's private key)`);
  return ExitCode.ok;
}

