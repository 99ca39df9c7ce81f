import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DEFAULTS, ownSettings, platformioIniPath } from "../config/config.js";
import { parseIni } from "../config/ini.js";
import { EspCertsError } from "../errors.js";
import { describeHolder, withLock } from "../fs/lock.js";

export interface LockStoreOptions {
  /** The store's folder; defaults to the project's cert_dir. */
  certDir?: string;
  /** Tells the user, once, that this run waits for another and for whom (the command prints it). */
  onWait: (line: string) => void;
}

/**
 * Runs `fn` as the store's one writer (docs/configuration.md, "One run at a time"): every command that
 * writes the store, its header or its broker folder goes through here, and a second run
 * waits, saying for whom through `onWait`.
 */
export async function lockStore<T>(projectDir: string, command: string, fn: () => Promise<T>, opts: LockStoreOptions): Promise<T> {
  const dir = opts.certDir ?? certDirOf(projectDir);
  // Without a readable configuration nothing is written: the command says what is wrong.
  if (dir === undefined) return fn();
  const held = async () => {
    heldStores.add(path.resolve(dir));
    try {
      return await fn();
    } finally {
      heldStores.delete(path.resolve(dir));
    }
  };
  return withLock(dir, command, held, {
    onWait: (holder) => opts.onWait(`esp-certs: waiting for another esp-certs run (${describeHolder(holder)}) to finish writing ${path.relative(projectDir, dir) || dir} ...`),
  });
}

/** The stores this run holds the lock of. */
const heldStores = new Set<string>();

/** Whether this run is the one writer of the store in `certDir` (inside lockStore). */
export function holdsStoreLock(certDir: string): boolean {
  return heldStores.has(path.resolve(certDir));
}

/** cert_dir alone, so that the command itself checks (and reports on) everything else, with its own flags. */
function certDirOf(projectDir: string): string | undefined {
  // A missing project folder: the command refuses it, and the lock must not make it (and leave it behind).
  if (!existsSync(path.resolve(projectDir))) return undefined;
  try {
    const ini = platformioIniPath(projectDir);
    const text = existsSync(ini) ? readFileSync(ini, "utf8") : "";
    return path.resolve(projectDir, ownSettings(parseIni(text)).get("cert_dir") || DEFAULTS.cert_dir);
  } catch (err) {
    if (err instanceof EspCertsError || typeof (err as NodeJS.ErrnoException).code === "string") return undefined;
    throw err;
  }
}
