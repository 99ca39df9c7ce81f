import { requireConfiguredClient } from "../config/clients.js";
import { clientForEnv, NO_CLIENT, type Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { tightenStoreModes } from "../store/modes.js";
import { maintainCrl } from "../store/crl-refresh.js";
import { CertificateStore } from "../store/store.js";
import type { StoreAction } from "../store/ensure.js";
import { reissueCommand } from "../store/inventory.js";
import { checkRenewIds } from "../store/renewal.js";
import { APP_ID } from "../config/app-identity.js";
import { SUBJECT_CHANGED, subjectChanges } from "../store/plan.js";
import { revokedHeaderError, revokedWhen, revokedIdsFor, revokedAction, supersededAction, supersededAdvice } from "../store/revocations.js";
import { readCert } from "../pki/cert-files.js";
import { passphraseSources } from "../pki/passphrase.js";
import { syncBrokerFolder, type BrokerSync } from "../broker/broker.js";
import { checkHeaderTarget, writeHeader, type HeaderResult } from "../render/header.js";
import { ignoreInGit, STORE_COMMENT } from "../fs/gitignore.js";
import type { LibrarySync } from "../platformio/library.js";
import type { LayoutChoice } from "../platformio/layout-setting.js";

/** After a CA was replaced: what every board and every record written before now needs. */
function newCaAdvice(actions: StoreAction[]): string[] {
  if (!actions.some((a) => a.item === "old ca")) return [];
  return [
    "A new CA: every board still trusts the old one and is shut out until it is reflashed (esp-certs flash --port P) or, for a fleet image, provisioned again (esp-certs provision --port P --client ID). Credential records written before (provision --out files) are useless now. Restart the broker so that it loads the new CA.",
  ];
}

/**
 * `esp-certs generate`: the store (docs/store.md), then the header for one client, then the
 * broker folder when the project has one. Each step keeps what is already right.
 */
export interface GenerateOptions {
  /** The client whose certificate goes into the header. Default: the first environment's. */
  client?: string;
  newCa?: boolean;
  rekey?: string[];
  /** Clients renewed now on their own keys (docs/renewal.md). */
  renew?: string[];
  /** May ask for the CA passphrase on the terminal. */
  interactive: boolean;
  caPassphraseFile?: string;
  noCaPassphrase?: boolean;
  /** A passphrase already settled (init asks before it writes anything). */
  caPassphrase?: string;
  /** The pre-build hook: a CRL due for re-signing warns rather than stops when no passphrase can be had. */
  crlMayWait?: boolean;
}

export interface GenerateReport {
  actions: StoreAction[];
  header: HeaderResult & { client: string; /** Why the header was left: its client is revoked. */ revoked?: string };
  /**
   * The broker folder, when the project has one (docs/commands.md: generate keeps it in step);
   * reloaded when a new key superseded a certificate in this run, as `revoke` does.
   */
  broker?: BrokerSync;
  /** The device library in the project's lib/ (platformio/library.ts), when the command brought it in step. */
  library?: LibrarySync;
  /** `init`: the environments it gave esp-certs' flash layout, and the linker scripts it wrote (docs/flash-layout.md). */
  layouts?: { chosen: LayoutChoice[]; written: string[] };
  /** The .gitignore that now ignores the store (made in a git work tree nothing prepared), when it had to change. */
  storeGitignore?: string;
  warnings: string[];
}

export async function generate(config: Config, opts: GenerateOptions): Promise<GenerateReport> {
  const client = opts.client ?? clientForEnv(config);
  if (client !== NO_CLIENT) {
    requireConfiguredClient(config.clients, client, `Cannot make a header for client "${client}"`, `Add it to clients in [esp_certs], or pass --client ${config.clients[0]}.`);
  }
  // A provisioned client is rekeyed as a configured one (its board then needs provision to get it).
  const certStore = CertificateStore.openForWriting(config);
  const known = certStore.clientIds();
  for (const id of opts.rekey ?? []) {
    if (!known.includes(id)) {
      throw new EspCertsError(`Cannot rekey "${id}"`, `the store has no client "${id}" (clients: ${known.join(", ")})`, 'Name one of those; "esp-certs status" lists every client.');
    }
  }
  const passphrase = opts.caPassphrase !== undefined ? { env: opts.caPassphrase } : passphraseSources(opts);
  checkRenewIds(opts.renew ?? [], opts.rekey ?? [], [...new Set([...known, APP_ID])]);
  const revoked = revokedIdsFor(config, opts.rekey ?? []);
  const revokedRenewal = (opts.renew ?? []).find((id) => revoked.has(id));
  if (revokedRenewal !== undefined) {
    throw new EspCertsError(`Cannot renew "${revokedRenewal}"`, "it is revoked, and a renewal keeps its key", `Bring it back with a new key: ${reissueCommand(config, revokedRenewal)}.`);
  }
  const headerRevoked = revoked.get(client);
  if (headerRevoked !== undefined && opts.client !== undefined) throw revokedHeaderError(headerRevoked);
  // The header's path first: a wrong one must stop the run before the store is written.
  checkHeaderTarget(config);
  const store = await certStore.ensure({ newCa: opts.newCa, rekey: opts.rekey, renew: opts.renew, noCaPassphrase: opts.noCaPassphrase, passphrase, skip: [...revoked.keys()] });
  // Found looser (a copy, an unzip, a umask of 000): the store's folders are the owner's alone.
  const p = certStore.paths;
  tightenStoreModes(p);
  // A store made in a plain git project (no init, which ignores it): its keys stay out of git too.
  const storeGitignore = store.actions.some((a) => a.action === "created") ? ignoreInGit(p.dir, config.projectDir, { folder: true, comment: STORE_COMMENT }) : undefined;
  const warnings = [...config.warnings, ...store.warnings, ...certStore.warnings(), ...subjectAdvice(store.actions, p.caCertPem, config), ...newCaAdvice(store.actions)];
  const actions = [...store.actions, ...[...revoked.values()].map((r) => revokedAction(config, r)), ...store.superseded.map((s) => supersededAction(config, s))];
  warnings.push(...store.superseded.map((s) => supersededAdvice(config, s)));
  const crl = await maintainCrl(config, store.ca, opts.crlMayWait === true, undefined, new Set(store.superseded.map((s) => s.serial)));
  if (crl.action) actions.push(crl.action);
  if (crl.warning) warnings.push(crl.warning);
  let header: GenerateReport["header"];
  if (headerRevoked === undefined) {
    header = { ...(await writeHeader(config, client)), client };
  } else {
    warnings.push(`The header was left as it is: ${revokedHeaderError(headerRevoked).why}. Bring it back with "esp-certs generate --rekey ${client}", or build for another client.`);
    header = { path: config.header, changed: false, client, revoked: revokedWhen(headerRevoked) };
  }
  const replaced = [...new Set(store.superseded.map((s) => s.id))];
  const broker = await syncBrokerFolder(certStore, { revoked: replaced.length > 0, replaced });
  return { actions, header, broker, warnings, ...(storeGitignore !== undefined ? { storeGitignore } : {}) };
}

/**
 * After a change of organization, country, state or locality the leaves were re-issued
 * (plan.ts): say so, and that the CA keeps its subject until a new CA is made, which needs
 * every device reflashed, and so is never done for a name alone.
 */
function subjectAdvice(actions: StoreAction[], caCertPem: string, config: Config): string[] {
  const reissued = actions.filter((a) => a.reason === SUBJECT_CHANGED).map((a) => (a.item === "server" ? "the broker certificate" : a.item));
  if (reissued.length === 0) return [];
  const ca = readCert(caCertPem, "")!;
  const changes = subjectChanges(ca.cert, config.subject);
  const lines = [`Re-issued ${reissued.join(", ")} with the new subject; reflash the devices to give them theirs (their old certificates stay valid meanwhile).`];
  if (changes.length > 0) {
    lines.push(`The CA keeps its subject (${changes.join(", ")}): only a new CA takes the new one, "esp-certs generate --new-ca", and then every device must be reflashed.`);
  }
  return lines;
}

