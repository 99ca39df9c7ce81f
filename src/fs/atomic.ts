import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import path from "node:path";
import { pidAlive } from "./pid.js";

/** Whether a mode is private (nothing for group or others): such a file's new folders are 0700. */
const isPrivate = (mode: number) => (mode & 0o077) === 0;

/**
 * Writes a file so that a reader, or a run killed at any point, sees either the old
 * content or the new one, never a part: temp file in the same folder, fsync, rename.
 * Keys pass mode 0o600; the temp file has that mode from its creation, and folders made
 * for it are 0700 (0755 for other files), whatever the umask. A failure names `file`.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = path.dirname(file);
  namingPath(file, () => mkdirSync(dir, { recursive: true, mode: isPrivate(mode) ? 0o700 : 0o755 }));
  removeStaleTempsOnce(dir);
  const tmp = path.join(dir, tempName(path.basename(file)));
  const fd = namingPath(file, () => openSync(tmp, "wx", mode));
  try {
    writeAll(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
    closeSync(fd);
    // openSync's mode is masked by the umask; a key must end up 0600 whatever it is.
    chmodSync(tmp, mode);
    renameSync(tmp, file);
    syncDir(dir);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    rmSync(tmp, { force: true });
    throw withPath(err, file);
  }
}

/**
 * writeFileAtomic for a secret going to a folder that no esp-certs run cleans (a user's --out):
 * the temp file is made in `stagingDir` (the store's private folder, whose leftovers a later
 * run removes) and renamed into place, so a run killed before the rename leaves no key beside
 * the user's files. Another disk than the staging folder's: written beside the target as usual.
 */
export function writeSecretVia(stagingDir: string, file: string, data: Uint8Array): void {
  ensurePrivateDir(stagingDir);
  removeStaleTempsOnce(stagingDir);
  const tmp = tempPath(stagingDir, path.basename(file));
  writeFileAtomic(tmp, data, 0o600);
  namingPath(file, () => mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 }));
  try {
    renameDurably(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw withPath(err, file);
    writeFileAtomic(file, data, 0o600);
  }
}

/** A temp path in `dir` of the form removeStaleTemps recognises: left by a killed run, a later one removes it. */
export function tempPath(dir: string, base: string): string {
  return path.join(dir, tempName(base));
}

/**
 * Flushes a folder's entries to disk: a rename is durable only once its folder is (docs/configuration.md
 * promises files "flushed to disk"; a power cut after the rename could otherwise bring the old
 * file back). Windows cannot open a folder as a file, and NTFS journals renames itself.
 */
export function syncDir(dir: string): void {
  if (process.platform === "win32") return;
  const fd = namingPath(dir, () => openSync(dir, "r"));
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Renames `from` to `to` and flushes both folders, so that the move survives a power cut. */
export function renameDurably(from: string, to: string): void {
  renameSync(from, to);
  syncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) syncDir(path.dirname(from));
}

/**
 * Writes every byte: on a nearly full disk write(2) stores only part and says how much, and
 * the call for the rest fails with ENOSPC. Never a short file renamed into place.
 */
export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    const n = writeSync(fd, data, done, data.length - done);
    if (n <= 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" });
    done += n;
  }
}

/** Makes `dir` (and missing parents) 0700, and takes back group and other access it was found with. */
export function ensurePrivateDir(dir: string): void {
  namingPath(dir, () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.platform !== "win32" && (statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  });
}

/**
 * Temp names that no other program uses: `.NAME.<pid>.<8 hex>.esp-certs-tmp`. The writer's pid
 * lets a later run tell a dead writer's leftover from a live one's; the suffix means a file
 * of this form is ours, so removing it never removes someone else's.
 */
export const TEMP_SUFFIX = ".esp-certs-tmp";
const TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.esp-certs-tmp$/;

function tempName(base: string): string {
  return `.${base}.${process.pid}.${randomBytes(4).toString("hex")}${TEMP_SUFFIX}`;
}

/** Removes temp files that a killed run left in `dir`; those of a run still alive stay. */
export function removeStaleTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const m = TEMP.exec(name);
    if (m && !pidAlive(Number(m[1]))) rmSync(path.join(dir, name), { force: true });
  }
}

const cleaned = new Set<string>();

/** removeStaleTemps, once a folder a process: every folder written to is cleaned, each at its first write. */
function removeStaleTempsOnce(dir: string): void {
  const key = path.resolve(dir);
  if (cleaned.has(key)) return;
  cleaned.add(key);
  removeStaleTemps(key);
}

/**
 * The error with `file` as its path: a failed write or fsync names none, a failed rename
 * names the temp file, and a read-only disk is reported by a recursive mkdir as ENOENT.
 */
export function withPath(err: unknown, file: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code !== "string") return err;
  if (e.code === "ENOENT" && e.syscall === "mkdir" && isReadOnlyFor(file)) {
    return Object.assign(new Error(`EROFS: read-only file system, mkdir '${file}'`), { code: "EROFS", syscall: "mkdir", path: file });
  }
  e.path = file;
  return e;
}

export function namingPath<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw withPath(err, file);
  }
}

/** Whether the nearest existing folder above `file` cannot be written because its disk is read-only. */
function isReadOnlyFor(file: string): boolean {
  let dir = path.dirname(file);
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const probe = path.join(dir, tempName("probe"));
  try {
    mkdirSync(probe);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EROFS";
  }
  rmSync(probe, { force: true, recursive: true });
  return false;
}
