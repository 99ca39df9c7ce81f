import { mkdirSync } from "node:fs";
import { keepMode } from "../fs/sync.js";
import type { Config } from "../config/config.js";
import { checkClientIds } from "../config/validate.js";
import { refuseReservedClientId } from "../config/reserved-ids.js";
import { EspCertsError } from "../errors.js";
import { removeStaleTemps } from "../fs/atomic.js";
import { CertificateAuthority } from "../pki/ca.js";
import { defaultDeps, type StoreAction, type Superseded } from "./ensure.js";
import { supersede } from "./revocation-record.js";
import { clientId } from "../pki/identity.js";
import type { IssueDeps } from "../pki/issue.js";
import { issueInto, readLeaf, type ClientLeaf, type LeafFiles } from "./leaf.js";
import { readManifest, usedSerials } from "./manifest.js";
import { withClient, writeManifest } from "./manifest-write.js";
import { storePaths } from "./paths.js";
import type { PassphraseSources } from "../pki/passphrase.js";

export interface IssuedClient {
  action: StoreAction;
  /** Where the certificate and key went (PEM and DER each). */
  files: LeafFiles;
  warnings: string[];
  /** Earlier certificates of the id that its new key replaced, now revoked as superseded in the manifest. */
  superseded: Superseded[];
  /** The CA as opened: the CRL that must list `superseded` is signed with it, without asking again. */
  ca: CertificateAuthority;
}

/**
 * Issues one client certificate into the store with a new key of client_key_type: key
 * (PEM and DER), certificate (PEM and DER), and the manifest, where the client's previous
 * certificate, if any, is marked replaced. The store must have a CA and a manifest
 * (`esp-certs generate` made them); the CA passphrase is asked once, and not at all when
 * `opts.ca` (the run's CA) is unlocked already.
 */
export async function issueClient(config: Config, id: string, opts: { passphrase: PassphraseSources; deps?: IssueDeps; ca?: CertificateAuthority }): Promise<IssuedClient> {
  checkClientIds([id]);
  refuseReservedClientId(id, config.mqttHost);
  const deps = opts.deps ?? defaultDeps();
  const p = storePaths(config.certDir);
  removeStaleTemps(p.dir);
  removeStaleTemps(p.clientsDir);
  const manifest = readManifest(p.manifest);
  const ca = opts.ca ?? CertificateAuthority.open(p, { passphrase: opts.passphrase, manifest, deps });
  if (manifest === undefined || ca === undefined) {
    throw new EspCertsError(`Cannot issue a certificate for client "${id}"`, `${config.certDir} holds no CA yet`, 'Run "esp-certs generate" first.');
  }
  const leaf = (await readLeaf(p, clientId(id))) as ClientLeaf;
  const signer = await ca.signer();
  const used = usedSerials(manifest);
  const reason = leaf.cert ? `new ${config.clientKeyType} key` : "it is new";
  mkdirSync(p.clientsDir, { recursive: true, mode: 0o700 });
  const warning = await issueInto(leaf, { action: "issue", reason, newKey: true, keyType: config.clientKeyType }, { config, signer, used });
  keepMode(leaf.files.keyPem, 0o600);
  // A new key: every earlier certificate of the id still valid is revoked with it (revocation-record.ts).
  const next = supersede(withClient(manifest, leaf, ca.sha256), id, leaf.cert!.cert.serialNumber, deps.now());
  writeManifest(p.manifest, next.manifest);
  const created = reason === "it is new";
  return {
    action: { item: `client ${id}`, cert: leaf.id, action: created ? "created" : "reissued", reason: created ? undefined : reason, file: leaf.files.certPem, notAfter: new Date(leaf.cert!.cert.validTo).toISOString() },
    files: leaf.files,
    warnings: warning ? [warning] : [],
    superseded: next.revoked.map((r) => ({ id, serial: r.serial })),
    ca,
  };
}
