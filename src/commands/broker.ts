// `esp-certs broker`: writes the broker folder of broker.ts and says how to start or restart it.
import path from "node:path";
import { loadConfig } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { colour, info, printJson, warn } from "../ui.js";
import { brokerAdvice, needsRestart, writeBrokerFolder, type BrokerOptions } from "../broker/broker.js";
import { BROKER_FILES } from "../broker/conf.js";

/** The CLI action; a given --out is relative to the current directory. */
export async function brokerCommand(opts: BrokerOptions & { projectDir: string; json?: boolean }): Promise<number> {
  const config = loadConfig(opts.projectDir);
  for (const w of config.warnings) warn(w);
  const r = await writeBrokerFolder(config, { out: opts.out && path.resolve(opts.out), paths: opts.paths });
  const advice = brokerAdvice(r, config.mqttPort);
  if (opts.json) {
    printJson({ ...r, restart: needsRestart(r), reload: !r.created && r.changed.length > 0 && !needsRestart(r), advice });
    return ExitCode.ok;
  }
  const where = path.relative(process.cwd(), r.dir) || ".";
  if (r.crlKept) warn(advice[0]);
  if (r.changed.length === 0) {
    info(colour.dim(`${where}: up to date with the store.`));
    return ExitCode.ok;
  }
  // In local mode the only change to docker-compose.yml is its removal (a local mosquitto has no use for it).
  const changed = r.changed.map((f) => (r.mode === "local" && f === BROKER_FILES.compose ? `${f} removed` : f));
  info(`${r.created ? "Wrote" : "Updated"} ${where} (paths: ${r.mode}): ${changed.join(", ")}`);
  if (r.gitignore !== undefined) info(`Git-ignored it in ${path.relative(process.cwd(), r.gitignore) || r.gitignore} (the folder holds the broker's private key).`);
  for (const line of r.crlKept ? advice.slice(1) : advice) info(line);
  return ExitCode.ok;
}
