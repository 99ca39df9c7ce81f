import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DEFAULTS, loadConfig, ownSettings, platformioIniPath, resolveConfig, type ConfigOverrides } from "./config/config.js";
import { findSection, listValue, parseIni, setKeys } from "./config/ini.js";
import { installIntoProject } from "./platformio/project.js";
import { ExitCode } from "./errors.js";
import { writeIfChanged } from "./fs/atomic.js";
import { brokerDir, brokerFolderExists, writeBrokerFolder } from "./broker/broker.js";
import { generate, passphraseSources, printReport, type GenerateCommandOptions } from "./generate.js";
import { passphraseGetter } from "./pki/passphrase.js";
import { storePaths } from "./pki/paths.js";
import { info } from "./ui.js";

/**
 * `esp-certs init`: writes the `[esp_certs]` settings given on the command line into
 * platformio.ini (creating it, or the section, when missing; keeping everything else),
 * so that the `pio run` hook sees the same configuration as this run.
 * Returns whether platformio.ini changed.
 */
export function writeProjectSettings(projectDir: string, overrides: ConfigOverrides): boolean {
  const file = platformioIniPath(projectDir);
  const before = existsSync(file) ? readFileSync(file, "utf8") : "";
  // Validate before writing: a bad --host leaves the file as it was.
  const wanted = resolveConfig(projectDir, before, overrides);
  const entries: [string, string][] = [["mqtt_host", wanted.mqttHost]];
  if (overrides.clients || !wanted.hasSection) entries.push(["clients", wanted.clients.join(", ")]);
  if (overrides.allowIp) entries.push(["allow_ip", "true"]);
  if (overrides.keyType) entries.push(["key_type", wanted.keyType]);
  if (overrides.clientKeyType) entries.push(["client_key_type", wanted.clientKeyType]);
  const header = headerForProject(before);
  if (header !== undefined) entries.push(["header", header]);
  // A line that already says this keeps its comment and its ${...} references.
  const current = ownSettings(parseIni(before));
  const changes = entries.filter(([key, value]) => !sameSetting(key, current.get(key), value));
  const after = setKeys(before, "esp_certs", changes);
  // What the hook will read must be valid on its own too.
  resolveConfig(projectDir, after, { allowIp: overrides.allowIp });
  return writeIfChanged(file, after.endsWith("\n") ? after : `${after}\n`);
}

function sameSetting(key: string, current: string | undefined, wanted: string): boolean {
  if (current === undefined) return false;
  const norm = (v: string) =>
    key === "allow_ip" ? String(/^(true|yes|1)$/i.test(v)) : key === "mqtt_host" ? v.toLowerCase() : (listValue(v) ?? []).join(", ");
  return norm(current) === norm(wanted);
}

/**
 * Where the header goes in this project: its include_dir (PlatformIO's default is
 * `include/`), so that the compiler finds it. Undefined when `header` is set already or
 * the default is right (this repository's own layout).
 */
export function headerForProject(iniText: string): string | undefined {
  const sections = parseIni(iniText);
  if (findSection(sections, "esp_certs")?.values.has("header")) return undefined;
  const includeDir = findSection(sections, "platformio")?.values.get("include_dir") || "include";
  const header = `${includeDir.replace(/\\/g, "/").replace(/\/$/, "")}/esp_certs.h`;
  return header === DEFAULTS.header ? undefined : header;
}

export interface InitCommandOptions extends GenerateCommandOptions {
  yes?: boolean;
}

/**
 * The main job on its defaults: settings into platformio.ini, everything `generate` makes,
 * and the broker folder (which `generate` keeps in step from then on).
 */
export async function initCommand(o: InitCommandOptions): Promise<number> {
  const interactive = !o.json && !o.yes;
  // A new CA's passphrase is settled before anything is written: without one, init stops
  // with the project as it was.
  const store = storePaths(loadConfig(o.projectDir, o).certDir);
  const newCa = !existsSync(store.caCertPem) && !existsSync(store.caKey);
  const caPassphrase =
    newCa && o.caPassphrase !== false
      ? await passphraseGetter(passphraseSources({ interactive, caPassphraseFile: o.caPassphraseFile }), "create")()
      : undefined;

  const iniFile = platformioIniPath(o.projectDir);
  const changed = writeProjectSettings(o.projectDir, o);
  if (changed && !o.json) info(`wrote    ${"[esp_certs]".padEnd(20)}${path.relative(o.projectDir, iniFile)}`);
  // The hook, its extra_scripts entry and the .gitignore lines, once.
  const installed = installIntoProject(o.projectDir);
  if (!o.json) {
    for (const f of installed.changed) {
      const what = f === iniFile ? "extra_scripts" : path.basename(f) === ".gitignore" ? "git-ignored secrets" : "pre-build hook";
      if (!(changed && f === iniFile)) info(`wrote    ${what.padEnd(20)}${path.relative(o.projectDir, f)}`);
    }
  }
  const config = loadConfig(o.projectDir);
  const report = await generate(config, {
    client: o.client,
    interactive,
    caPassphraseFile: o.caPassphraseFile,
    noCaPassphrase: o.caPassphrase === false,
    caPassphrase,
  });
  if (existsSync(path.join(brokerDir(config), "mosquitto.conf")) && !brokerFolderExists(config)) {
    // The user's own broker setup: left alone, as generate leaves it.
    report.warnings.push(`${path.relative(config.projectDir, brokerDir(config))}/mosquitto.conf is your own: left as it is. "esp-certs broker --out DIR" writes esp-certs' broker folder elsewhere.`);
  } else {
    report.broker ??= { ...(await writeBrokerFolder(config)), port: config.mqttPort };
  }
  printReport(report, config.projectDir, { json: o.json });
  if (!o.json) {
    info("Next: the Node-RED flow with  esp-certs nodered ; build and flash with  esp-certs flash --port <port>");
  }
  return ExitCode.ok;
}
