/**
 * Puts esp-certs into a user's existing PlatformIO project: the pre-build hook script,
 * an `extra_scripts = pre:` entry that runs it, and .gitignore lines for the secrets.
 * Every edit keeps the rest of the user's files as they were and is done at most once.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_BROKER_DIR } from "../broker/broker.js";
import { DEFAULTS, headerFile, ownSettings, platformioIniPath } from "../config/config.js";
import { findSection, parseIni, type IniSection } from "../config/ini.js";
import { TEMP_SUFFIX } from "../fs/atomic.js";
import { writeIfChanged } from "../fs/sync.js";
import { withIgnored } from "../fs/gitignore.js";
import { packageFile } from "../render/package-files.js";

/** The hook's name in the project (beside platformio.ini, where PlatformIO scripts usually live). */
export const HOOK_SCRIPT = "esp_certs_hook.py";
const HOOK_ENTRY = `pre:${HOOK_SCRIPT}`;

export function installIntoProject(projectDir: string): { changed: string[] } {
  const changed: string[] = [];
  const iniFile = platformioIniPath(projectDir);
  const ini = existsSync(iniFile) ? readFileSync(iniFile, "utf8") : "";
  const existing = hookEntries(ini);
  // Refresh our copy (a newer esp-certs may ship a newer hook) unless the project runs one of its own elsewhere.
  if (existing.length === 0 || existing.some((e) => path.resolve(projectDir, e) === path.join(projectDir, HOOK_SCRIPT))) {
    const target = path.join(projectDir, HOOK_SCRIPT);
    if (writeIfChanged(target, readFileSync(packageFile(`firmware/${HOOK_SCRIPT}`)))) changed.push(target);
  }
  const nextIni = withHookEntry(ini);
  if (nextIni !== ini && writeIfChanged(iniFile, nextIni)) changed.push(iniFile);

  const gitignore = path.join(projectDir, ".gitignore");
  const ignored = existsSync(gitignore) ? readFileSync(gitignore, "utf8") : "";
  const nextIgnored = withIgnored(ignored, secretPaths(projectDir, nextIni));
  if (nextIgnored !== ignored && writeIfChanged(gitignore, nextIgnored)) changed.push(gitignore);
  return { changed };
}

/** The hook scripts an ini already runs (paths as written, without `pre:`). */
export function hookEntries(iniText: string): string[] {
  return parseIni(iniText)
    .flatMap((s) => scriptItems(s.values.get("extra_scripts") ?? ""))
    .map((item) => item.replace(/^(pre|post):/, ""))
    .filter((p) => path.basename(p.replace(/\\/g, "/")) === HOOK_SCRIPT);
}

/**
 * `text` with `pre:esp_certs_hook.py` run for every environment: added to each section that
 * sets extra_scripts (an environment's own value replaces [env]'s, it does not add to it),
 * and to [env]. Unchanged when the hook is already there.
 */
export function withHookEntry(text: string): string {
  if (hookEntries(text).length > 0) return text;
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.split(/\r?\n/);
  const sections = parseIni(text);
  // Bottom-up, so that inserted lines do not move the sections still to edit.
  for (const section of [...sections].reverse()) {
    if (section.name !== "esp_certs" && section.values.has("extra_scripts")) appendScript(lines, section);
  }
  const env = findSection(sections, "env");
  if (env === undefined) {
    const firstEnv = sections.find((s) => s.name.startsWith("env:"));
    const block = ["[env]", `extra_scripts = ${HOOK_ENTRY}`, ""];
    if (firstEnv) lines.splice(firstEnv.startLine, 0, ...block);
    else {
      while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
      lines.push(...(lines.length > 0 ? [""] : []), ...block);
    }
  } else if (!env.values.has("extra_scripts")) {
    lines.splice(env.endLine, 0, `extra_scripts = ${HOOK_ENTRY}`);
  }
  return lines.join(eol);
}

/** Adds our entry to the section's extra_scripts, which it has. Edits `lines` in place. */
function appendScript(lines: string[], section: IniSection): void {
  const at = lines.findIndex((l, i) => i > section.startLine && i < section.endLine && /^extra_scripts\s*[=:]/.test(l));
  let end = at + 1;
  while (end < section.endLine && (/^\s+\S/.test(lines[end]) || lines[end].trim() === "")) end++;
  while (end > at + 1 && lines[end - 1].trim() === "") end--;
  if (end > at + 1) {
    // Already one item a line: add ours the same way, keeping every line (and comment) there.
    lines.splice(end, 0, `${/^\s+/.exec(lines[end - 1])![0]}${HOOK_ENTRY}`);
    return;
  }
  const items = scriptItems(section.values.get("extra_scripts") ?? "");
  if (items.length === 0) {
    lines[at] = `extra_scripts = ${HOOK_ENTRY}`;
  } else if (items.length === 1) {
    lines.splice(at + 1, 0, `    ${HOOK_ENTRY}`);
  } else {
    // PlatformIO splits a value on ", " only when it has no newline: go one item a line.
    lines.splice(at, 1, `extra_scripts = ${items[0]}`, ...[...items.slice(1), HOOK_ENTRY].map((i) => `    ${i}`));
  }
}

/** extra_scripts items as PlatformIO splits them (ProjectConfig.parse_multi_values). */
function scriptItems(value: string): string[] {
  return value
    .split(value.includes("\n") ? "\n" : ", ")
    .map((s) => s.trim())
    .filter((s) => s !== "" && !s.startsWith(";") && !s.startsWith("#"));
}

/**
 * The store, the header and the WiFi secrets beside it (the example sketch's wifi_secrets.h), as
 * .gitignore lines relative to the project (none when outside it).
 */
function secretPaths(projectDir: string, iniText: string): string[] {
  const sections = parseIni(iniText);
  const rel = (p: string) => path.relative(projectDir, path.resolve(projectDir, p)).replace(/\\/g, "/");
  const certDir = rel(ownSettings(sections).get("cert_dir") || DEFAULTS.cert_dir);
  const header = rel(headerFile(projectDir, sections));
  // broker/ holds a copy of the broker's key (esp-certs broker).
  const wifi = path.posix.join(path.posix.dirname(header), "wifi_secrets.h");
  const inProject = [`${certDir}/`, header, `${DEFAULT_BROKER_DIR}/`, wifi].filter((p) => !p.startsWith("../") && !path.isAbsolute(p));
  // A write killed before its rename leaves a temp file (it may hold a key) wherever it wrote.
  return [...inProject, `*${TEMP_SUFFIX}`];
}
