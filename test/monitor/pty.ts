/**
 * A pseudo-terminal pair from socat that stands in for a board on a USB-serial port: the
 * CLI opens `dev`, the test writes what the board would print into `feed`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, closeSync, writeSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import path from "node:path";
import { startCli, type CliResult } from "../helpers/cli.js";
import { removeTmpDir, tmpDir } from "../helpers/tmp.js";

export { startCli };

export interface PtyPair {
  dev: string;
  feed: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function ptyPair(): Promise<PtyPair> {
  const dir = tmpDir("esp-certs-pty-");
  const dev = path.join(dir, "dev");
  const feed = path.join(dir, "feed");
  const socat: ChildProcess = spawn("socat", [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${feed}`], { stdio: "ignore" });
  // Generous: on a loaded machine starting socat alone can take seconds.
  const deadline = Date.now() + 30_000;
  while (!(existsSync(dev) && existsSync(feed))) {
    if (socat.exitCode !== null || Date.now() > deadline) throw new Error("socat did not make the pty pair");
    await sleep(10);
  }
  return {
    dev,
    feed,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          removeTmpDir(dir);
          resolve();
        };
        if (socat.exitCode !== null) return done();
        socat.once("exit", done);
        socat.kill("SIGTERM");
      }),
  };
}

/** Waits until process `pid` has `file` open (the CLI opened the port, so writes are not flushed away). */
export async function waitUntilOpen(pid: number, file: string, timeoutMs = 60_000): Promise<void> {
  const target = realpathSync(file);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      throw new Error(`process ${pid} ended before it opened ${file}`);
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return;
      } catch {
        // the descriptor closed while we looked
      }
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} did not open ${file}`);
    await sleep(10);
  }
}

/**
 * Runs `firmware` (a rehearsal build) as the board on a fresh pty while `esp-certs monitor`
 * reads it from `cwd`; `hosts` is the rehearsal's name table (ESP_CERTS_HOSTS). The monitor's result.
 * The monitor ends at its verdict, so the default bounds (60 s each) cost nothing when it comes:
 * they only have to outlast a loaded machine.
 */
export async function monitorBoard(firmware: string, o: { cwd: string; hosts: string; timeoutS?: number; runS?: number }): Promise<CliResult> {
  const pty = await ptyPair();
  let board: ChildProcess | undefined;
  try {
    const run = startCli(["monitor", "--port", pty.dev, "--timeout", String(o.timeoutS ?? 60)], { cwd: o.cwd });
    await waitUntilOpen(run.child.pid!, pty.dev);
    board = spawn(firmware, [], {
      env: { ...process.env, ESP_CERTS_SERIAL: pty.feed, ESP_CERTS_HOSTS: o.hosts, ESP_CERTS_RUN_SECONDS: String(o.runS ?? 60) },
      stdio: "ignore",
    });
    return await run.done;
  } finally {
    board?.kill("SIGTERM");
    await pty.stop();
  }
}

/** Writes the bytes line by line, a little apart, as a board prints them. */
export async function writeSlowly(file: string, data: Buffer, gapMs = 2): Promise<void> {
  const fd = openSync(file, "w");
  try {
    let start = 0;
    while (start < data.length) {
      const nl = data.indexOf(0x0a, start);
      const end = nl === -1 ? data.length : nl + 1;
      writeSync(fd, data, start, end - start);
      start = end;
      await sleep(gapMs);
    }
  } finally {
    closeSync(fd);
  }
}


/** Runs `esp-certs monitor` on the pty and plays `data` to it as the board. */
export async function monitorPlaying(pty: PtyPair, data: Buffer, args: string[], cwd: string): Promise<CliResult> {
  const run = startCli(["monitor", "--port", pty.dev, ...args], { cwd });
  try {
    await waitUntilOpen(run.child.pid!, pty.dev);
  } catch (err) {
    const r = await run.done;
    throw new Error(`${(err as Error).message}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`, { cause: err });
  }
  await writeSlowly(pty.feed, data);
  return run.done;
}
