// `esp-certs nodered`: writes the flow of nodered/plan.ts for one client of the store.
import path from "node:path";
import { clientRole } from "../config/apps.js";
import { loadConfig } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { syncFile } from "../fs/sync.js";
import { planFlow, type NoderedOptions } from "../nodered/plan.js";
import { colour, info, printJson, warn } from "../ui.js";

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
  // At esp-certs' broker a device sees only its own topics (docs/access.md).
  if (clientRole(config, plan.client) === "device") warn(`${plan.client} is a device, not one of apps: at the broker Node-RED will see only ${plan.client}/#. Add it to apps in [esp_certs] to let it see every device.`);
  info("Import it in Node-RED (menu > Import > select a file to import), then Deploy.");
  if (opts.filesDir === undefined) info(colour.dim("It names files on this machine; for Node-RED in Docker, mount the store and use --files-dir."));
  return ExitCode.ok;
}
