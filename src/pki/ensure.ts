import { createPrivateKey, randomBytes, webcrypto, type KeyObject, type X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import type { Config, KeyType } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { removeStaleTemps, writeIfChanged } from "../fs/atomic.js";
import type { IssueDeps, Issued } from "./issue.js";
import { generateKey, keyMaterialFrom, keyTypeOf, pkcs8Pem, samePublicKey, type KeyMaterial } from "./keys.js";
import { manifestConfig, readManifest, type IssuedCert, type Manifest } from "./manifest.js";
import { storePaths, type StorePaths } from "./paths.js";
import { passphraseGetter, type PassphraseSources } from "./passphrase.js";
import { BACKDATE_MS, planLeaf, RENEW_WITHIN_DAYS, type LeafPlan } from "./plan.js";
import { readCert, readKey, sha256Hex, writeCert, writeKey, type StoredCert } from "./store.js";

/**
 * `generate`'s work on the store (docs/store.md): decide everything first from what is on disk,
 * ask for the CA passphrase only if something must be signed, then write, each file
 * atomically, keys before the certificates that need them, the manifest last. A run
 * killed anywhere leaves files that the next run reads and completes.
 */
export interface EnsureOptions {
  /** Make a new CA; the old one is moved to certs/backup/<timestamp>/. */
  newCa?: boolean;
  /** Clients that get a new key of client_key_type (existing keys are otherwise kept). */
  rekey?: string[];
  /** Store a new CA key unencrypted. */
  noCaPassphrase?: boolean;
  passphrase: PassphraseSources;
}

export interface StoreAction {
  /** "ca", "server" or "client <id>". */
  item: string;
  action: "created" | "reissued" | "kept" | "moved";
  reason?: string;
  file: string;
  notAfter: string;
}

export interface StoreReport {
  actions: StoreAction[];
  warnings: string[];
  manifest: Manifest;
}

export function defaultDeps(): IssueDeps {
  return { crypto: webcrypto as unknown as Crypto, now: () => new Date(), randomBytes: (n) => randomBytes(n) };
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_FIX =
  "esp-certs never replaces a CA by itself: restore the file from your backup, or run \"esp-certs generate --new-ca\" (the old CA is kept in certs/backup/) and reflash every device.";
const leafFix = (file: string) => `Move ${file} away and run "esp-certs generate" to issue it again.`;

interface Leaf {
  item: string;
  certPem: string;
  certDer: string;
  keyPem: string;
  /** Clients also keep their key as DER, for the firmware header. */
  keyDer?: string;
  cert?: StoredCert;
  key?: KeyObject;
  plan: LeafPlan;
}

export async function ensureStore(config: Config, opts: EnsureOptions, deps: IssueDeps = defaultDeps()): Promise<StoreReport> {
  const p = storePaths(config.certDir);
  const now = deps.now();
  const warnings: string[] = [];
  const actions: StoreAction[] = [];
  const previous = readManifest(p.manifest);
  const used = new Set(previous?.serials ?? []);
  removeStaleTemps(p.dir);
  removeStaleTemps(p.clientsDir);

  // ---- read and decide ----
  const newCaSecret = passphraseGetter(opts.passphrase, "create");
  if (opts.newCa && (existsSync(p.caCertPem) || existsSync(p.caKey))) {
    // The new CA's passphrase first: a run that cannot make the new CA leaves the old one in place.
    if (!opts.noCaPassphrase) await newCaSecret();
    moveCaToBackup(p, now, actions);
  }
  let ca = readCert(p.caCertPem, CA_FIX);
  const caKeyPresent = existsSync(p.caKey);
  if (ca) checkCaValidity(ca.cert, now, warnings);
  if (ca && ca.cert.publicKey.asymmetricKeyType !== (config.keyType === "rsa2048" ? "rsa" : "ec")) {
    warnings.push(`The CA has a ${ca.cert.publicKey.asymmetricKeyType?.toUpperCase()} key; key_type ${config.keyType} applies to a new CA (esp-certs generate --new-ca).`);
  }
  const issuedByCa = (cert: X509Certificate) => ca !== undefined && cert.checkIssued(ca.cert) && cert.verify(ca.cert.publicKey);

  const leaves: Leaf[] = [];
  // A new CA re-issues every leaf anyway (issuedByCa is false), whatever this says.
  const renewal = { certDays: config.certDays, caNotAfter: ca ? new Date(ca.cert.validTo) : new Date(now.getTime() + config.caDays * DAY_MS) };
  const server = await readLeaf("server", p.serverCertPem, p.serverCertDer, p.serverKey);
  // The broker follows key_type; its key is not worth keeping across a change.
  server.plan = planLeaf(leafState(server), { commonName: config.mqttHost, subject: config.subject, dns: serverDns(config), ips: config.serverIps, keyType: config.keyType, rekey: false, followKeyType: true, renewal }, issuedByCa, now);
  leaves.push(server);
  for (const id of config.clients) {
    const c = p.client(id);
    const leaf = await readLeaf(`client ${id}`, c.certPem, c.certDer, c.keyPem, c.keyDer);
    leaf.plan = planLeaf(leafState(leaf), { commonName: id, subject: config.subject, keyType: config.clientKeyType, rekey: opts.rekey?.includes(id) ?? false, followKeyType: false, renewal }, issuedByCa, now);
    leaves.push(leaf);
  }

  // Key generation dominates a fresh run (RSA-2048: 50-250 ms each): start every new key now,
  // on the thread pool, so they are made side by side while the rest goes on.
  const newCaKey = ca === undefined && !caKeyPresent ? generateKey(config.keyType, deps.crypto) : undefined;
  const newKeys = new Map<Leaf, Promise<KeyMaterial>>();
  for (const l of leaves) if (l.plan.action === "issue" && l.plan.newKey) newKeys.set(l, generateKey(l.plan.keyType, deps.crypto));
  // Unobserved until awaited below; an error thrown before then must not also be reported as unhandled.
  for (const k of [newCaKey, ...newKeys.values()]) k?.catch(() => {});

  // ---- the CA key, only when something must be signed ----
  const mustSign = ca === undefined || leaves.some((l) => l.plan.action === "issue");
  // The X.509 engine is loaded only to sign (a no-op run never pays for it), while keys are made.
  const issuing = mustSign ? import("./issue.js") : undefined;
  let caKey: KeyMaterial | undefined;
  if (ca === undefined) {
    ({ ca, key: caKey } = await makeCa(config, opts, p, newCaKey, newCaSecret, used, deps, actions, warnings, await issuing!));
  } else {
    if (mustSign) caKey = await unlockCaKey(p, ca, opts.passphrase, deps);
    actions.push({ item: "ca", action: "kept", file: p.caCertPem, notAfter: iso(ca.cert.validTo) });
  }
  const caCert = ca;
  writeIfChanged(p.caCertDer, caCert.der);

  // ---- leaves ----
  // Private like certs/ (made with the CA): writeFileAtomic's own mkdir would follow the umask.
  mkdirSync(p.clientsDir, { recursive: true, mode: 0o700 });
  for (const leaf of leaves) {
    if (leaf.plan.action === "issue") {
      await issueInto(leaf, newKeys.get(leaf), config, caCert, caKey!, used, deps, warnings, await issuing!);
      actions.push({
        item: leaf.item,
        action: leaf.plan.reason === "it is new" ? "created" : "reissued",
        reason: leaf.plan.reason === "it is new" ? undefined : leaf.plan.reason,
        file: leaf.certPem,
        notAfter: iso(leaf.cert!.cert.validTo),
      });
    } else {
      actions.push({ item: leaf.item, action: "kept", file: leaf.certPem, notAfter: iso(leaf.cert!.cert.validTo) });
    }
    writeIfChanged(leaf.certDer, leaf.cert!.der);
    chmodSync(leaf.keyPem, 0o600);
    if (leaf.keyDer) writeIfChanged(leaf.keyDer, leaf.key!.export({ type: "pkcs8", format: "der" }), 0o600);
  }
  // A CA key may be kept offline between runs that sign nothing.
  if (existsSync(p.caKey)) chmodSync(p.caKey, 0o600);

  const manifest = buildManifest(config, p, caCert, leaves, used, previous);
  writeIfChanged(p.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return { actions, warnings, manifest };
}

async function readLeaf(item: string, certPem: string, certDer: string, keyPem: string, keyDer?: string): Promise<Leaf> {
  return {
    item,
    certPem,
    certDer,
    keyPem,
    keyDer,
    cert: readCert(certPem, leafFix(certPem)),
    key: await readKey(keyPem, leafFix(keyPem)),
    plan: { action: "keep" },
  };
}

function leafState(leaf: Leaf) {
  return {
    cert: leaf.cert?.cert,
    keyType: leaf.key ? keyTypeOf(leaf.key) : undefined,
    keyUnsupported: leaf.key !== undefined && keyTypeOf(leaf.key) === undefined,
    keyMatches: leaf.cert !== undefined && leaf.key !== undefined && samePublicKey(leaf.key, leaf.cert.cert.publicKey),
  };
}

function checkCaValidity(cert: X509Certificate, now: Date, warnings: string[]): void {
  const left = new Date(cert.validTo).getTime() - now.getTime();
  if (left <= 0) {
    throw new EspCertsError("Cannot use the CA", `it expired on ${cert.validTo}`, 'Run "esp-certs generate --new-ca" and reflash every device.');
  }
  if (left < RENEW_WITHIN_DAYS * DAY_MS) {
    warnings.push(`The CA expires on ${cert.validTo}: run "esp-certs generate --new-ca" soon, then reflash every device.`);
  }
}

/** Moves the CA's files into certs/backup/<timestamp>/: a CA is never deleted. */
function moveCaToBackup(p: StorePaths, now: Date, actions: StoreAction[]): void {
  mkdirSync(p.backupDir, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  // A folder of its own for each CA: a rename onto an earlier backup's file would replace it.
  let dir = path.join(p.backupDir, stamp);
  for (let n = 2; !makeDir(dir); n++) dir = path.join(p.backupDir, `${stamp}-${n}`);
  for (const file of [p.caCertPem, p.caCertDer, p.caKey]) {
    if (existsSync(file)) renameSync(file, path.join(dir, path.basename(file)));
  }
  actions.push({ item: "old ca", action: "moved", reason: "--new-ca", file: dir, notAfter: "" });
}

/** Creates `dir`; false when it is there already. */
function makeDir(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/** A new CA, or (after an interrupted first run) the certificate for a CA key already there. */
async function makeCa(
  config: Config,
  opts: EnsureOptions,
  p: StorePaths,
  /** A key being made; undefined when a CA key is already there (an interrupted first run). */
  newKey: Promise<KeyMaterial> | undefined,
  newSecret: () => Promise<string>,
  used: Set<string>,
  deps: IssueDeps,
  actions: StoreAction[],
  warnings: string[],
  { issueCa }: typeof import("./issue.js"),
): Promise<{ ca: StoredCert; key: KeyMaterial }> {
  const keyPresent = newKey === undefined;
  let key: KeyMaterial;
  if (newKey === undefined) {
    key = await keyMaterialFrom((await readKey(p.caKey, CA_FIX, passphraseGetter(opts.passphrase, "unlock")))!, deps.crypto, p.caKey);
  } else {
    key = await newKey;
    const secret = opts.noCaPassphrase ? undefined : await newSecret();
    if (secret === undefined) {
      warnings.push(`The CA key ${p.caKey} is stored unencrypted (--no-ca-passphrase): anyone who can read it can issue certificates your broker and devices trust.`);
    }
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    writeKey(p.caKey, pkcs8Pem(key.pkcs8, secret));
  }
  const issued = await issueCa({ subject: config.subject, days: config.caDays, key, usedSerials: used }, deps);
  used.add(issued.serial);
  writeCert(p.caCertPem, p.caCertDer, issued);
  actions.push({ item: "ca", action: "created", reason: keyPresent ? "from the existing CA key" : undefined, file: p.caCertPem, notAfter: issued.notAfter.toISOString() });
  return { ca: readCert(p.caCertPem, CA_FIX)!, key };
}

async function unlockCaKey(p: StorePaths, ca: StoredCert, passphrase: PassphraseSources, deps: IssueDeps): Promise<KeyMaterial> {
  const stored = await readKey(p.caKey, CA_FIX, passphraseGetter(passphrase, "unlock"));
  if (stored === undefined) {
    throw new EspCertsError("Cannot sign certificates", `the CA key ${p.caKey} is missing`, CA_FIX);
  }
  if (!samePublicKey(stored, ca.cert.publicKey)) {
    throw new EspCertsError("Cannot use the CA key", `${p.caKey} is not the key of ${p.caCertPem}`, CA_FIX);
  }
  return keyMaterialFrom(stored, deps.crypto, p.caKey);
}

const iso = (nodeDate: string) => new Date(nodeDate).toISOString();

async function issueInto(
  leaf: Leaf,
  newKey: Promise<KeyMaterial> | undefined,
  config: Config,
  ca: StoredCert,
  caKey: KeyMaterial,
  used: Set<string>,
  deps: IssueDeps,
  warnings: string[],
  { issueLeaf }: typeof import("./issue.js"),
): Promise<void> {
  const key = newKey ? await newKey : await keyMaterialFrom(leaf.key!, deps.crypto, leaf.keyPem);
  if (newKey) {
    if (leaf.keyDer) writeKey(leaf.keyDer, key.pkcs8);
    writeKey(leaf.keyPem, pkcs8Pem(key.pkcs8));
    leaf.key = createPrivateKey({ key: key.pkcs8, format: "der", type: "pkcs8" });
  }
  const isServer = leaf.item === "server";
  const days = config.certDays;
  const issued: Issued = await issueLeaf(
    {
      role: isServer ? "server" : "client",
      subject: config.subject,
      commonName: isServer ? config.mqttHost : leaf.item.slice("client ".length),
      dns: isServer ? serverDns(config) : undefined,
      ips: isServer ? config.serverIps : undefined,
      days,
      publicKey: key.publicKey,
      keyType: key.type,
      usedSerials: used,
    },
    { der: ca.der, key: caKey },
    deps,
  );
  used.add(issued.serial);
  if (issued.clampedToCa) {
    warnings.push(
      `${leaf.item === "server" ? "The broker certificate" : `The ${leaf.item} certificate`} ends with the CA on ${issued.notAfter.toISOString().slice(0, 10)}, before cert_days (${days}): renew the CA with "esp-certs generate --new-ca".`,
    );
  }
  writeCert(leaf.certPem, leaf.certDer, issued);
  leaf.cert = readCert(leaf.certPem, leafFix(leaf.certPem));
}

/** The broker's DNS names: the device's host first (an IP host goes in as an IP SAN). */
export function serverDns(config: Config): string[] {
  return config.serverIps.includes(config.mqttHost) ? config.serverNames : [config.mqttHost, ...config.serverNames];
}

/** `keySha256` is the one given when the key file is away (a CA key kept offline). */
function entry(stored: StoredCert, keyType: KeyType, keyFile: string, keySha256 = ""): IssuedCert {
  const notBefore = new Date(stored.cert.validFrom);
  return {
    serial: stored.cert.serialNumber.toLowerCase(),
    sha256: sha256Hex(stored.der),
    notBefore: notBefore.toISOString(),
    notAfter: new Date(stored.cert.validTo).toISOString(),
    keyType,
    issuedAt: Math.floor((notBefore.getTime() + BACKDATE_MS) / 1000),
    keySha256: existsSync(keyFile) ? sha256Hex(readFileSync(keyFile)) : keySha256,
  };
}

function buildManifest(config: Config, p: StorePaths, ca: StoredCert, leaves: Leaf[], used: Set<string>, previous?: Manifest): Manifest {
  const caSha256 = sha256Hex(ca.der);
  const typeOf = (l: Leaf) => keyTypeOf(l.key!)!;
  const [server, ...clients] = leaves;
  for (const l of leaves) used.add(l.cert!.cert.serialNumber.toLowerCase());
  used.add(ca.cert.serialNumber.toLowerCase());
  return {
    version: 1,
    config: manifestConfig(config),
    ca: { ...entry(ca, keyTypeOf(ca.cert.publicKey) ?? config.keyType, p.caKey, previous?.ca.keySha256), subject: ca.cert.subject.replace(/\n/g, ", ") },
    server: { ...entry(server.cert!, typeOf(server), server.keyPem), dns: serverDns(config), ips: config.serverIps, caSha256 },
    clients: Object.fromEntries(clients.map((l) => [l.item.slice("client ".length), { ...entry(l.cert!, typeOf(l), l.keyPem), caSha256, keyDerSha256: sha256Hex(readFileSync(l.keyDer!)) }])),
    serials: [...used].sort(),
  };
}
