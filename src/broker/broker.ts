// The folder Mosquitto runs from (docs/commands.md, `broker`), kept in step with the store: the
// `broker` command writes it (command.ts); `generate` and the pre-build hook call writeBrokerFolder
// again whenever a folder it made exists, and `doctor` compares it with the store.
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, unlinkSync } from "node:fs";
import { userInfo } from "node:os";
import path from "node:path";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { ensurePrivateDir } from "../fs/atomic.js";
import { checkOutputDir, DEFAULT_BROKER_DIR } from "../fs/output.js";
import { readNamed } from "../fs/read.js";
import { BROKER_COMMENT, ignoreInGit } from "../fs/gitignore.js";
import { judgeStoreCrl } from "../store/crl-trust.js";
import { defaultDeps } from "../store/ensure.js";
import { CertificateStore } from "../store/store.js";
import {
  BROKER_FILES,
  dockerRunLine,
  isGenerated,
  pathsModeOf,
  planBrokerFolder,
  type PathsMode,
  type StoreMaterial,
} from "./conf.js";
import { fileIsCurrent, sameBytes, syncFile } from "../fs/sync.js";
import { accessClients } from "./access.js";
import { reloadBroker, reloadCommand, restartCommand, type ReloadOutcome } from "./reload.js";
import { shellWord } from "../ui.js";

export { DEFAULT_BROKER_DIR };

export interface BrokerOptions {
  /** Default `<project>/broker`. */
  out?: string;
  /** Default: the mode the folder was made with, else "docker". */
  paths?: PathsMode;
  /** The run's store, when the command has it open; default: the store of `config`. */
  store?: CertificateStore;
}

export interface BrokerResult {
  dir: string;
  mode: PathsMode;
  /** Whether the folder had no mosquitto.conf before. */
  created: boolean;
  /** Paths relative to `dir` that were written, re-moded or removed. */
  changed: string[];
  /** Whether a folder made before access rules existed got its acl now (some of it needs a restart). */
  addedAccessRules?: boolean;
  /** Why the store's CRL was not copied (the folder keeps its own): it does not verify, or forgets a revocation. */
  crlKept?: string;
  /** The .gitignore that now ignores the new folder (made in a git work tree nothing prepared), when it had to change. */
  gitignore?: string;
}

/** A sync of the project's broker folder, and what was done about the broker that runs from it. */
export interface BrokerSync extends BrokerResult {
  port: number;
  /** Sent after a run that revoked: the revocation applies now, not at the broker's next restart. */
  reload?: ReloadOutcome;
  /** Ids whose earlier certificate a new key replaced in this run (the new one has the same CN). */
  replaced?: string[];
}

/**
 * Brings the project's broker folder, when it has one, in step with the store. After a run that
 * revoked a certificate (`revoke`; a new key that supersedes one: `generate --rekey`, `provision`)
 * it also reloads the broker that runs from the folder, so that a running broker refuses the
 * certificate now (docs/access.md).
 */
export async function syncBrokerFolder(store: CertificateStore, after: { revoked: boolean; replaced?: string[] }): Promise<BrokerSync | undefined> {
  const { config } = store;
  if (!brokerFolderExists(config)) return undefined;
  const r = await writeBrokerFolder(config, { store });
  const reload = after.revoked && r.changed.length > 0 ? reloadBroker(r.dir, r.mode) : undefined;
  const replaced = after.replaced && after.replaced.length > 0 ? after.replaced : undefined;
  return { ...r, port: config.mqttPort, reload, replaced };
}

export function brokerDir(config: Config, out?: string): string {
  return path.resolve(config.projectDir, out ?? DEFAULT_BROKER_DIR);
}

/** The text of the folder's mosquitto.conf when esp-certs wrote it; undefined when absent or the user's own. */
function generatedConf(dir: string): string | undefined {
  const file = path.join(dir, BROKER_FILES.conf);
  if (!existsSync(file)) return undefined;
  const text = readNamed(file, "utf8");
  return isGenerated(text) ? text : undefined;
}

