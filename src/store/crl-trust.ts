import { existsSync, readFileSync, renameSync } from "node:fs";
import { crlMatchesCa, crlSignedBy, readCrl, type ReadCrl, type Revoked } from "../pki/crl.js";
import type { IssueDeps } from "../pki/issue.js";
import type { Manifest } from "./manifest.js";
import type { StorePaths } from "./paths.js";
import { forgotten, recordedRevocations, withRecorded } from "./revocation-record.js";

/**
 * Whether the store's CRL can be signed on from, copied to the broker, or must be rebuilt
 * (docs/revocation.md, "Two records"). A CRL that does not verify with this CA (damaged,
 * forged, another CA's under this name), or that leaves out a revocation the manifest's
 * history records (deleted, rolled back), is never trusted: what comes next is rebuilt from
 * the history, so a revocation once made is never undone by a file.
 */
export type CrlVerdict =
  /** No CRL and nothing revoked: nothing to sign. */
  | { state: "none" }
  /** Sound and complete. */
  | { state: "sound"; crl: ReadCrl }
  /** Of an earlier CA (after --new-ca): moved to its backup, and this CA starts its own. */
  | { state: "earlier-ca"; crl: ReadCrl; entries: Revoked[]; number: bigint }
  /** Sound but for the revocations this run just recorded (`added`): signed on with them. */
  | { state: "extend"; crl?: ReadCrl; entries: Revoked[]; number: bigint }
  /** To be rebuilt: `problem` says why, `entries` what the next CRL lists. */
  | { state: "rebuild"; problem: string; entries: Revoked[]; number: bigint; crl?: ReadCrl; untrusted: boolean };

/**
 * Judges certs/ca.crl.pem against the CA and the manifest. `added`: serials this run has just
 * recorded as revoked (a new key's superseded certificate), which no CRL lists yet.
 */
export async function judgeStoreCrl(
  p: StorePaths,
  caDer: Uint8Array,
  manifest: Manifest | undefined,
  deps: Pick<IssueDeps, "crypto" | "now">,
  added: ReadonlySet<string> = new Set(),
): Promise<CrlVerdict> {
  const recorded = recordedRevocations(manifest);
  const onlyAdded = (missing: Revoked[]) => missing.every((m) => added.has(m.serial));
  // Without a number to go on, the clock's seconds: above any CRL number one a revoke ever reached.
  const fresh = BigInt(Math.floor(deps.now().getTime() / 1000));
  if (!existsSync(p.crlPem)) {
    if (recorded.length === 0) return { state: "none" };
    if (onlyAdded(recorded)) return { state: "extend", entries: recorded, number: 1n };
    return { state: "rebuild", problem: `${p.crlPem} is missing while the manifest's history records ${count(recorded.length)}`, entries: recorded, number: fresh, untrusted: false };
  }
  let crl: ReadCrl;
  try {
    crl = readCrl(readFileSync(p.crlPem, "utf8"));
  } catch (err) {
    return { state: "rebuild", problem: `${p.crlPem} is not a readable CRL (${(err as Error).message})`, entries: recorded, number: fresh, untrusted: true };
  }
  const number = (crl.number > fresh ? crl.number : fresh) + 1n;
  if (!crlMatchesCa(crl, caDer)) return { state: "earlier-ca", crl, entries: recorded, number: crl.number + 1n };
  if (!(await verifies(crl, caDer, deps.crypto))) {
    return { state: "rebuild", problem: `the signature of ${p.crlPem} does not verify with this store's CA (damaged, forged, or another CA's under this name)`, entries: recorded, number, crl, untrusted: true };
  }
  const missing = forgotten(crl.revoked, manifest);
  if (missing.length > 0 && onlyAdded(missing)) return { state: "extend", crl, entries: withRecorded(crl.revoked, manifest), number: crl.number + 1n };
  if (missing.length > 0) {
    return {
      state: "rebuild",
      problem: `${p.crlPem} leaves out ${count(missing.length)} that the manifest's history records (serial ${missing.map((m) => m.serial).join(", ")}): an older copy, or one rolled back`,
      entries: withRecorded(crl.revoked, manifest),
      number: crl.number + 1n,
      crl,
      untrusted: false,
    };
  }
  return { state: "sound", crl };
}

/** A signature of another key type (an EC CRL checked with an RSA CA) throws in WebCrypto: it does not verify. */
async function verifies(crl: ReadCrl, caDer: Uint8Array, crypto: IssueDeps["crypto"]): Promise<boolean> {
  try {
    return await crlSignedBy(crl, caDer, crypto);
  } catch {
    return false;
  }
}

const count = (n: number) => (n === 1 ? "1 revocation" : `${n} revocations`);

/**
 * Moves a CRL this CA did not sign out of the way (to ca.crl.pem.rejected) before a rebuilt one
 * takes its place: it is not a file esp-certs wrote, so it is kept for a look.
 */
export function setAsideUntrusted(p: StorePaths, verdict: CrlVerdict): void {
  if (verdict.state === "rebuild" && verdict.untrusted && existsSync(p.crlPem)) renameSync(p.crlPem, `${p.crlPem}.rejected`);
}
