import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ownSettings, projectFolder, platformioIniPath, resolveConfig, type Config, type ConfigOverrides } from "../config/config.js";
import { defaultAppClient } from "../config/clients.js";
import { listValue, parseIni, setKeys } from "../config/ini.js";
import { libraryDir, syncLibrary } from "../platformio/library.js";
import { installIntoProject } from "../platformio/project.js";
import { checkLayoutFiles, syncLayoutFiles } from "../platformio/layout-file.js";
import { withOwnLayouts } from "../platformio/layout-setting.js";
import { ExitCode } from "../errors.js";
import { writeIfChanged } from "../fs/sync.js";
import { brokerDir, brokerFolderExists, writeBrokerFolder } from "../broker/broker.js";
import { generate } from "../generate/generate.js";
import type { GenerateCommandOptions } from "./options.js";
import { printReport } from "./print/generate-report.js";
import { passphraseGetter, passphraseSources } from "../pki/passphrase.js";
import { CertificateStore } from "../store/store.js";
import { info } from "../ui.js";
import { selfCommand } from "../self-command.js";

/** What `init` will write into platformio.ini, checked, and the configuration it gives. */
export interface ProjectSettings {
  file: string;
  /** platformio.ini's text after the edit (the same text when nothing changes). */
  text: string;
  /** The configuration the `pio run` hook will read from that text. */
  config: Config;
  /** Where mqtt_host came from, for the line that says how to change it. */
  hostFrom: "flag" | "file" | "default";
  /** The environments that get esp-certs' own flash layout, and advice for the others. */
  layouts: ReturnType<typeof withOwnLayouts>;
}

/**
 * `esp-certs init`'s edit of platformio.ini: the `[esp_certs]` settings given on the command
 * line (creating the file, or the section, when missing; keeping everything else). Writes
 * nothing: init writes it once the store is made.
 */
export function planProjectSettings(projectDir: string, overrides: ConfigOverrides): ProjectSettings {
  const dir = projectFolder(projectDir);
  const file = platformioIniPath(dir);
  const before = existsSync(file) ? readFileSync(file, "utf8") : "";
  const wanted = resolveConfig(dir, before, { ...overrides, apps: appsAmong(dir, before, overrides) });
  const current = ownSettings(parseIni(before));
  const entries: [string, string][] = [["mqtt_host", wanted.mqttHost]];
  if (overrides.clients || !wanted.hasSection) entries.push(["clients", wanted.clients.join(", ")]);
  // Written out, so that who may use every topic at the broker is there to read (docs/access.md).
  if (overrides.clients || !current.has("apps")) entries.push(["apps", wanted.apps.join(", ")]);
  if (overrides.allowIp) entries.push(["allow_ip", "true"]);
  if (overrides.keyType) entries.push(["key_type", wanted.keyType]);
  if (overrides.clientKeyType) entries.push(["client_key_type", wanted.clientKeyType]);
  // A line that already says this keeps its comment and its ${...} references.
  const changes = entries.filter(([key, value]) => !sameSetting(key, current.get(key), value));
  const edited = setKeys(before, "esp_certs", changes);
  // Each environment on its board's default layout links with esp-certs' variant of it.
  const layouts = withOwnLayouts(edited, wanted.environments);
  const text = layouts.text === before || layouts.text.endsWith("\n") ? layouts.text : `${layouts.text}\n`;
  const hostFrom = overrides.host !== undefined ? "flag" : current.get("mqtt_host") ? "file" : "default";
  // What the hook will read must be valid on its own too.
  const config = resolveConfig(dir, text, { allowIp: overrides.allowIp });
  checkLayoutFiles(config);
  return { file, text, config, hostFrom, layouts };
}

/** With `--clients`, the apps of platformio.ini that are still clients, else Node-RED's default one. */
function appsAmong(dir: string, iniText: string, overrides: ConfigOverrides): string[] | undefined {
  const clients = overrides.clients;
  if (clients === undefined) return undefined;
  const kept = (listValue(ownSettings(parseIni(iniText)).get("apps")) ?? []).filter((a) => clients.includes(a));
  if (kept.length > 0) return kept;
  const app = defaultAppClient(resolveConfig(dir, iniText, { ...overrides, apps: [] }));
  return app === undefined ? [] : [app];
}

function sameSetting(key: string, current: string | undefined, wanted: string): boolean {
  if (current === undefined) return false;
  const norm = (v: string) =>
    key === "allow_ip" ? String(/^(true|yes|1)$/i.test(v)) : key === "mqtt_host" ? v.toLowerCase() : (listValue(v) ?? []).join(", ");
  return norm(current) === norm(wanted);
}

