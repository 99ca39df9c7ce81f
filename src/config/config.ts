import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { EspCertsError } from "../errors.js";
import { DEFAULT_BROKER_DIR } from "../fs/output.js";
import { readNamed } from "../fs/read.js";
import { resolveApps } from "./apps.js";
import { closest } from "./suggest.js";
import { requireConfiguredClient } from "./clients.js";
import { refuseReservedClientId } from "./reserved-ids.js";
import { NO_CLIENT } from "./env-client.js";
import { findSection, listValue, parseIni, type IniSection } from "./ini.js";
import { KEY_TYPES, type Config, type KeyType } from "./types.js";
import {
  checkClientIds,
  checkCountry,
  checkDays,
  checkDnsName,
  checkIp,
  checkMqttAddress,
  checkMqttHost,
  isIpAddress,
  checkPort,
  checkSubjectField,
  defaultMqttHost,
} from "./validate.js";

// The types live in config/types.ts, below every module of config/; callers of loadConfig take them from here.
export { KEY_TYPES, type Config, type KeyType, type Subject } from "./types.js";

// Which client an environment builds in, and "none": config/env-client.ts, re-exported for the callers of loadConfig.
export { clientForEnv, NO_CLIENT } from "./env-client.js";

/** Flags that override `[esp_certs]` for one run. */
export interface ConfigOverrides {
  host?: string;
  port?: string;
  clients?: string[];
  /** `init --clients`: the apps that stay among the new clients (undefined: the default). */
  apps?: string[];
  serverNames?: string[];
  serverIps?: string[];
  keyType?: string;
  clientKeyType?: string;
  allowIp?: boolean;
}

export const DEFAULTS = {
  mqtt_port: "8883",
  server_names: "localhost, mosquitto",
  clients: "dev01, dev02",
  country: "GB",
  state: "DOR",
  locality: "Bournemouth",
  organization: "MOSQUITTO",
  key_type: "rsa2048",
  client_key_type: "ec-p256",
  ca_days: "3650",
  cert_days: "825",
  renew_days: "60",
  cert_dir: "certs",
} as const;

/** The header's file name in the project's include_dir, its default place. */
export const HEADER_NAME = "esp_certs.h";

const KNOWN_KEYS = new Set([...Object.keys(DEFAULTS), "header", "mqtt_host", "mqtt_address", "server_ips", "allow_ip", "apps"]);

export function platformioIniPath(projectDir: string): string {
  return path.join(projectDir, "platformio.ini");
}

/**
 * The project's configuration; refused outside a project, where a command would otherwise make
 * a second store. Only `init` creates platformio.ini (it reads the folder with resolveConfig).
 */
export function loadConfig(projectDir: string, overrides: ConfigOverrides = {}): Config {
  const dir = projectFolder(projectDir);
  requireProject(dir);
  return resolveConfig(dir, readNamed(platformioIniPath(dir), "utf8"), overrides);
}

/** The project folder as an absolute path; refused when it is not a folder. */
export function projectFolder(projectDir: string): string {
  const dir = path.resolve(projectDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new EspCertsError(`Cannot open project ${dir}`, existsSync(dir) ? "it is a file, not a folder" : "the folder does not exist", "Check --project-dir.");
  }
  return dir;
}

/** Refuses a folder without platformio.ini: esp-certs works inside a PlatformIO project. */
export function requireProject(projectDir: string): void {
  const dir = path.resolve(projectDir);
  if (existsSync(platformioIniPath(dir))) return;
  throw new EspCertsError(
    `Cannot find platformio.ini in ${dir}`,
    "this folder is not a PlatformIO project",
    `Run esp-certs in your project's folder, pass --project-dir DIR, or run "esp-certs init" here to make a new project.`,
  );
}

/**
 * The configuration from platformio.ini's text and the flags; `sysenv` is the environment
 * that `${sysenv.NAME}` reads (PlatformIO's own, when the hook runs).
 */