/**
 * Whether the project has a broker folder that esp-certs made, and so keeps in step. A
 * folder holding the user's own mosquitto.conf is theirs: `generate` (and the pre-build
 * hook) must not stop on it.
 */
export function brokerFolderExists(config: Config, out?: string): boolean {
  return generatedConf(brokerDir(config, out)) !== undefined;
}

/** The container user: this one, so the 0600 key stays readable and the folder stays ours. */
export function containerUser(): string | undefined {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  // root (or Windows) keeps the image's own user handling.
  return uid === undefined || gid === undefined || uid === 0 ? undefined : `${uid}:${gid}`;
}

/** The user a local mosquitto started as root switches to: this one, the owner of the 0600 key. */
export function localUser(): string | undefined {
  // Windows' mosquitto never switches users.
  if (process.platform === "win32") return undefined;
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (a container's): there is no name to give.
    return undefined;
  }
}

/** The broker's files as the store holds them; throws (exit 2) when the store lacks them. */
export function readStoreMaterial(store: CertificateStore): StoreMaterial {
  const { config, paths: s } = store;
  const missing = [s.caCertPem, s.serverCertPem, s.serverKey].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new EspCertsError(
      "Cannot write the broker folder",
      `the certificate store has no ${missing.map((f) => path.relative(config.projectDir, f)).join(", ")}`,
      'Run "esp-certs generate" first.',
    );
  }
  return {
    caCertPem: readFileSync(s.caCertPem),
    serverCertPem: readFileSync(s.serverCertPem),
    serverKeyPem: readFileSync(s.serverKey),
    crlPem: existsSync(s.crlPem) ? readFileSync(s.crlPem) : undefined,
    access: accessClients(store),
  };
}

export async function writeBrokerFolder(config: Config, opts: BrokerOptions = {}): Promise<BrokerResult> {
  const dir = brokerDir(config, opts.out);
  checkOutputDir(dir, { what: "the broker folder", setting: "--out", reserved: [{ dir: config.certDir, name: "the certificate store" }] });
  const confPath = path.join(dir, BROKER_FILES.conf);
  const existing = existsSync(confPath) ? readNamed(confPath, "utf8") : undefined;
  if (existing !== undefined && !isGenerated(existing)) {
    throw new EspCertsError(
      `Cannot write ${confPath}`,
      "a mosquitto.conf that esp-certs did not write is there, and it would be replaced",
      "Move it away, or give another folder with --out.",
    );
  }
  const mode = opts.paths ?? (existing !== undefined ? pathsModeOf(existing) : undefined) ?? "docker";
  const store = opts.store ?? CertificateStore.open(config);
  const gated = await gateCrl(store, dir, readStoreMaterial(store));
  const files = await planFolder(config, dir, mode, gated.store);
  if (existing === undefined) {
    // Not a folder esp-certs made: its files are someone else's, unless a run of ours was stopped before its mosquitto.conf.
    const foreign = files.find((f) => existsSync(f.path) && !sameBytes(f));
    if (foreign !== undefined) {
      throw new EspCertsError(`Cannot write ${foreign.path}`, "a file that esp-certs did not write is there, and it would be replaced", "Move it away, or give another folder with --out.");
    }
  }

  const changed: string[] = [];
  const addedAccessRules = existing !== undefined && !existsSync(path.join(dir, BROKER_FILES.acl));
  try {
    // The folder is Mosquitto's, read by this user (or a container run as it); certs/ holds the broker's key.
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    ensurePrivateDir(path.join(dir, "certs"));
    for (const f of files) if (syncFile(f)) changed.push(path.relative(dir, f.path).split(path.sep).join("/"));
    // Made here, not by Docker (which would make them root's) nor missing (local mosquitto
    // cannot open its log then).
    for (const sub of ["data", "log"]) mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o755 });
    const compose = path.join(dir, BROKER_FILES.compose);
    if (mode === "local" && existsSync(compose) && isGenerated(readFileSync(compose, "utf8"))) {
      unlinkSync(compose);
      changed.push(BROKER_FILES.compose);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw err;
    throw new EspCertsError(
      `Cannot write ${dir}`,
      "permission denied: a container started without --user may have given the folder to its own user (uid 1883)",
      `Take it back, then run this again: sudo chown -R $(id -u):$(id -g) ${shellWord(dir)}`,
    );
  }
  // A folder made in a plain git project (no init, which ignores it): the broker's key stays out of git.
  const gitignore = existing === undefined ? ignoreInGit(dir, config.projectDir, { folder: true, comment: BROKER_COMMENT }) : undefined;
  return { dir, mode, created: existing === undefined, changed, addedAccessRules, crlKept: gated.kept, ...(gitignore !== undefined ? { gitignore } : {}) };
}

