import path from "node:path";
import { loadConfig } from "../config/config.js";
import { describeHolder, withLock } from "../fs/lock.js";
import { note } from "../ui.js";

/**
 * Runs `fn` as the store's one writer (docs/store.md, "One run at a time"): every command that
 * writes the store, its header or its broker folder goes through here, and a second run
 * waits, saying for whom. `certDir` defaults to the project's cert_dir.
 */
export function lockStore<T>(projectDir: string, command: string, fn: () => Promise<T>, certDir?: string): Promise<T> {
  const dir = certDir ?? loadConfig(projectDir).certDir;
  return withLock(dir, command, fn, {
    onWait: (holder) => note(`esp-certs: waiting for another esp-certs run (${describeHolder(holder)}) to finish writing ${path.relative(projectDir, dir) || dir} ...`),
  });
}
