// The one builder of the store's next CRL (docs/revocation.md): `revoke` adds an entry,
// `generate` re-signs it ahead of its nextUpdate or starts an empty one for a new CA. Either way
// the number grows by one and the dates follow the same rule.
import type { Config } from "../config/config.js";
import { buildCrl, type CrlContent, type ReadCrl, type Revoked } from "../pki/crl.js";
import { crlNextUpdate } from "../pki/crl-dates.js";
import type { IssueDeps, IssuingCa } from "../pki/issue.js";
import type { StorePaths } from "./paths.js";
import { writeStoreCrl } from "./revocations.js";

export interface CrlChange {
  /** Entries to add to the previous CRL's. */
  add?: Revoked[];
  /** A new CA: none of the previous CRL's entries (they are an earlier CA's), only its number carries on. */
  fresh?: boolean;
}

/** What the next CRL holds after `previous`, signed now. Pure. */
export function nextCrlContent(previous: Pick<ReadCrl, "revoked" | "number"> | undefined, change: CrlChange, now: Date, certDays: number, caNotAfter: Date): CrlContent {
  return {
    revoked: [...(change.fresh ? [] : (previous?.revoked ?? [])), ...(change.add ?? [])],
    // The number keeps growing across CAs: harmless, and no reader ever sees it go back.
    number: (previous?.number ?? 0n) + 1n,
    thisUpdate: now,
    nextUpdate: crlNextUpdate(now, certDays, caNotAfter),
  };
}

/** Signs and writes the next CRL; from the PEM's rename on it is the store's record of what is revoked. */
export async function writeNextCrl(
  p: StorePaths,
  config: Pick<Config, "certDays">,
  ca: IssuingCa & { notAfter: Date },
  previous: Pick<ReadCrl, "revoked" | "number"> | undefined,
  change: CrlChange,
  deps: IssueDeps,
): Promise<CrlContent> {
  const content = nextCrlContent(previous, change, deps.now(), config.certDays, ca.notAfter);
  writeStoreCrl(p, await buildCrl(content, ca, deps.crypto));
  return content;
}
