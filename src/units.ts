// Units and digests every layer spells the same way.
import { createHash } from "node:crypto";

export const DAY_MS = 24 * 60 * 60 * 1000;

/** SHA-256 of `data`, lower-case hex: how the manifest, the header and the stamp record a file. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