export function resolveConfig(projectDir: string, iniText: string, overrides: ConfigOverrides = {}, sysenv: NodeJS.ProcessEnv = process.env): Config {
  const sections = parseIni(iniText);
  const own = findSection(sections, "esp_certs");
  const expand = (value: string) => expandValue(sections, value, sysenv);
  const raw = ownSettings(sections, sysenv);
  const warnings: string[] = [];
  if (iniText.startsWith("\uFEFF")) {
    warnings.push('platformio.ini starts with a byte-order mark (Notepad\'s "UTF-8 with BOM"), which PlatformIO cannot read ("File contains no section headers"): save it as UTF-8 without BOM.');
  }
  for (const key of raw.keys()) {
    if (KNOWN_KEYS.has(key)) continue;
    const near = closest(key, KNOWN_KEYS);
    warnings.push(`[esp_certs] ${key} is not a setting esp-certs knows; it is ignored.${near ? ` Did you mean ${near}?` : ""}`);
  }
  const get = (key: keyof typeof DEFAULTS): string => raw.get(key) || DEFAULTS[key];
  const list = (key: "server_names" | "clients", flag?: string[]): string[] =>
    flag ?? listValue(raw.get(key) ?? DEFAULTS[key]) ?? [];

  // allow_ip keeps `init --allow-ip` in force for the hook, which passes no flags.
  const allowIp = overrides.allowIp ?? /^(true|yes|1)$/i.test(raw.get("allow_ip") ?? "");
  const mqttHost = checkMqttHost(overrides.host ?? (raw.get("mqtt_host") || defaultMqttHost()), allowIp, warnings);
  const mqttAddress = raw.get("mqtt_address") ? checkMqttAddress(raw.get("mqtt_address")!, mqttHost, warnings) : undefined;
  const serverNames = dedupe(list("server_names", overrides.serverNames).map((n) => checkDnsName(n, "server_names entry")));
  const serverIps = dedupe((overrides.serverIps ?? listValue(raw.get("server_ips")) ?? []).map((ip) => checkIp(ip)));
  const clients = checkClientIds(overrides.clients ?? splitKeepingEmpty(raw.get("clients") ?? DEFAULTS.clients));
  for (const id of clients) refuseReservedClientId(id, mqttHost);

  const environments = sections
    .filter((s) => s.name.startsWith("env:"))
    .map((s) => ({
      name: s.name.slice(4),
      client: expand(envOption(sections, s, ENV_CLIENT_OPTION) ?? "") || undefined,
      platform: envOption(sections, s, "platform") || undefined,
      board: envOption(sections, s, "board") || undefined,
      ldscript: envOption(sections, s, "board_build.ldscript") || undefined,
      uploadSpeed: envOption(sections, s, "upload_speed") || undefined,
    }));
  warnings.push(...misspeltEnvOptions(sections));
  for (const env of environments) {
    if (env.client !== undefined && env.client !== NO_CLIENT) {
      requireConfiguredClient(
        clients,
        env.client,
        `Cannot use custom_esp_certs_client = ${env.client} in [env:${env.name}]`,
        `Add it to clients in [esp_certs], or name one of those (or "${NO_CLIENT}" for an image whose devices are provisioned).`,
      );
    }
  }

  const caDays = checkDays(get("ca_days"), "ca_days");
  const certDays = checkDays(get("cert_days"), "cert_days");
  const config = {
    projectDir,
    mqttHost,
    mqttPort: checkPort(overrides.port ?? get("mqtt_port")),
    ...(mqttAddress !== undefined ? { mqttAddress } : {}),
    serverNames: serverNames.filter((n) => n !== mqttHost),
    // With --allow-ip the host goes into the certificate as what it is: an IP SAN.
    serverIps: isIpAddress(mqttHost) ? dedupe([mqttHost, ...serverIps]) : serverIps,
    clients,
    subject: {
      country: checkCountry(get("country")),
      state: checkSubjectField(get("state"), "state"),
      locality: checkSubjectField(get("locality"), "locality"),
      organization: checkSubjectField(get("organization"), "organization"),
    },
    keyType: checkKeyType(overrides.keyType ?? get("key_type"), "key_type"),
    clientKeyType: checkKeyType(overrides.clientKeyType ?? get("client_key_type"), "client_key_type"),
    caDays,
    certDays,
    renewDays: checkDays(get("renew_days"), "renew_days"),
    certDir: checkCertDir(projectDir, get("cert_dir")),
    header: headerFile(projectDir, sections, sysenv),
    allowIp,
    environments,
    defaultEnv: listValue(findSection(sections, "platformio")?.values.get("default_envs"))?.[0] ?? environments[0]?.name,
    hasSection: own !== undefined,
    warnings,
  };
  // "apps =" with nothing after it: no apps at all, every client a device.
  const apps = raw.get("apps");
  return { ...config, apps: resolveApps(config, overrides.apps ?? (apps === undefined ? undefined : apps.trim() === "" ? [] : splitKeepingEmpty(apps))) };
}

