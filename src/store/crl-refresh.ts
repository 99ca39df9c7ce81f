import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { renameDurably } from "../fs/atomic.js";
import { writeIfChanged } from "../fs/sync.js";
import { crlMatchesCa, type ReadCrl } from "../pki/crl.js";
import { crlRenewalDue } from "../pki/crl-dates.js";
import type { CaSigner, CertificateAuthority } from "../pki/ca.js";
import { defaultDeps, type StoreAction } from "../pki/ensure.js";
import { CA_ID } from "../pki/identity.js";
import type { IssuingCa, IssueDeps } from "../pki/issue.js";
import { storePaths, type StorePaths } from "../pki/paths.js";
import { requireStoreCrl } from "../pki/revocations.js";
import { readCert } from "../pki/store.js";
import { writeNextCrl } from "./crl.js";

/**
 * `generate`'s care of the CRL (docs/revocation.md): re-sign it ahead of its nextUpdate, and give
 * a new CA a new, empty one (the broker's crlfile stays, and a CRL of the old CA would make
 * OpenSSL refuse every client of the new one). Nothing when the store never revoked anything.
 */
export type CrlWork = { action: "keep" } | { action: "none" } | { action: "sign"; reason: string; fresh: boolean; number: bigint };

/**
 * What the CRL needs, decided from the files alone (no key). A CRL of an earlier CA (after
 * --new-ca) is moved into that CA's backup folder first: it is the record of what was revoked
 * under it.
 */
export function planCrl(config: Config, now: Date): CrlWork {
  const p = storePaths(config.certDir);
  const ca = readCert(p.caCertPem, "");
  const crl = requireStoreCrl(p);
  if (ca === undefined || crl === undefined) return { action: "none" };
  if (!crlMatchesCa(crl, ca.der)) {
    archiveOldCrl(p, crl);
    // The number keeps growing across CAs: harmless, and no reader ever sees it go back.
    return { action: "sign", reason: "a new CA starts an empty list", fresh: true, number: crl.number + 1n };
  }
  const caEnd = new Date(ca.cert.validTo);
  if (crlRenewalDue(crl.nextUpdate, now, config.certDays, caEnd)) {
    const when = crl.nextUpdate <= now ? "expired" : "expires";
    return { action: "sign", reason: `it ${when} ${crl.nextUpdate.toISOString().slice(0, 10)}`, fresh: false, number: crl.number + 1n };
  }
  return { action: "keep" };
}

/** Moves an earlier CA's CRL (both files) into the backup folder of that CA, or a folder of its own. */
function archiveOldCrl(p: StorePaths, crl: ReadCrl): void {
  const folders = existsSync(p.backupDir) ? readdirSync(p.backupDir).sort().reverse() : [];
  const own = folders.find((d) => {
    const cert = path.join(p.backupDir, d, path.basename(p.caCertDer));
    return existsSync(cert) && !existsSync(path.join(p.backupDir, d, path.basename(p.crlPem))) && crlMatchesCa(crl, readFileSync(cert));
  });
  const dir = path.join(p.backupDir, own ?? `crl-${crl.number}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The DER first: the PEM left behind is what names the move to finish.
  for (const f of [p.crlDer, p.crlPem]) if (existsSync(f)) renameDurably(f, path.join(dir, path.basename(f)));
}

/** Signs the CRL `planCrl` asked for: the same entries (none for a new CA), new dates, the next number. */
export async function signPlannedCrl(config: Config, work: Extract<CrlWork, { action: "sign" }>, ca: IssuingCa, deps: IssueDeps): Promise<StoreAction> {
  const p = storePaths(config.certDir);
  const caCert = readCert(p.caCertPem, "")!;
  const previous = { revoked: requireStoreCrl(p)?.revoked ?? [], number: work.number - 1n };
  const content = await writeNextCrl(p, config, { ...ca, notAfter: new Date(caCert.cert.validTo) }, previous, { fresh: work.fresh }, deps);
  return { item: "crl", cert: CA_ID, action: work.fresh ? "created" : "reissued", reason: work.fresh ? undefined : work.reason, file: p.crlPem, notAfter: content.nextUpdate.toISOString() };
}

/** The CRL as `generate` lists it when it is kept; its DER copy brought in step (a run killed between the two). */
export function keptCrl(config: Config): StoreAction | undefined {
  const p = storePaths(config.certDir);
  const crl = requireStoreCrl(p);
  if (crl === undefined) return undefined;
  writeIfChanged(p.crlDer, new Uint8Array(crl.crl.rawData));
  return { item: "crl", cert: CA_ID, action: "kept", file: p.crlPem, notAfter: crl.nextUpdate.toISOString() };
}

/**
 * Re-signs the CRL when it is due, or starts a new one for a new CA. With `mayWait` (the
 * pre-build hook) the broker's CRL cannot stop a firmware build: when the passphrase cannot be
 * had, it says so instead.
 */
export async function maintainCrl(config: Config, ca: CertificateAuthority, mayWait: boolean, deps: IssueDeps = defaultDeps()): Promise<{ action?: StoreAction; warning?: string }> {
  const work = planCrl(config, deps.now());
  if (work.action === "none") return {};
  if (work.action === "keep") return { action: keptCrl(config) };
  let signer: CaSigner;
  try {
    signer = await ca.signer();
  } catch (err) {
    if (!mayWait || work.fresh || !(err instanceof EspCertsError)) throw err;
    return { warning: `The CRL must be re-signed (${work.reason}); once past that date Mosquitto refuses every client. Run "esp-certs generate" where it can ask for the CA passphrase.` };
  }
  return { action: await signPlannedCrl(config, work, { der: signer.cert.der, key: signer.key }, deps) };
}
