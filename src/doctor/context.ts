// Everything the checks look at, read once from disk. Reading never throws: a file that
// is missing or unreadable is recorded, and the checks say what it means.
import { X509Certificate, createPrivateKey, webcrypto, type KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parseAddress } from "../config/address.js";
import type { Config } from "../config/config.js";
import path from "node:path";
import { brokerDir, brokerFolderExists, staleBrokerFiles } from "../broker/broker.js";
import { BROKER_FILES } from "../broker/conf.js";
import { crlSignedBy, type ReadCrl, type Revoked } from "../pki/crl.js";
import { crlNextUpdateOf } from "../pki/crl-dates.js";
import type { ClientRevocation } from "../store/revocations.js";
import { forgotten } from "../store/revocation-record.js";
import { EspCertsError } from "../errors.js";
import { checkCaKey, type CaKeyCheck } from "../pki/ca.js";
import { CA_ID, clientId, SERVER_ID, type CertId } from "../pki/identity.js";
import type { Manifest } from "../store/manifest.js";
import { CertificateStore } from "../store/store.js";

export interface CertEntry {
  id: CertId;
  file: string;
  cert?: X509Certificate;
  /** Why `cert` is missing. */
  error?: string;
  keyFile?: string;
  key?: KeyObject;
  keyError?: string;
}

export interface DoctorContext {
  config: Config;
  /** The store every check reads, opened once for the run. */
  store: CertificateStore;
  now: Date;
  /** CA first, then the broker, then the clients in config order. */
  certs: CertEntry[];
  /** Whether ca.key.pem is the CA certificate's key (without its passphrase); undefined: no readable CA. */
  caKey?: CaKeyCheck;
  /** Why certs/manifest.json cannot be read, when it cannot. */
  manifestError?: string;
  header: { file: string; text?: string };
  /** Files of the broker folder that differ from what the store makes; undefined: no folder. */
  broker?: { dir: string; stale: string[] };
  /** Where the live check dials, and as which client. */
  probe: { address: string; port: number; client?: string };
  revocation: RevocationContext;
}

export interface RevocationContext {
  /** The store's CRL file. */
  file: string;
  crl?: ReadCrl;
  /** Why the CRL file cannot be used. */
  error?: string;
  signedByCa?: boolean;
  /** The store CRL's entries by serial. */
  revokedSerials: Map<string, Revoked>;
  /** Revocations the manifest's history records that the store's CRL leaves out (store/crl-trust.ts). */
  forgotten: Revoked[];
  /** Revoked clients, by id: they have no certificate in certs/clients/ on purpose. */
  revokedClients: Map<string, ClientRevocation>;
  /** The broker folder's CRL, when the folder is one esp-certs made and the store has a CRL. */
  broker?: { dir: string; confHasCrlfile: boolean; crlPem?: Buffer; storeCrlPem: Buffer; nextUpdate?: Date };
}

function readCert(id: CertId, file: string, keyFile?: string): CertEntry {
  const e: CertEntry = { id, file, keyFile };
  try {
    e.cert = new X509Certificate(readFileSync(file));
  } catch (err) {
    e.error = existsSync(file) ? `cannot be parsed (${(err as Error).message})` : "is missing";
  }
  if (keyFile !== undefined) {
    try {
      e.key = createPrivateKey(readFileSync(keyFile));
    } catch (err) {
      e.keyError = existsSync(keyFile) ? `cannot be read (${(err as Error).message})` : "is missing";
    }
  }
  return e;
}

export function readCerts(store: CertificateStore, revoked: ReadonlyMap<string, unknown> = new Map()): CertEntry[] {
  const { config, paths: s } = store;
  return [
    // The CA key is encrypted: its certificate is all the checks need.
    readCert(CA_ID, s.caCertPem),
    readCert(SERVER_ID, s.serverCertPem, s.serverKey),
    // A revoked client's files were moved aside on purpose: the revocation checks speak of it.
    ...config.clients.filter((id) => !revoked.has(id)).map((id) => readCert(clientId(id), s.client(id).certPem, s.client(id).keyPem)),
  ];
}

/** The manifest, or none when it cannot be read (the store check reports that). */
function manifestQuietly(store: CertificateStore): Manifest | undefined {
  try {
    return store.manifest();
  } catch {
    return undefined;
  }
}

async function readRevocation(store: CertificateStore): Promise<RevocationContext> {
  const { config, paths: p } = store;
  const { crl, error } = store.readCrl();
  const ca = existsSync(p.caCertPem) ? readFileSync(p.caCertPem) : undefined;
  let signedByCa: boolean | undefined;
  if (crl && ca) {
    try {
      signedByCa = await crlSignedBy(crl, new X509Certificate(ca).raw, webcrypto as unknown as Crypto);
    } catch {
      signedByCa = false; // an unreadable CA is the store check's to report
    }
  }
  return {
    file: p.crlPem,
    crl,
    error,
    signedByCa,
    revokedSerials: new Map((crl?.revoked ?? []).map((r) => [r.serial, r])),
    forgotten: error === undefined ? forgotten(crl?.revoked ?? [], manifestQuietly(store)) : [],
    revokedClients: error === undefined ? store.revocations(config.clients, () => crl) : new Map(),
    broker: crl && brokerFolderExists(config) ? readBrokerCrl(brokerDir(config), readFileSync(p.crlPem)) : undefined,
  };
}

function readBrokerCrl(dir: string, storeCrlPem: Buffer): RevocationContext["broker"] {
  const conf = readFileSync(path.join(dir, BROKER_FILES.conf), "utf8");
  const file = path.join(dir, BROKER_FILES.crl);
  const crlPem = existsSync(file) ? readFileSync(file) : undefined;
  return { dir, confHasCrlfile: /^crlfile\s/m.test(conf), crlPem, storeCrlPem, nextUpdate: crlPem && crlNextUpdateOf(crlPem.toString("latin1")) };
}

export async function loadContext(
  config: Config,
  opts: { brokerAddress?: string; client?: string; now?: Date; store?: CertificateStore },
): Promise<DoctorContext> {
  const { host, port } = parseAddress(opts.brokerAddress, config.mqttHost, config.mqttPort);
  const store = opts.store ?? CertificateStore.open(config);
  const revocation = await readRevocation(store);
  const certs = readCerts(store, revocation.revokedClients);
  return {
    config,
    store,
    now: opts.now ?? new Date(),
    certs,
    ...caKeyOf(store, certs[0]),
    header: { file: config.header, text: existsSync(config.header) ? readFileSync(config.header, "utf8") : undefined },
    broker: await staleBrokerFiles(config, store),
    probe: { address: host, port, client: opts.client },
    revocation,
  };
}

/** The CA key check, and the manifest it reads (whose error is a finding, not a throw). */
function caKeyOf(store: CertificateStore, ca: CertEntry): { caKey?: CaKeyCheck; manifestError?: string } {
  let manifest: Manifest | undefined;
  let manifestError: string | undefined;
  try {
    manifest = store.manifest();
  } catch (err) {
    if (!(err instanceof EspCertsError)) throw err;
    manifestError = err.why;
  }
  if (ca.cert === undefined) return { manifestError };
  return { caKey: checkCaKey(store.paths, { cert: ca.cert, der: ca.cert.raw }, manifest), manifestError };
}
