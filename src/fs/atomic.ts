import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * Writes a file so that a reader, or a run killed at any point, sees either the old
 * content or the new one, never a part: temp file in the same folder, fsync, rename.
 * Keys pass mode 0o600; the temp file has that mode from its creation.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // The writer's pid in the name lets a later run tell a dead writer's leftover from a live one's.
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  // openSync's mode is masked by the umask; a key must end up 0600 whatever it is.
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/**
 * Writes only when the content differs, so that an unchanged file keeps its mtime
 * (PlatformIO and Mosquitto users notice rebuilds and restarts). Returns whether it wrote.
 */
export function writeIfChanged(file: string, data: string | Uint8Array, mode = 0o644): boolean {
  const next = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
  let current: Buffer | undefined;
  try {
    current = readFileSync(file);
  } catch {
    current = undefined;
  }
  if (current !== undefined && current.equals(next)) {
    chmodSync(file, mode);
    return false;
  }
  writeFileAtomic(file, next, mode);
  return true;
}

const TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Removes temp files that a killed run left in `dir`; those of a run still alive stay. */
export function removeStaleTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const m = TEMP.exec(name);
    if (m && !isAlive(Number(m[1]))) rmSync(path.join(dir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
