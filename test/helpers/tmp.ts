import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const made: string[] = [];

/**
 * A new empty folder in the temp folder, removed after the test file (test/helpers/cleanup.ts):
 * the tests make CA keys, and none may stay behind.
 */
export function tmpDir(prefix = "esp-certs-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes one folder now (a long-lived helper that ends before its test file does). */
export function removeTmpDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const i = made.indexOf(dir);
  if (i >= 0) made.splice(i, 1);
}

export function removeTmpDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
