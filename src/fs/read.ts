import { readFileSync } from "node:fs";

/**
 * readFileSync whose errors name the file: node's EISDIR (a folder where a file should be)
 * and EIO on read carry no path, so the message could not say which file it was.
 */
export function readNamed(file: string): Buffer;
export function readNamed(file: string, encoding: "utf8"): string;
export function readNamed(file: string, encoding?: "utf8"): string | Buffer {
  try {
    return encoding === undefined ? readFileSync(file) : readFileSync(file, encoding);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e?.code === "string" && e.path === undefined) e.path = file;
    throw e;
  }
}