export interface InitCommandOptions extends GenerateCommandOptions {
  yes?: boolean;
}

/**
 * The main job on its defaults: settings into platformio.ini, everything `generate` makes,
 * and the broker folder (which `generate` keeps in step from then on). Everything that can
 * refuse (the settings, the CA passphrase, the CA key it unlocks) is settled before
 * platformio.ini changes: a refused init leaves the project building as before.
 */
export async function initCommand(o: InitCommandOptions): Promise<number> {
  const interactive = !o.json && !o.yes;
  const settings = planProjectSettings(o.projectDir, o);
  const config = settings.config;
  const { paths } = CertificateStore.open(config);
  const newCa = !existsSync(paths.caCertPem) && !existsSync(paths.caKey);
  const caPassphrase =
    newCa && o.caPassphrase !== false
      ? await passphraseGetter(passphraseSources({ interactive, caPassphraseFile: o.caPassphraseFile }), "create")()
      : undefined;
  // The store before platformio.ini: an existing CA's key is unlocked (or refused) first.
  const report = await generate(config, {
    client: o.client,
    interactive,
    caPassphraseFile: o.caPassphraseFile,
    noCaPassphrase: o.caPassphrase === false,
    caPassphrase,
  });

  const changed = writeIfChanged(settings.file, settings.text);
  if (changed && !o.json) info(`wrote    ${"[esp_certs]".padEnd(20)}${path.relative(config.projectDir, settings.file)}`);
  report.layouts = { chosen: settings.layouts.chosen, written: syncLayoutFiles(config) };
  report.warnings.push(...settings.layouts.advice);
  // The hook, its extra_scripts entry and the .gitignore lines, once.
  const installed = installIntoProject(config.projectDir);
  if (!o.json) {
    for (const f of installed.changed) {
      const what = f === settings.file ? "extra_scripts" : path.basename(f) === ".gitignore" ? "git-ignored secrets" : "pre-build hook";
      if (!(changed && f === settings.file)) info(`wrote    ${what.padEnd(20)}${path.relative(config.projectDir, f)}`);
    }
  }
  if (existsSync(path.join(brokerDir(config), "mosquitto.conf")) && !brokerFolderExists(config)) {
    // The user's own broker setup: left alone, as generate leaves it.
    report.warnings.push(`${path.relative(config.projectDir, brokerDir(config))}/mosquitto.conf is your own: left as it is. "esp-certs broker --out DIR" writes esp-certs' broker folder elsewhere.`);
  } else {
    report.broker ??= { ...(await writeBrokerFolder(config)), port: config.mqttPort };
  }
  // The device library, after platformio.ini: its lib_dir says where the library goes.
  report.library = syncLibrary(config.projectDir, { install: true });
  if (config.environments.length === 0) {
    // An ini with no environment builds nothing: the pre-build hook never runs.
    report.warnings.push('platformio.ini has no [env:NAME] section, so PlatformIO has nothing to build and the pre-build hook never runs. Add one, e.g. "[env:d1_mini]" with platform = espressif8266, board = d1_mini, framework = arduino.');
  }
  printReport(report, config.projectDir, { json: o.json });
  if (!o.json) {
    const cli = selfCommand();
    // Under `npm run init` in a clone, the same script takes the flag.
    const again = process.env.npm_lifecycle_event === "init" ? "npm run init --" : `${cli} init`;
    info(hostLine(config.mqttHost, settings.hostFrom, again));
    if (report.library?.done) {
      const example = path.join(path.relative(config.projectDir, libraryDir(config.projectDir)), "examples", "connect", "connect.ino");
      info(`Your sketch: a few lines use the device library, as ${example} does (docs/own-project.md of esp-certs)`);
    }
    info(`Next: the Node-RED flow with  ${cli} nodered ; build and flash with  ${cli} flash --port <port>`);
    if (cli.startsWith("node ")) info("(esp-certs is not on PATH yet: the README's Install puts it there.)");
  }
  return ExitCode.ok;
}

/** Which broker name the devices will dial, why that one, and how to pick another. */
export function hostLine(host: string, from: ProjectSettings["hostFrom"], initCommand = "esp-certs init"): string {
  const why = { flag: "from --host", file: "as platformio.ini has it", default: "this machine's name, which the devices find by mDNS" }[from];
  return `Devices dial mqtt_host = ${host} (${why}). For another broker name: ${initCommand} --host <name>`;
}