const ENV_CLIENT_OPTION = "custom_esp_certs_client";

/**
 * PlatformIO accepts any custom_ option without a word, so a misspelt custom_esp_certs_client
 * would build the default client in silence.
 */
function misspeltEnvOptions(sections: IniSection[]): string[] {
  const out: string[] = [];
  for (const s of sections.filter((s) => s.name === "env" || s.name.startsWith("env:"))) {
    for (const key of s.values.keys()) {
      if (key === ENV_CLIENT_OPTION || !key.startsWith("custom_")) continue;
      if (key.startsWith("custom_esp_certs") || closest(key, [ENV_CLIENT_OPTION]) !== undefined) {
        out.push(`[${s.name}] ${key} is not an option esp-certs knows; it is ignored. Did you mean ${ENV_CLIENT_OPTION}?`);
      }
    }
  }
  return out;
}

/** `header` of [esp_certs], else esp_certs.h in the project's include_dir: absolute. */
export function headerFile(projectDir: string, sections: IniSection[], sysenv: NodeJS.ProcessEnv = process.env): string {
  const own = ownSettings(sections, sysenv).get("header");
  return path.resolve(projectDir, own || path.join(platformioDir(projectDir, sections, "include_dir", "include", sysenv), HEADER_NAME));
}

/**
 * A folder option of [platformio] (include_dir, lib_dir) as PlatformIO resolves it: its
 * `${...}` references and the built-in `${PROJECT_DIR}` expanded, relative to the project;
 * `fallback` (PlatformIO's default) when unset.
 */
export function platformioDir(projectDir: string, sections: IniSection[], option: string, fallback: string, sysenv: NodeJS.ProcessEnv = process.env): string {
  const value = findSection(sections, "platformio")?.values.get(option);
  const dir = value ? expandValue(sections, value.replace(/\$\{PROJECT_DIR\}/g, () => projectDir), sysenv).replace(/\\/g, "/") : fallback;
  return path.resolve(projectDir, dir);
}

/**
 * An environment's option as PlatformIO resolves it: its own value, else the sections it
 * `extends` (in order), else the common [env] section.
 */
function envOption(sections: IniSection[], env: IniSection, key: string, seen = new Set<string>()): string | undefined {
  if (seen.has(env.name)) return undefined;
  seen.add(env.name);
  const own = env.values.get(key);
  if (own !== undefined) return own;
  for (const name of listValue(env.values.get("extends")) ?? []) {
    const base = findSection(sections, name);
    const value = base && envOption(sections, base, key, seen);
    if (value !== undefined) return value;
  }
  return env.name === "env" ? undefined : findSection(sections, "env")?.values.get(key);
}

/** The `[esp_certs]` values as written, with references expanded; empty without the section. */
export function ownSettings(sections: IniSection[], sysenv: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const own = findSection(sections, "esp_certs");
  return new Map([...(own?.values ?? [])].map(([k, v]) => [k, expandValue(sections, v, sysenv)]));
}

const REFERENCE = /\$\{([^.}()]+)\.([^}]+)\}/g;

