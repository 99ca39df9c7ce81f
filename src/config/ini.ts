import { EspCertsError } from "../errors.js";

/**
 * The subset of Python's configparser that platformio.ini uses, read as PlatformIO reads it
 * (`ConfigParser(inline_comment_prefixes=("#", ";"))`): `[section]`, `key = value` with
 * keys in lower case, values continued on indented lines, `;`/`#` comment lines, and
 * ` ;`/` #` inline comments. A section or a key given twice is refused, as configparser
 * does. Parsing keeps line numbers so that edits can replace one section and leave every
 * other byte of the user's file as it was.
 */
export interface IniSection {
  name: string;
  values: Map<string, string>;
  /** Index of the `[name]` line. */
  startLine: number;
  /** Index one past the section's last non-blank line. */
  endLine: number;
}

const SECTION = /^\[([^\]]+)\]\s*(?:[;#].*)?$/;
const ENTRY = /^([^=:\s][^=:]*?)\s*[=:](.*)$/;

/** A value without its inline comment: `;` or `#` after whitespace starts one. */
function stripInlineComment(v: string): string {
  return v.replace(/\s[;#].*$/, "").trim();
}

const duplicate = (what: string, first: number, again: number) =>
  new EspCertsError(
    "Cannot read platformio.ini",
    `${what} (lines ${first + 1} and ${again + 1}); PlatformIO refuses such a file too`,
    "Merge the two into one.",
  );

export function parseIni(text: string): IniSection[] {
  // Notepad's "UTF-8 with BOM": the mark is not part of the first line.
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const sections: IniSection[] = [];
  let current: IniSection | undefined;
  let lastKey: string | undefined;
  let keyLines = new Map<string, number>();
  lines.forEach((raw, i) => {
    const line = raw.replace(/\s+$/, "");
    if (line === "" || /^\s*[;#]/.test(line)) return;
    const sec = SECTION.exec(line);
    if (sec) {
      const name = sec[1].trim();
      const before = sections.find((s) => s.name === name);
      if (before) throw duplicate(`[${name}] appears twice`, before.startLine, i);
      current = { name, values: new Map(), startLine: i, endLine: i + 1 };
      sections.push(current);
      lastKey = undefined;
      keyLines = new Map();
      return;
    }
    if (!current) return;
    current.endLine = i + 1;
    if (/^\s/.test(line) && lastKey !== undefined) {
      const prev = current.values.get(lastKey) ?? "";
      const more = stripInlineComment(line);
      current.values.set(lastKey, prev === "" ? more : `${prev}\n${more}`);
      return;
    }
    const entry = ENTRY.exec(line);
    if (entry) {
      lastKey = entry[1].trim().toLowerCase();
      const before = keyLines.get(lastKey);
      if (before !== undefined) throw duplicate(`${lastKey} is set twice in [${current.name}]`, before, i);
      keyLines.set(lastKey, i);
      current.values.set(lastKey, stripInlineComment(entry[2]));
    }
  });
  return sections;
}

export function findSection(sections: IniSection[], name: string): IniSection | undefined {
  return sections.find((s) => s.name === name);
}

/** A comma- or newline-separated list value, as PlatformIO reads `lib_deps`. */
export function listValue(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * Returns `text` with section `name` replaced by `body` (the lines below the header),
 * or with the section appended when it is not there. Everything else is kept byte for byte.
 */
export function replaceSection(text: string, name: string, body: string[]): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.split(/\r?\n/);
  const block = [`[${name}]`, ...body];
  const existing = findSection(parseIni(text), name);
  if (existing) {
    lines.splice(existing.startLine, existing.endLine - existing.startLine, ...block);
    return lines.join(eol);
  }
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  if (lines.length > 0) lines.push("");
  lines.push(...block, "");
  return lines.join(eol);
}

/**
 * Returns `text` with `entries` set in section `name`: an existing key's line (and its
 * continuation lines) is replaced where it stands, a new key goes at the section's end,
 * and a missing section is appended. Comments and other keys are kept.
 */
export function setKeys(text: string, name: string, entries: [string, string][]): string {
  const section = findSection(parseIni(text), name);
  if (!section) return replaceSection(text, name, entries.map(([k, v]) => `${k} = ${v}`));
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r?\n/);
  const tail: string[] = [];
  for (const [key, value] of entries) {
    const at = lines.findIndex((l, i) => i > section.startLine && i < section.endLine && ENTRY.exec(l)?.[1].trim().toLowerCase() === key);
    if (at < 0) {
      tail.push(`${key} = ${value}`);
      continue;
    }
    let end = at + 1;
    while (end < section.endLine && /^\s+\S/.test(lines[end])) end++;
    lines.splice(at, end - at, `${key} = ${value}`);
    section.endLine -= end - at - 1;
  }
  lines.splice(section.endLine, 0, ...tail);
  return lines.join(eol);
}
