/**
 * Keeping esp-certs' private files out of git: the .gitignore lines `init` writes for a whole
 * project, and the header's own line when a header lands in a git work tree that nothing
 * prepared (a plain PlatformIO project where only `generate` ran, or `header --out`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { writeIfChanged } from "./sync.js";
import { TEMP_SUFFIX } from "./atomic.js";

const SECRETS_COMMENT = "# esp-certs: the certificate store, the firmware header, the broker folder and interrupted writes hold private keys; wifi_secrets.h the WiFi password";
const HEADER_COMMENT = "# esp-certs: the firmware header holds a device's private key, and so does its temp file while it is written";
/** A write cut short leaves its temp file (fs/atomic.ts) beside the target, with the same secret. */
const TEMP_LINE = `*${TEMP_SUFFIX}`;
export const BROKER_COMMENT = "# esp-certs: the broker folder holds the broker's private key";
export const STORE_COMMENT = "# esp-certs: the certificate store holds the CA's and the clients' private keys";

/** `text` (a .gitignore) with the lines of `wanted` it lacks added at its end; the user's lines stay as written. */
export function withIgnored(text: string, wanted: string[], comment = SECRETS_COMMENT): string {
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim().replace(/^\//, "")));
  const missing = wanted.filter((w) => !have.has(w.replace(/^\//, "")) && !have.has(w.replace(/\/$/, "")));
  if (missing.length === 0) return text;
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const head = text === "" || text.endsWith("\n") ? text : `${text}${eol}`;
  const gap = head === "" ? "" : eol;
  return `${head}${gap}${comment}${eol}${missing.join(eol)}${eol}`;
}

/**
 * Makes git ignore a private file or folder esp-certs just wrote (the header, the certificate
 * store), when it is in a git work tree and nothing ignores it yet: its path goes into the
 * project's .gitignore when it is inside the project (where `init` puts its lines), else into the
 * .gitignore at the work tree's top.
 * Returns that .gitignore when it changed. A "!" rule of the user's that keeps the header
 * tracked is their choice and stays in force. Without git on PATH, an exact line decides.
 * `temps`: also esp-certs' temp files (a file, not a folder, is written beside them).
 */
export function ignoreInGit(file: string, projectDir: string, what: { folder?: boolean; comment?: string; temps?: boolean } = {}): string | undefined {
  const top = workTree(path.dirname(file));
  if (top === undefined) return undefined;
  const base = isInside(file, projectDir) && !path.relative(top, projectDir).startsWith("..") ? projectDir : top;
  const rel = path.relative(base, file).split(path.sep).join("/") + (what.folder ? "/" : "");
  // --no-index: the rules alone decide, also for a header someone committed before.
  // -v names the rule that decides: 0 with a "!" rule means the user un-ignored it on purpose.
  const check = spawnSync("git", ["check-ignore", "-v", "--no-index", "--", rel], { cwd: base, encoding: "utf8", timeout: 10_000 });
  // 0: a rule decides (ignored, or the user's "!" that keeps it tracked); 128: not a work tree to git.
  if (check.status === 0 || check.status === 128) return undefined;
  const gitignore = path.join(base, ".gitignore");
  const text = existsSync(gitignore) ? readFileSync(gitignore, "utf8") : "";
  // A name without a slash would match at every depth: anchor it to this folder.
  const line = rel.replace(/\/$/, "").includes("/") ? rel : `/${rel}`;
  return writeIfChanged(gitignore, withIgnored(text, what.temps ? [line, TEMP_LINE] : [line], what.comment ?? HEADER_COMMENT)) ? gitignore : undefined;
}

/** The nearest folder from `dir` up that holds a .git (a repository's folder, or a worktree's file). */
function workTree(dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, ".git"))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}
