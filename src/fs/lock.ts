/**
 * One writer at a time in a folder (the certificate store), across processes: two `pio run`
 * environments, an IDE build beside a terminal, two `generate`s. Without it one run's CA key
 * could end up beside another run's CA certificate (docs/configuration.md, "One run at a time").
 *
 * A lock file made with O_EXCL names its holder: pid, host, and on Linux the process's start
 * time. A holder that was killed leaves the file behind; the next run sees that the pid is
 * gone (or is another process now) and takes the lock over, so a lock never stays stuck.
 * Written here rather than taken from a library: proper-lockfile, the common choice, decides
 * staleness by mtime, so a killed holder blocks every run for its stale period and a live one
 * waiting at the passphrase prompt must keep touching the file.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { EspCertsError, ExitCode } from "../errors.js";
import { withPath, writeAll } from "./atomic.js";
import { readNamed } from "./read.js";
import { pidAlive } from "./pid.js";

export const LOCK_FILE = ".esp-certs.lock";
/** Default wait for another run before giving up, in seconds; ESP_CERTS_LOCK_TIMEOUT changes it. */
export const LOCK_WAIT_S = 120;
/** A lock file that a holder was killed while writing (empty or torn) counts as stale after this. */
const UNREADABLE_STALE_MS = 5_000;
/** A breaker killed between its two steps leaves its guard: it is stale after this. */
const GUARD_STALE_MS = 10_000;

export interface LockHolder {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  start?: string;
  command: string;
  since: string;
}

export interface LockOptions {
  /** How long to wait for another holder, in ms. Default: ESP_CERTS_LOCK_TIMEOUT or LOCK_WAIT_S. */
  waitMs?: number;
  /** Called once when the lock is held by another live run and this one starts waiting. */
  onWait?: (holder: LockHolder, file: string) => void;
}

const UNWRITABLE = new Set(["EEXIST", "ENOTDIR", "EROFS", "EACCES", "EPERM"]);

/** Dirs this process holds, so that a command that calls another does not wait for itself. */
const held = new Set<string>();

/** Runs `fn` holding the lock of `dir` (created 0700 when missing, removed again if left empty). */
export async function withLock<T>(dir: string, command: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const key = path.resolve(dir);
  if (held.has(key)) return fn();
  let created: boolean;
  const file = path.join(key, LOCK_FILE);
  try {
    created = mkdirSync(key, { recursive: true, mode: 0o700 }) !== undefined;
    await acquire(file, command, opts);
  } catch (err) {
    // A folder that cannot be made or written (a file in its place, a read-only disk) has
    // nothing to serialise: the command finds the same and says so in its own words.
    if (UNWRITABLE.has((err as NodeJS.ErrnoException).code ?? "")) return fn();
    throw err;
  }
  held.add(key);
  try {
    return await fn();
  } finally {
    held.delete(key);
    release(file);
    if (created) removeIfEmpty(key);
  }
}

function waitMsFromEnv(): number {
  const s = Number(process.env.ESP_CERTS_LOCK_TIMEOUT);
  return (Number.isFinite(s) && s >= 0 ? s : LOCK_WAIT_S) * 1000;
}

async function acquire(file: string, command: string, opts: LockOptions): Promise<void> {
  const me: LockHolder = { pid: process.pid, host: hostname(), start: processStart(process.pid), command, since: new Date().toISOString() };
  const deadline = Date.now() + (opts.waitMs ?? waitMsFromEnv());
  let told = false;
  for (;;) {
    if (tryCreate(file, me)) return;
    const seen = readHolder(file);
    if (seen === "gone") continue;
    if (seen === "unreadable" ? ageMs(file) > UNREADABLE_STALE_MS : !isLive(seen)) {
      // Another waiter is breaking it: give it the time to, rather than spin on the check.
      if (!breakStale(file, seen)) await sleep(20 + Math.random() * 30);
      continue;
    }
    if (seen === "unreadable") {
      await sleep(50);
      continue;
    }
    if (!told) {
      opts.onWait?.(seen, file);
      told = true;
    }
    if (Date.now() >= deadline) throw gaveUp(seen, file);
    // Jitter, so that waiters do not retry in step.
    await sleep(40 + Math.random() * 80);
  }
}

function tryCreate(file: string, me: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    // A run that made the folder removed it again as this one started: make it once more.
    if (code === "ENOENT") {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      return false;
    }
    throw err;
  }
  try {
    writeAll(fd, Buffer.from(JSON.stringify(me)));
    closeSync(fd);
  } catch (err) {
    // A full disk: no empty lock left for the next run to wait on.
    closeQuietly(fd);
    unlinkQuietly(file);
    throw withPath(err, file);
  }
  return true;
}

function readHolder(file: string): LockHolder | "gone" | "unreadable" {
  let text: string;
  try {
    text = readNamed(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw err;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.host === "string" ? h : "unreadable";
  } catch {
    return "unreadable";
  }
}

/** Whether the holder may still be running. A holder on another machine (a shared folder) cannot be checked: it counts as live. */
export function isLive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  if (!pidAlive(h.pid)) return false;
  const start = processStart(h.pid);
  return h.start === undefined || start === undefined || start === h.start;
}

/** Field 22 of /proc/PID/stat: when the process started. Undefined off Linux. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Removes a dead holder's lock. A guard file makes the check and the removal one step among
 * waiters, so that two of them cannot both remove it, the second removing a new holder's lock.
 */
function breakStale(file: string, seen: LockHolder | "unreadable"): boolean {
  const guard = `${file}.break`;
  let fd: number;
  try {
    fd = openSync(guard, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    if (ageMs(guard) > GUARD_STALE_MS) unlinkQuietly(guard);
    return false;
  }
  closeSync(fd);
  try {
    const now = readHolder(file);
    const same = now === "unreadable" ? seen === "unreadable" : now !== "gone" && seen !== "unreadable" && now.pid === seen.pid && now.since === seen.since;
    if (same) unlinkQuietly(file);
  } finally {
    unlinkQuietly(guard);
  }
  return true;
}

function release(file: string): void {
  const h = readHolder(file);
  if (h !== "gone" && h !== "unreadable" && h.pid === process.pid) unlinkQuietly(file);
}

function gaveUp(h: LockHolder, file: string): EspCertsError {
  const who = `${h.command} (pid ${h.pid}${h.host === hostname() ? "" : ` on ${h.host}`}, since ${h.since.slice(11, 19)} UTC)`;
  return new EspCertsError(
    `Cannot write ${path.dirname(file)}`,
    `another esp-certs run, ${who}, is still writing it (it may be waiting for its CA passphrase)`,
    `Let that run finish and run this again. If no esp-certs runs there, remove ${file}. To wait longer, set ESP_CERTS_LOCK_TIMEOUT (seconds).`,
    ExitCode.timeout,
  );
}

/** What the wait message says about a holder. */
export function describeHolder(h: LockHolder): string {
  return `${h.command}, pid ${h.pid}${h.host === hostname() ? "" : ` on ${h.host}`}`;
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Another run wrote into it meanwhile: it stays.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
