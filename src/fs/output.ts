/**
 * The one rule for every path a user can point an output at (`header =`, `--out` of header,
 * broker, nodered): esp-certs writes a new file or one it wrote itself, never the project's
 * platformio.ini, and never into the certificate store or the broker folder, whose files
 * have owners of their own (docs/configuration.md, "Where esp-certs writes").
 * Pure checks over the file system; they throw before anything is written.
 */
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { EspCertsError } from "../errors.js";

export interface OutputRule {
  /** What is being written, for messages: "the header". */
  what: string;
  /** Where its path comes from, for the fix: "header in [esp_certs]", "--out". */
  setting: string;
  /** Whether the text at the start of an existing file shows that esp-certs wrote it. */
  isOurs: (head: string) => boolean;
  /** Folders no output may go into (nor be): the store, the broker folder. */
  reserved: { dir: string; name: string }[];
}

/** The broker folder's default place in the project (`esp-certs broker` without --out). */
export const DEFAULT_BROKER_DIR = "broker";

/** The folders no single output file may go into: the store and the project's broker folder. */
export function reservedFolders(projectDir: string, certDir: string): OutputRule["reserved"] {
  return [
    { dir: certDir, name: "the certificate store" },
    { dir: path.resolve(projectDir, DEFAULT_BROKER_DIR), name: "the broker folder" },
  ];
}

/** How much of an existing file is read to recognise it. */
const HEAD_BYTES = 4096;

/** Throws (exit 2, nothing written) unless `file` may be written under `rule`. */
export function checkOutputFile(file: string, rule: OutputRule): void {
  const target = path.resolve(file);
  const refuse = (why: string, fix = `Name another file (${rule.setting}).`) => {
    throw new EspCertsError(`Cannot write ${rule.what} to ${target}`, why, fix);
  };
  if (path.basename(target).toLowerCase() === "platformio.ini") refuse("that is the project's platformio.ini");
  for (const r of rule.reserved) {
    if (isInside(real(target), real(r.dir))) refuse(`it is inside ${r.name} ${r.dir}, whose files esp-certs keeps for another purpose`);
  }
  if (!existsSync(target)) return;
  const st = statSync(target);
  if (st.isDirectory()) refuse("it is a folder, not a file", `Name a file inside it (${rule.setting}), or move the folder away.`);
  if (!st.isFile()) refuse("it is not a regular file");
  if (!rule.isOurs(head(target))) {
    refuse("a file that esp-certs did not write is there, and it would be replaced", `Move that file away, or name another path (${rule.setting}).`);
  }
}

/** Throws unless `dir` may hold a folder of outputs: not the store, nor inside it, nor holding it. */
export function checkOutputDir(dir: string, rule: Pick<OutputRule, "what" | "setting" | "reserved">): void {
  const target = real(path.resolve(dir));
  for (const r of rule.reserved) {
    const reserved = real(r.dir);
    if (isInside(target, reserved) || isInside(reserved, target)) {
      throw new EspCertsError(
        `Cannot write ${rule.what} to ${dir}`,
        `it ${isInside(target, reserved) ? "is inside" : "holds"} ${r.name} ${r.dir}, and their files would mix`,
        `Name a folder of its own (${rule.setting}), e.g. broker/.`,
      );
    }
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new EspCertsError(`Cannot write ${rule.what} to ${dir}`, "it is a file, not a folder", `Name a folder (${rule.setting}).`);
  }
}

/** Whether `inner` is `outer` or below it. */
export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** The path with its existing part resolved through symlinks, so that a link into the store is seen for what it is. */
function real(p: string): string {
  let existing = p;
  const rest: string[] = [];
  while (!existsSync(existing) && path.dirname(existing) !== existing) {
    rest.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  try {
    return path.join(realpathSync(existing), ...rest);
  } catch {
    return p;
  }
}

function head(file: string): string {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, HEAD_BYTES, 0)).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
