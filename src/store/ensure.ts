import { randomBytes, webcrypto } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import type { Config } from "../config/config.js";
import { removeStaleTemps } from "../fs/atomic.js";
import { keepMode, writeIfChanged } from "../fs/sync.js";
import { CertificateAuthority, type CaSigner } from "../pki/ca.js";
import { clientId, SERVER_ID, type CertId } from "../pki/identity.js";
import type { IssueDeps } from "../pki/issue.js";
import { generateKey, isEncryptedPem, type KeyMaterial } from "../pki/keys.js";
import { issueInto, leafState, leafWanted, readLeaf, type ClientLeaf, type StoredLeaf } from "./leaf.js";
import { readManifest, usedSerials, type Manifest } from "./manifest.js";
import { buildManifest, writeManifest } from "./manifest-write.js";
import { storePaths, type StorePaths } from "./paths.js";
import { passphraseGetter, weakPassphraseWarning, type PassphraseSources } from "../pki/passphrase.js";
import { planStore, type StorePlan } from "./plan.js";
import { provisionedClients } from "./inventory.js";
import { APP_ID } from "../config/app-identity.js";
import { supersede } from "./revocation-record.js";

/** A client certificate that a new key replaced, revoked (reason superseded) by this run. */
export interface Superseded {
  id: string;
  serial: string;
}

/**
 * `generate`'s work on the store (docs/store.md), in three steps: read everything on disk,
 * plan (pure, plan.ts), write. The CA passphrase is asked only if something must be
 * signed; each file is written atomically, keys before the certificates that need them,
 * the manifest last. A run killed anywhere leaves files that the next run reads and completes.
 */
export interface EnsureOptions {
  /** Make a new CA; the old one is moved to certs/backup/<timestamp>/. */
  newCa?: boolean;
  /** Clients that get a new key of client_key_type (existing keys are otherwise kept). */
  rekey?: string[];
  /** Clients whose certificate is renewed now on the key they have (docs/renewal.md). */
  renew?: string[];
  /** Store a new CA key unencrypted. */
  noCaPassphrase?: boolean;
  passphrase: PassphraseSources;
  /** Revoked clients: not issued again (docs/revocation.md); `generate` leaves out those given --rekey. */
  skip?: string[];
  /** The store's CA when this run has opened it already: it is not opened again (nor its passphrase asked again). */
  ca?: CertificateAuthority;
}

export interface StoreAction {
  /** "ca", "server", "client <id>" or "old ca": for --json readers; `cert` is the typed form. */
  item: string;
  cert: CertId;
  action: "created" | "reissued" | "kept" | "moved" | "revoked";
  reason?: string;
  file: string;
  notAfter: string;
}

export interface StoreReport {
  actions: StoreAction[];
  warnings: string[];
  manifest: Manifest;
  /** The CA as this run opened it: what else signs in the same run (the CRL) asks no passphrase again. */
  ca: CertificateAuthority;
  /** Certificates a new key replaced, revoked as superseded in the manifest: the CRL must list them next. */
  superseded: Superseded[];
}

export function defaultDeps(): IssueDeps {
  return { crypto: webcrypto as unknown as Crypto, now: () => new Date(), randomBytes: (n) => randomBytes(n) };
}

/** Everything on disk that the plan is made from. */
interface StoreOnDisk {
  paths: StorePaths;
  manifest?: Manifest;
  ca?: CertificateAuthority;
  server: StoredLeaf;
  clients: ClientLeaf[];
}

export async function ensureStore(config: Config, opts: EnsureOptions, deps: IssueDeps = defaultDeps()): Promise<StoreReport> {
  const disk = await readStore(config, opts, deps);
  const plan = planFor(config, disk, opts, deps);
  if (plan.ca === "keep") disk.ca!.assertKeyMatches();
  const appWaits = appIdentityWaits(disk, plan, opts.passphrase);
  if (appWaits) {
    // A store from before esp-certs had its own client: it is issued when the CA key can be had,
    // not by asking for the passphrase on a run that would otherwise sign nothing.
    disk.clients = disk.clients.filter((c) => c.id.id !== APP_ID);
    const report = await writeStore(config, disk, planFor(config, disk, opts, deps), opts, deps);
    report.warnings.push(`esp-certs' own client (for push and status --live) is issued by the next "esp-certs generate" that has the CA passphrase (ESP_CERTS_CA_PASSPHRASE, --ca-passphrase-file, or a terminal).`);
    return report;
  }
  return writeStore(config, disk, plan, opts, deps);
}

