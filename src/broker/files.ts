// Syncing a generated folder without churning it: a file whose bytes and mode are already
// right is not touched (it keeps its mtime, so "restart the broker" is said only when
// needed); anything else is written whole (src/fs/atomic.ts).
import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../fs/atomic.js";

export interface WantedFile {
  path: string;
  content: string | Buffer;
  /** 0o600 for private keys; default 0o644. */
  mode?: number;
}

const bytes = (f: WantedFile) => (Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content));
export const sameBytes = (f: WantedFile) => existsSync(f.path) && readFileSync(f.path).equals(bytes(f));
// Windows has no POSIX modes to keep.
const sameMode = (f: WantedFile) => process.platform === "win32" || (statSync(f.path).mode & 0o777) === (f.mode ?? 0o644);

/** Whether the file already holds exactly this content, with the wanted mode. */
export function fileIsCurrent(f: WantedFile): boolean {
  return sameBytes(f) && sameMode(f);
}

/** Writes `f` unless it is current; returns whether anything changed. */
export function syncFile(f: WantedFile): boolean {
  if (!sameBytes(f)) {
    writeFileAtomic(f.path, bytes(f), f.mode ?? 0o644);
    return true;
  }
  if (sameMode(f)) return false;
  chmodSync(f.path, f.mode ?? 0o644);
  return true;
}