/** Bounds on `${...}` expansion: a deep chain overflowed the stack, a doubling one ran for minutes. */
const MAX_REFERENCE_DEPTH = 32;
const MAX_REFERENCES = 1000;
const MAX_EXPANDED_CHARS = 64 * 1024;

/**
 * A value with `${sysenv.NAME}` and `${section.option}` replaced, as PlatformIO expands
 * them: an unset variable is empty; an option of an `env:` section is looked up as the
 * environment resolves it.
 */
function expandValue(sections: IniSection[], value: string, sysenv: NodeJS.ProcessEnv, chain: string[] = [], budget = { refs: 0 }): string {
  const expanded = value.replace(REFERENCE, (ref: string, section: string, option: string) => {
    if (++budget.refs > MAX_REFERENCES || chain.length >= MAX_REFERENCE_DEPTH) {
      throw new EspCertsError(
        `Cannot read ${chain[0] ?? ref} in platformio.ini`,
        `its \${...} references go ${chain.length >= MAX_REFERENCE_DEPTH ? `deeper than ${MAX_REFERENCE_DEPTH} levels` : `past ${MAX_REFERENCES} expansions`}`,
        "Write the value itself, or refer to it through fewer levels.",
      );
    }
    if (section === "sysenv") return sysenv[option] ?? "";
    if (chain.includes(ref)) {
      throw new EspCertsError(`Cannot read ${ref} in platformio.ini`, "it refers to itself", "Write the value itself in one of the places.");
    }
    const base = findSection(sections, section);
    const found = base && (section.startsWith("env:") ? envOption(sections, base, option) : base.values.get(option));
    if (found === undefined) {
      throw new EspCertsError(`Cannot read ${ref} in platformio.ini`, `[${section}] has no ${option}`, `Set ${option} in [${section}], or write the value itself.`);
    }
    return expandValue(sections, found, sysenv, [...chain, ref], budget);
  });
  if (expanded !== value && expanded.length > MAX_EXPANDED_CHARS) {
    throw new EspCertsError(`Cannot read ${chain[0] ?? "a value"} in platformio.ini`, `its \${...} references expand to more than ${MAX_EXPANDED_CHARS / 1024} KiB`, "Write the value itself.");
  }
  return expanded;
}

/**
 * The store's folder, refused (before anything is written) where it would share the broker
 * folder: that folder is mounted into Mosquitto's container, and the CA key and the clients'
 * keys must never land there.
 */
function checkCertDir(projectDir: string, value: string): string {
  const dir = path.resolve(projectDir, value);
  const broker = path.resolve(projectDir, DEFAULT_BROKER_DIR);
  const inside = (a: string, b: string) => {
    const rel = path.relative(b, a);
    return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
  };
  if (inside(dir, broker) || inside(broker, dir)) {
    throw new EspCertsError(
      `Cannot use cert_dir = ${value}`,
      `the store would ${inside(dir, broker) ? "be" : "hold"} the broker folder ${DEFAULT_BROKER_DIR}/, which Mosquitto's container mounts: the CA key and the devices' keys would go there`,
      'Keep the store in a folder of its own: "cert_dir = certs" (the default).',
    );
  }
  return dir;
}

function checkKeyType(value: string, key: string): KeyType {
  if ((KEY_TYPES as readonly string[]).includes(value)) return value as KeyType;
  // The type the value was reaching for ("ec256" -> ec-p256), else the setting's default.
  const meant = /ec|p-?256|ecdsa/i.test(value) ? "ec-p256" : /rsa/i.test(value) ? "rsa2048" : DEFAULTS[key as "key_type" | "client_key_type"];
  throw new EspCertsError(`Cannot use ${key} "${value}"`, `it must be one of ${KEY_TYPES.join(", ")}`, `Set "${key} = ${meant}".`);
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}

/** Like listValue, but keeps empty entries so that "dev01,,dev02" is reported, not mended. */
function splitKeepingEmpty(v: string): string[] {
  return v.split(/[,\n]/).map((s) => s.trim());
}
