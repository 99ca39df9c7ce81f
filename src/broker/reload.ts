// Reloading the broker (SIGHUP): Mosquitto re-reads its acl_file and applies it to the clients
// already connected, so a revoked client loses every topic without a restart (docs/access.md).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { BROKER_FILES, type PathsMode } from "./conf.js";
import { shellWord } from "../ui.js";

/** The name `docker run` and docker-compose.yml give the container. */
export const CONTAINER = "mosquitto";

export type ReloadOutcome =
  /** Sent: `how` says to whom. */
  | { state: "reloaded"; how: string }
  /** Nothing to reload: the broker reads everything when it starts. */
  | { state: "not-running"; why: string }
  /** Not found from here: `command` is the one the user runs. */
  | { state: "not-found"; why: string; command: string };

export interface ReloadDeps {
  platform: NodeJS.Platform;
  /** Sends a signal; throws like process.kill. */
  kill(pid: number, signal: NodeJS.Signals | 0): void;
  /** The program name of a process, or undefined when it cannot be told. */
  programOf(pid: number): string | undefined;
  /** Runs docker; undefined when docker is not on PATH. */
  docker(args: string[]): { status: number | null; stdout: string } | undefined;
}

export const defaultReloadDeps: ReloadDeps = {
  platform: process.platform,
  kill: (pid, signal) => process.kill(pid, signal),
  programOf,
  docker(args) {
    const r = spawnSync("docker", args, { encoding: "utf8", timeout: 20_000 });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return undefined;
    return { status: r.status, stdout: r.stdout ?? "" };
  },
};

/** The command that reloads a broker run from this folder. */
export function reloadCommand(dir: string, mode: PathsMode, platform: NodeJS.Platform = process.platform): string {
  if (mode === "docker") return `docker kill --signal=HUP ${CONTAINER}`;
  // Mosquitto on Windows has no reload signal.
  if (platform === "win32") return "restart the mosquitto service (Windows' mosquitto has no reload): net stop mosquitto && net start mosquitto";
  const pid = path.join(dir, BROKER_FILES.pid);
  return `kill -HUP $(cat ${shellWord(pid)})`;
}

/**
 * The command that starts the broker of this folder again, so that it reads what only a start
 * reads (a new crlfile or pid_file line, new certificates); for a local broker, once the running
 * one is stopped (also the start when none runs).
 */
export function restartCommand(dir: string, mode: PathsMode): string {
  return mode === "docker" ? `docker restart ${CONTAINER}` : `mosquitto -c ${shellWord(path.join(dir, BROKER_FILES.conf))}`;
}

/** Sends the broker run from `dir` a reload where it can find it. */
export function reloadBroker(dir: string, mode: PathsMode, deps: ReloadDeps = defaultReloadDeps): ReloadOutcome {
  return mode === "docker" ? reloadContainer(deps) : reloadLocal(dir, deps);
}

function reloadContainer(deps: ReloadDeps): ReloadOutcome {
  const command = reloadCommand("", "docker");
  const running = deps.docker(["inspect", "--format", "{{.State.Running}}", CONTAINER]);
  if (running === undefined) return { state: "not-found", why: "docker is not on PATH here", command };
  if (running.status !== 0) return { state: "not-found", why: `docker has no container named ${CONTAINER} here`, command };
  if (running.stdout.trim() !== "true") return { state: "not-running", why: `the container ${CONTAINER} is stopped` };
  const sent = deps.docker(["kill", "--signal=HUP", CONTAINER]);
  if (sent?.status !== 0) return { state: "not-found", why: `docker could not signal ${CONTAINER}`, command };
  return { state: "reloaded", how: `docker kill --signal=HUP ${CONTAINER}` };
}

function reloadLocal(dir: string, deps: ReloadDeps): ReloadOutcome {
  const command = reloadCommand(dir, "local", deps.platform);
  if (deps.platform === "win32") return { state: "not-found", why: "Mosquitto on Windows cannot reload", command };
  const file = path.join(dir, BROKER_FILES.pid);
  if (!existsSync(file)) {
    return { state: "not-found", why: `${file} is not there: no broker runs from this folder, or it was started before its mosquitto.conf named a pid_file`, command: "kill -HUP <the pid of mosquitto>" };
  }
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return { state: "not-found", why: `${file} holds no process id`, command: "kill -HUP <the pid of mosquitto>" };
  try {
    deps.kill(pid, 0);
  } catch {
    return { state: "not-running", why: `process ${pid} (from ${BROKER_FILES.pid}) is not running` };
  }
  // A pid file left by a broker that was killed may name another program now: never signal that.
  const program = deps.programOf(pid);
  if (program !== undefined && program !== "mosquitto") return { state: "not-running", why: `process ${pid} (from ${BROKER_FILES.pid}) is ${program} now, not mosquitto` };
  deps.kill(pid, "SIGHUP");
  return { state: "reloaded", how: `SIGHUP to mosquitto (pid ${pid})` };
}

/** Linux names a process in /proc; elsewhere `ps` does. */
function programOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    const r = spawnSync("ps", ["-p", String(pid), "-o", "comm="], { encoding: "utf8" });
    return r.status === 0 ? path.basename(r.stdout.trim()) || undefined : undefined;
  }
}
