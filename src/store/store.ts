// The certificate store as one object (docs/store.md): opened once per run, it owns the store's
// paths, the manifest (through its one writer), the CRL and revocations, the CA (opened at most
// once, so its passphrase is asked at most once) and the clients as typed records. The
// certificate mechanics (keys, issuing, CRL encoding, the CA) stay in pki/.
import type { Config } from "../config/config.js";
import { CertificateAuthority } from "../pki/ca.js";
import type { ReadCrl } from "../pki/crl.js";
import { defaultDeps, ensureStore, type EnsureOptions, type StoreReport } from "./ensure.js";
import { issueClient, type IssuedClient } from "./issue-client.js";
import { storeClients } from "./inventory.js";
import type { IssueDeps } from "../pki/issue.js";
import { readManifest, type Manifest } from "./manifest.js";
import { writeManifest } from "./manifest-write.js";
import type { PassphraseSources } from "../pki/passphrase.js";
import { storePaths, type StorePaths } from "./paths.js";
import { readStoreCrl, requireStoreCrl, revokedClients, unreadableBackupCrls, type ClientRevocation, type StoreCrl } from "./revocations.js";
import { holdsStoreLock } from "./lock.js";
import { clientRecord, clientRecords, type ClientRecord, type ClientSources } from "./clients.js";

/** Reads the store's CRL for a question about revocations: refusing an unreadable one, or not. */
export type CrlSource = () => ReadCrl | undefined;

export class CertificateStore {
  private authority?: CertificateAuthority;

  private constructor(
    readonly config: Config,
    readonly paths: StorePaths,
  ) {}

  /**
   * The store of `config` for reading. A command opens it once and hands it to every step of
   * its run: the CA it opens is then the same for all of them.
   */
  static open(config: Config): CertificateStore {
    return new CertificateStore(config, storePaths(config.certDir));
  }

  /**
   * The store of `config` for writing: only the store's one writer may have it (the commands
   * that write run inside lockStore, docs/configuration.md "One run at a time").
   */
  static openForWriting(config: Config): CertificateStore {
    if (!holdsStoreLock(config.certDir)) throw new Error(`internal: the store ${config.certDir} is written without its lock`);
    return CertificateStore.open(config);
  }

  /** The manifest as it is on disk now, migrated to the current version; undefined before the first `generate`. */
  manifest(): Manifest | undefined {
    return readManifest(this.paths.manifest);
  }

  /** The manifest's one writer: atomically, and only when it changes. */
  writeManifest(manifest: Manifest): void {
    writeManifest(this.paths.manifest, manifest);
  }

  /** The store's CRL; refuses (exit 2) one that is there and unreadable, so that no revocation is dropped. */
  crl(): ReadCrl | undefined {
    return requireStoreCrl(this.paths);
  }

  /** The store's CRL, or why it cannot be used, without refusing: for the checks that report it (doctor). */
  readCrl(): StoreCrl {
    return readStoreCrl(this.paths);
  }

  /** What the store cannot vouch for without being told: an earlier CA's CRL that cannot be read. */
  warnings(): string[] {
    return unreadableBackupCrls(this.paths);
  }

  /** Every client whose current certificate is revoked, by this CA's CRL or an earlier one's. */
  revocations(ids: Iterable<string> = this.config.clients, crl: CrlSource = () => this.crl()): Map<string, ClientRevocation> {
    return revokedClients(this.paths, crl(), ids);
  }

  /** The revocation of client `id`, if it is revoked. */
  revocation(id: string): ClientRevocation | undefined {
    return this.revocations([id]).get(id);
  }

  /**
   * Every client id the store knows: configured, in the manifest, or with a certificate in
   * clients/, current or revoked (inventory.ts storeClients).
   */
  clientIds(): string[] {
    return storeClients(this.config);
  }

  /**
   * The store's CA, or undefined when it has none; opened at most once per run, so that its key
   * is unlocked (and its passphrase asked) at most once, whichever step signs first.
   */
  ca(passphrase: PassphraseSources, deps: IssueDeps = defaultDeps()): CertificateAuthority | undefined {
    this.authority ??= CertificateAuthority.open(this.paths, { passphrase, manifest: this.manifest(), deps });
    return this.authority;
  }

  /**
   * Makes what is missing (CA, broker, configured clients) and keeps what is right (store/ensure.ts),
   * with this run's CA; a CA it makes becomes this run's.
   */
  async ensure(opts: Omit<EnsureOptions, "ca">, deps: IssueDeps = defaultDeps()): Promise<StoreReport> {
    const report = await ensureStore(this.config, { ...opts, ca: this.authority }, deps);
    this.authority = report.ca;
    return report;
  }

  /** Issues one client a new key and certificate (provision), signed by this run's CA. */
  issueClient(id: string, passphrase: PassphraseSources, deps: IssueDeps = defaultDeps()): Promise<IssuedClient> {
    return issueClient(this.config, id, { passphrase, deps, ca: this.ca(passphrase, deps) });
  }

  /**
   * Every client the store knows, as typed records: configured ones first, then provisioned and
   * retired ones. `crl`: how to read the store's CRL; by default an unreadable one is refused
   * (status and doctor read past it, and report it).
   */
  clients(now = new Date(), crl: CrlSource = () => this.crl()): ClientRecord[] {
    return clientRecords(this.sources(now, crl));
  }

  client(id: string, now = new Date()): ClientRecord {
    return clientRecord(this.sources(now, () => this.crl()), id);
  }

  private sources(now: Date, crl: CrlSource): ClientSources {
    const ids = this.clientIds();
    return { config: this.config, manifest: this.manifest(), ids, revoked: this.revocations(ids, crl), now };
  }
}
