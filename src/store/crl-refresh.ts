import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { renameDurably } from "../fs/atomic.js";
import { writeIfChanged } from "../fs/sync.js";
import { crlMatchesCa, type ReadCrl, type Revoked } from "../pki/crl.js";
import { judgeStoreCrl, setAsideUntrusted, type CrlVerdict } from "./crl-trust.js";
import { readManifest } from "./manifest.js";
import { crlRenewalDue } from "../pki/crl-dates.js";
import type { CaSigner, CertificateAuthority } from "../pki/ca.js";
import { defaultDeps, type StoreAction } from "./ensure.js";
import { CA_ID } from "../pki/identity.js";
import type { IssuingCa, IssueDeps } from "../pki/issue.js";
import { storePaths, type StorePaths } from "./paths.js";
import { requireStoreCrl } from "./revocations.js";
import { readCert } from "../pki/cert-files.js";
import { writeNextCrl } from "./crl.js";

/**
 * `generate`'s care of the CRL (docs/revocation.md): re-sign it ahead of its nextUpdate, and give
 * a new CA a new, empty one (the broker's crlfile stays, and a CRL of the old CA would make
 * OpenSSL refuse every client of the new one). Nothing when the store never revoked anything.
 */
export type CrlWork =
  | { action: "keep" }
  | { action: "none" }
  /** `fresh`: a new CA's first CRL; `repair`: the store's CRL could not be trusted (crl-trust.ts). */
  | { action: "sign"; reason: string; fresh: boolean; repair?: CrlVerdict; entries: Revoked[]; number: bigint; created: boolean };

/**
 * What the CRL needs, decided without the CA key: signed on with what this run revoked
 * (`added`), rebuilt from the manifest's history when it cannot be trusted, or re-signed when
 * due. A CRL of an earlier CA (after --new-ca) is moved into that CA's backup folder first: it
 * is the record of what was revoked under it.
 */
export async function planCrl(config: Config, deps: Pick<IssueDeps, "crypto" | "now">, added: ReadonlySet<string> = new Set()): Promise<CrlWork> {
  const p = storePaths(config.certDir);
  const ca = readCert(p.caCertPem, "");
  if (ca === undefined) return { action: "none" };
  const v = await judgeStoreCrl(p, ca.der, readManifest(p.manifest), deps, added);
  switch (v.state) {
    case "none":
      return { action: "none" };
    case "earlier-ca":
      archiveOldCrl(p, v.crl);
      // The number keeps growing across CAs: harmless, and no reader ever sees it go back.
      return { action: "sign", reason: "a new CA starts its own list", fresh: true, entries: v.entries, number: v.number, created: true };
    case "extend":
      return { action: "sign", reason: "it lists the certificates a new key replaced", fresh: false, entries: v.entries, number: v.number, created: v.crl === undefined };
    case "rebuild":
      return { action: "sign", reason: `${v.problem}; rebuilt from the manifest's history`, fresh: false, repair: v, entries: v.entries, number: v.number, created: !existsSync(p.crlPem) };
    case "sound": {
      const now = deps.now();
      const caEnd = new Date(ca.cert.validTo);
      if (!crlRenewalDue(v.crl.nextUpdate, now, config.certDays, caEnd)) return { action: "keep" };
      const when = v.crl.nextUpdate <= now ? "expired" : "expires";
      return { action: "sign", reason: `it ${when} ${v.crl.nextUpdate.toISOString().slice(0, 10)}`, fresh: false, entries: v.crl.revoked, number: v.crl.number + 1n, created: false };
    }
  }
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
  // The entries are complete (planCrl merged the manifest's history in): nothing to add.
  if (work.repair) setAsideUntrusted(p, work.repair);
  const content = await writeNextCrl(p, config, { ...ca, notAfter: new Date(caCert.cert.validTo) }, { revoked: work.entries, number: work.number - 1n }, {}, deps);
  return { item: "crl", cert: CA_ID, action: work.created ? "created" : "reissued", reason: work.fresh ? undefined : work.reason, file: p.crlPem, notAfter: content.nextUpdate.toISOString() };
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
export async function maintainCrl(
  config: Config,
  ca: CertificateAuthority,
  mayWait: boolean,
  deps: IssueDeps = defaultDeps(),
  added: ReadonlySet<string> = new Set(),
): Promise<{ action?: StoreAction; warning?: string }> {
  const work = await planCrl(config, deps, added);
  if (work.action === "none") return {};
  if (work.action === "keep") return { action: keptCrl(config) };
  let signer: CaSigner;
  try {
    signer = await ca.signer();
  } catch (err) {
    if (!mayWait || work.fresh || !(err instanceof EspCertsError)) throw err;
    if (work.repair || added.size > 0) {
      return { warning: `The CRL must be signed again (${work.reason}); until then the broker folder keeps its CRL. Run "esp-certs generate" where it can ask for the CA passphrase.` };
    }
    return { warning: `The CRL must be re-signed (${work.reason}); once past that date Mosquitto refuses every client. Run "esp-certs generate" where it can ask for the CA passphrase.` };
  }
  return { action: await signPlannedCrl(config, work, { der: signer.cert.der, key: signer.key }, deps) };
}