/**
 * The store's CRL goes to the broker only when it verifies with the CA and lists every
 * revocation the manifest records (store/crl-trust.ts): one that does not would, after a restart,
 * let a revoked device in again or shut every client out. The folder then keeps its own CRL;
 * without one, nothing is written.
 */
async function gateCrl(certs: CertificateStore, dir: string, store: StoreMaterial): Promise<{ store: StoreMaterial; kept?: string }> {
  if (store.crlPem === undefined) return { store };
  const p = certs.paths;
  const verdict = await judgeStoreCrl(p, new X509Certificate(store.caCertPem).raw, certs.manifest(), defaultDeps());
  if (verdict.state === "sound") return { store };
  const problem = verdict.state === "rebuild" ? verdict.problem : verdict.state === "earlier-ca" ? `${p.crlPem} is an earlier CA's` : `${p.crlPem} is not this CA's`;
  const own = path.join(dir, BROKER_FILES.crl);
  if (!existsSync(own)) {
    throw new EspCertsError("Cannot copy the CRL into the broker folder", problem, 'Run "esp-certs generate": it signs the CRL again from the manifest\'s history, which records every revocation.');
  }
  return { store: { ...store, crlPem: readFileSync(own) }, kept: problem };
}

function planFolder(config: Config, dir: string, mode: PathsMode, store: StoreMaterial) {
  return planBrokerFolder({ config, dir, mode, store, user: containerUser(), localUser: localUser() });
}

/**
 * The files of the project's broker folder that differ from what the store makes (an
 * unreadable one says why), or undefined when there is no folder esp-certs made, or the
 * store lacks what it copies (the store's own check says so). Writes nothing.
 */
