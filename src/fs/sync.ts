// Writing a file only when it differs: an unchanged file keeps its mtime, so PlatformIO does
// not rebuild and "restart the broker" is said only when needed. Anything else is written
// whole (./atomic.ts).
import { chmodSync, readFileSync, statSync } from "node:fs";
import { namingPath, withPath, writeFileAtomic } from "./atomic.js";

export interface WantedFile {
  path: string;
  content: string | Buffer;
  /** 0o600 for private keys; default 0o644. */
  mode?: number;
}

const bytes = (f: WantedFile) => (Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content));
export const sameBytes = (f: WantedFile) => sameContent(f.path, bytes(f));
// Windows has no POSIX modes to keep.
const sameMode = (f: WantedFile) => process.platform === "win32" || (statSync(f.path).mode & 0o777) === (f.mode ?? 0o644);

/** Whether the file already holds exactly this content, with the wanted mode. */
export function fileIsCurrent(f: WantedFile): boolean {
  return sameBytes(f) && sameMode(f);
}

/** Writes `f` unless it is current; returns whether anything changed (its mode included). */
export function syncFile(f: WantedFile): boolean {
  if (!sameBytes(f)) {
    writeFileAtomic(f.path, bytes(f), f.mode ?? 0o644);
    return true;
  }
  if (sameMode(f)) return false;
  chmodSync(f.path, f.mode ?? 0o644);
  return true;
}

/**
 * Writes only when the content differs; returns whether it wrote. An unchanged file still
 * gets `mode` back if it was found looser, which is not reported as a change.
 */
export function writeIfChanged(file: string, data: string | Uint8Array, mode = 0o644): boolean {
  const next = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  if (sameContent(file, next)) {
    keepMode(file, mode);
    return false;
  }
  writeFileAtomic(file, next, mode);
  return true;
}

/**
 * Gives `file` exactly `mode` when it has another (a copy, an unzip, a umask of 000); a file
 * already right is not touched, so a run with nothing to do works on a read-only checkout.
 */
export function keepMode(file: string, mode: number): void {
  if (process.platform === "win32") return;
  namingPath(file, () => {
    if ((statSync(file).mode & 0o777) !== mode) chmodSync(file, mode);
  });
}

/** Whether `file` holds exactly `bytes`; false when it is missing. A folder in its place is an error that names it. */
function sameContent(file: string, bytes: Buffer): boolean {
  let current: Buffer;
  try {
    current = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw withPath(err, file);
  }
  return current.equals(bytes);
}