/** Whether the only thing to sign is esp-certs' own new client and the CA key is locked with no passphrase at hand. */
function appIdentityWaits(disk: StoreOnDisk, plan: StorePlan, passphrase: PassphraseSources): boolean {
  if (plan.ca !== "keep" || disk.clients.find((c) => c.id.id === APP_ID)?.cert !== undefined) return false;
  const others = plan.leaves.filter((l) => l.plan.action === "issue" && !(l.id.role === "client" && l.id.id === APP_ID));
  if (others.length > 0) return false;
  const locked = existsSync(disk.paths.caKey) && isEncryptedPem(readFileSync(disk.paths.caKey, "utf8"));
  return locked && !passphrase.file && !passphrase.env && passphrase.prompt === undefined;
}

function planFor(config: Config, disk: StoreOnDisk, opts: EnsureOptions, deps: IssueDeps): StorePlan {
  return planStore(
    {
      ca: disk.ca?.cert.cert,
      caKeyPresent: existsSync(disk.paths.caKey),
      leaves: [disk.server, ...disk.clients].map((l) => ({ id: l.id, state: leafState(l), wanted: leafWanted(config, l.id, l.id.role === "client" && (opts.rekey?.includes(l.id.id) ?? false), l.id.role === "client" && (opts.renew?.includes(l.id.id) ?? false)) })),
    },
    { newCa: opts.newCa ?? false, keyType: config.keyType, caDays: config.caDays, certDays: config.certDays },
    deps.now(),
  );
}

async function readStore(config: Config, opts: EnsureOptions, deps: IssueDeps): Promise<StoreOnDisk> {
  const paths = storePaths(config.certDir);
  removeStaleTemps(paths.dir);
  removeStaleTemps(paths.clientsDir);
  const manifest = readManifest(paths.manifest);
  return {
    paths,
    manifest,
    ca: opts.ca ?? CertificateAuthority.open(paths, { passphrase: opts.passphrase, manifest, deps }),
    server: await readLeaf(paths, SERVER_ID),
    // Provisioned clients stay in the store beside the configured ones; revoked ones are skipped,
    // unless --rekey names them (a revoked provisioned client is no longer among the manifest's).
    clients: (await Promise.all([...new Set([...config.clients, ...provisionedClients(config, manifest), ...(opts.rekey ?? []), APP_ID])].filter((id) => !opts.skip?.includes(id)).map((id) => readLeaf(paths, clientId(id))))) as ClientLeaf[],
  };
}

const iso = (nodeDate: string) => new Date(nodeDate).toISOString();
const itemOf = (c: CertId) => (c.role === "client" ? `client ${c.id}` : c.role);