export async function staleBrokerFiles(config: Config, certs = CertificateStore.open(config)): Promise<{ dir: string; stale: string[] } | undefined> {
  const dir = brokerDir(config);
  const conf = generatedConf(dir);
  if (conf === undefined) return undefined;
  let store: StoreMaterial;
  try {
    store = readStoreMaterial(certs);
  } catch (err) {
    if (err instanceof EspCertsError) return undefined;
    throw err;
  }
  const stale: string[] = [];
  for (const f of await planFolder(config, dir, pathsModeOf(conf) ?? "docker", store)) {
    const rel = path.relative(dir, f.path).split(path.sep).join("/");
    try {
      if (!fileIsCurrent(f)) stale.push(rel);
    } catch (err) {
      // E.g. a container started without --user took the folder for its uid 1883.
      stale.push(`${rel} (cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return { dir, stale };
}

/** What a reload applies without a restart: the access rules, and a CRL that mosquitto.conf names already. */
const RELOADED_FILES: readonly string[] = [BROKER_FILES.acl, BROKER_FILES.crl];

/**
 * What to tell the user after a sync: how to start the broker, or how to make it load the
 * change. Measured with Mosquitto 2.0.11 (docs/access.md): a reload (SIGHUP) re-reads acl_file,
 * also one newly named, and applies it to connected clients, and re-reads a CRL whose crlfile it
 * had; a new crlfile, use_username_as_clientid or pid_file line, and new certificates, need a
 * restart. `r.reload` is what a run that revoked did about it (syncBrokerFolder). A CRL not
 * copied comes first.
 */
export function brokerAdvice(r: BrokerResult & Pick<BrokerSync, "reload" | "replaced">, port: number): string[] {
  const kept = r.crlKept ? [`The broker folder keeps its CRL: ${r.crlKept}. Run "esp-certs generate" to sign it again from the manifest's history.`] : [];
  return [...kept, ...syncAdvice(r, port)];
}

function syncAdvice(r: BrokerResult & Pick<BrokerSync, "reload" | "replaced">, port: number): string[] {
  const { reload } = r;
  if (r.changed.length === 0) return [];
  if (r.created) {
    return r.mode === "docker"
      ? [
          "Start the broker (the network once: docker network create mqtt):",
          `  ${dockerRunLine(r.dir, port, containerUser())}`,
          `or: docker compose up -d   (in ${shellWord(r.dir)})`,
        ]
      : [`Start the broker: ${restartCommand(r.dir, "local")}`];
  }
  const reloadLine = reloadAdvice(r, reload);
  if (!needsRestart(r)) return [reloadLine];
  const restart = restartAdvice(r, port);
  const notes: string[] = [];
  if (r.addedAccessRules) {
    notes.push(
      "The access rules (acl) apply at a reload; use_username_as_clientid (no client may take another's id)" +
        `${r.mode === "local" ? " and the pid_file that lets revoke reload the broker" : ""} only from this restart on.`,
    );
  }
  if (r.changed.includes(BROKER_FILES.crl)) {
    // A replaced certificate has the id's CN, and so the id's topics: only the CRL refuses it.
    const replaced = r.replaced?.map((id) => `Until that restart ${id}'s replaced certificate still connects, with ${id}'s topics: the access rules go by the id, which the new key shares.`);
    notes.push(...(replaced ?? ["Until that restart a revoked certificate still completes its handshake, but a reload leaves it no topic."]));
  }
  return reload === undefined ? [...restart, ...notes] : [reloadLine, ...restart, ...notes];
}

/** Whether a sync of a running broker's folder needs a restart, not just a reload. */
export function needsRestart(r: BrokerResult): boolean {
  return !r.created && !reloadApplies(r.changed);
}

/** Whether a reload makes a running broker load these changed files of its folder. */
export function reloadApplies(files: readonly string[]): boolean {
  return files.every((f) => RELOADED_FILES.includes(f));
}

function reloadAdvice(r: BrokerResult & Pick<BrokerSync, "replaced">, reload: ReloadOutcome | undefined): string {
  if (reload === undefined) return `Reload the broker so that it applies them (its clients stay connected): ${reloadCommand(r.dir, r.mode)}`;
  if (reload.state === "reloaded" && r.replaced) {
    // A reload re-reads the CRL for new handshakes, not a new crlfile line; an open connection keeps its id's topics.
    if (needsRestart(r)) return `Reloaded the broker (${reload.how}): that applies the access rules, not the new crlfile line.`;
    const ids = r.replaced.join(", ");
    return `Reloaded the broker (${reload.how}): it refuses the replaced certificate of ${ids} from now on. A connection it has open stays up until ${ids} connects with the new key (which takes its session over) or the broker restarts.`;
  }
  if (reload.state === "reloaded") return `Reloaded the broker (${reload.how}): its access rules apply now, to the clients already connected too.`;
  if (reload.state === "not-running") return `The broker is not running (${reload.why}): it loads them when it starts.`;
  return `Could not reload the broker: ${reload.why}. Reload it so that they apply now (its clients stay connected): ${reload.command}`;
}

function restartAdvice(r: BrokerResult, port: number): string[] {
  // Also after a switch from docker, when no local broker runs yet: then it is a start.
  if (r.mode === "local") return [`Restart the broker so that it loads them, or start it if none runs: ${restartCommand(r.dir, "local")}`];
  // A restarted container keeps its old port mapping and user: a new port needs a new container.
  if (!r.changed.includes(BROKER_FILES.compose)) return [`Restart the broker so that it loads them: ${restartCommand(r.dir, "docker")}`];
  return [
    "Recreate the broker's container, so that it takes the new settings:",
    `  docker compose up -d --force-recreate   (in ${shellWord(r.dir)})`,
    `or, started with docker run: docker rm -f mosquitto, then ${dockerRunLine(r.dir, port, containerUser())}`,
  ];
}