async function writeStore(config: Config, disk: StoreOnDisk, plan: StorePlan, opts: EnsureOptions, deps: IssueDeps): Promise<StoreReport> {
  const p = disk.paths;
  const warnings = [...plan.warnings];
  const actions: StoreAction[] = [];
  const leaves = [disk.server, ...disk.clients];
  const used = usedSerials(disk.manifest);

  // Key generation dominates a fresh run (RSA-2048: 50-250 ms each): start every new key now,
  // on the thread pool, so they are made side by side while the rest goes on.
  const newCaKey = plan.ca === "create" ? generateKey(config.keyType, deps.crypto) : undefined;
  const newKeys = new Map<StoredLeaf, Promise<KeyMaterial>>();
  plan.leaves.forEach(({ plan: lp }, i) => {
    if (lp.action === "issue" && lp.newKey) newKeys.set(leaves[i], generateKey(lp.keyType, deps.crypto));
  });
  // Unobserved until awaited below; an error thrown before then must not also be reported as unhandled.
  for (const k of [newCaKey, ...newKeys.values()]) k?.catch(() => {});

  let ca: CertificateAuthority;
  let caKeyVerified = disk.ca?.keyCheck.verdict === "matches";
  const newCa = { subject: config.subject, days: config.caDays, usedSerials: used, passphrase: opts.passphrase };
  if (plan.ca === "create") {
    const secret = opts.noCaPassphrase ? undefined : await passphraseGetter(opts.passphrase, "create")();
    const weak = secret === undefined ? undefined : weakPassphraseWarning(secret);
    if (weak !== undefined) warnings.push(weak);
    if (secret === undefined) {
      warnings.push(`The CA key ${p.caKey} is stored unencrypted (--no-ca-passphrase): anyone who can read it can issue certificates your broker and devices trust.`);
    }
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    const made = await CertificateAuthority.create(p, { ...newCa, key: newCaKey!, secret }, deps);
    if (made.backup) actions.push({ item: "old ca", cert: { role: "ca" }, action: "moved", reason: "--new-ca", file: made.backup, notAfter: "" });
    actions.push({ item: "ca", cert: { role: "ca" }, action: "created", file: p.caCertPem, notAfter: made.issued.notAfter.toISOString() });
    ({ ca } = made);
    used.add(made.issued.serial);
    caKeyVerified = true;
  } else if (plan.ca === "certify-key") {
    const made = await CertificateAuthority.certifyExistingKey(p, newCa, disk.manifest, deps);
    actions.push({ item: "ca", cert: { role: "ca" }, action: "created", reason: "from the existing CA key", file: p.caCertPem, notAfter: made.issued.notAfter.toISOString() });
    ({ ca } = made);
    used.add(made.issued.serial);
    caKeyVerified = true;
  } else {
    ca = disk.ca!;
    actions.push({ item: "ca", cert: { role: "ca" }, action: "kept", file: p.caCertPem, notAfter: iso(ca.cert.cert.validTo) });
    if (ca.keyCheck.verdict === "unknown" && !plan.mustSign) {
      warnings.push(`${p.caKey} is not the CA key file the manifest recorded (re-encrypted, or replaced): it is checked against ${p.caCertPem} the next time something is signed.`);
    }
  }
  const signer: CaSigner | undefined = plan.mustSign ? await ca.signer() : undefined;
  if (signer) caKeyVerified = true;
  writeIfChanged(p.caCertDer, ca.cert.der);

  // Private like certs/ (made with the CA): writeFileAtomic's own mkdir would follow the umask.
  mkdirSync(p.clientsDir, { recursive: true, mode: 0o700 });
  for (const [i, { plan: lp }] of plan.leaves.entries()) {
    const leaf = leaves[i];
    if (lp.action === "issue") {
      const warning = await issueInto(leaf, lp, { config, signer: signer!, used, newKey: newKeys.get(leaf) });
      if (warning) warnings.push(warning);
      const created = lp.reason === "it is new";
      actions.push({ item: itemOf(leaf.id), cert: leaf.id, action: created ? "created" : "reissued", reason: created ? undefined : lp.reason, file: leaf.files.certPem, notAfter: iso(leaf.cert!.cert.validTo) });
    } else {
      actions.push({ item: itemOf(leaf.id), cert: leaf.id, action: "kept", file: leaf.files.certPem, notAfter: iso(leaf.cert!.cert.validTo) });
    }
    writeIfChanged(leaf.files.certDer, leaf.cert!.der);
    keepMode(leaf.files.keyPem, 0o600);
    if (leaf.files.keyDer) writeIfChanged(leaf.files.keyDer, leaf.key!.export({ type: "pkcs8", format: "der" }), 0o600);
  }
  // A CA key may be kept offline between runs that sign nothing.
  if (existsSync(p.caKey)) keepMode(p.caKey, 0o600);

  let manifest = buildManifest({ config, paths: p, ca: ca.cert, caKeyVerified, server: disk.server, clients: disk.clients, previous: disk.manifest });
  const rekeyed = plan.leaves.flatMap(({ plan: lp }, i) => (lp.action === "issue" && lp.newKey && leaves[i].id.role === "client" ? [leaves[i] as ClientLeaf] : []));
  const superseded: Superseded[] = [];
  for (const leaf of rekeyed) {
    const s = supersede(manifest, leaf.id.id, leaf.cert!.cert.serialNumber, deps.now());
    manifest = s.manifest;
    superseded.push(...s.revoked.map((r) => ({ id: leaf.id.id, serial: r.serial })));
  }
  // The revocations in the same write as the new certificates: the CRL that follows lists them,
  // and a run killed between the two finds the manifest ahead of the CRL and signs it (crl-trust.ts).
  writeManifest(p.manifest, manifest);
  return { actions, warnings, manifest, ca, superseded };
}

