// The store's lock (src/fs/lock.ts): a killed holder never leaves it stuck; a live one is waited
// for, with a message, and given up on with exit 3.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EspCertsError } from "../../src/errors.js";
import { LOCK_FILE, withLock, type LockHolder } from "../../src/fs/lock.js";
import { runCli, startCli, tmpProject } from "../helpers/cli.js";
import { projectIni } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";

const hasMkfifo = requireTool("mkfifo", "coreutils");
function dir(): string {
  const d = tmpProject("esp-certs-lock-");
  return d;
}
const holderFile = (d: string, h: Partial<LockHolder>) =>
  writeFileSync(path.join(d, LOCK_FILE), JSON.stringify({ host: hostname(), command: "generate", since: new Date().toISOString(), ...h }));
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

describe("the store's lock", () => {
  it("takes over the lock of a holder that died, without waiting", async () => {
    const d = dir();
    holderFile(d, { pid: deadPid() });
    let waited = false;
    expect(await withLock(d, "test", async () => readFileSync(path.join(d, LOCK_FILE), "utf8"), { waitMs: 2000, onWait: () => (waited = true) })).toContain(`"pid":${process.pid}`);
    expect(waited).toBe(false);
    expect(existsSync(path.join(d, LOCK_FILE))).toBe(false);
  });

  it("takes over a lock whose pid now belongs to another process (its start time differs)", async () => {
    const d = dir();
    holderFile(d, { pid: process.pid, start: "1" });
    expect(await withLock(d, "test", async () => "held", { waitMs: 2000 })).toBe("held");
  });

  it("waits for a live holder, says so once, and gives up with exit 3 naming it", async () => {
    const d = dir();
    const sleeper = spawn("sleep", ["30"]);
    try {
      holderFile(d, { pid: sleeper.pid! });
      const waits: LockHolder[] = [];
      const err = await withLock(d, "test", async () => "held", { waitMs: 400, onWait: (h) => waits.push(h) }).catch((e) => e);
      expect(err).toBeInstanceOf(EspCertsError);
      expect((err as EspCertsError).exitCode).toBe(3);
      expect((err as EspCertsError).message).toContain(`pid ${sleeper.pid}`);
      expect((err as EspCertsError).fix).toContain(LOCK_FILE);
      expect(waits.map((h) => h.pid)).toEqual([sleeper.pid]);
      expect(existsSync(path.join(d, LOCK_FILE)), "the holder's lock stays").toBe(true);
    } finally {
      sleeper.kill();
    }
  });

  it("takes over a lock naming pid 0 or -1 (kill(0) and kill(-1) signal groups, not a holder)", async () => {
    for (const pid of [0, -1]) {
      const d = dir();
      holderFile(d, { pid });
      expect(await withLock(d, "test", async () => "held", { waitMs: 500 })).toBe("held");
    }
  });

  it("does not spin on a stale lock while another waiter's fresh .break guard is there", async () => {
    const d = dir();
    holderFile(d, { pid: deadPid() });
    const guard = path.join(d, `${LOCK_FILE}.break`);
    writeFileSync(guard, "");
    // The guard's owner finishes after 1 s; meanwhile this waiter must sleep, not burn the CPU.
    const removed = new Promise<void>((r) => setTimeout(() => (rmSync(guard), r()), 1000));
    const cpu = process.cpuUsage();
    const wall = Date.now();
    expect(await withLock(d, "test", async () => "held", { waitMs: 20_000 })).toBe("held");
    await removed;
    const used = process.cpuUsage(cpu);
    expect(Date.now() - wall).toBeLessThan(5000);
    expect((used.user + used.system) / 1000, "CPU ms while waiting").toBeLessThan(400);
  }, 30_000);

  it("runs writers in one process one after the other, and a nested one without waiting for itself", async () => {
    const d = dir();
    const order: string[] = [];
    const job = (name: string) => withLock(d, name, async () => {
      order.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 30));
      order.push(`${name} out`);
    });
    await Promise.all([job("a"), job("b")]);
    expect([order.slice(0, 2), order.slice(2)].map((p) => p[0].split(" ")[0] === p[1].split(" ")[0])).toEqual([true, true]);
    expect(await withLock(d, "outer", () => withLock(d, "inner", async () => "nested"))).toBe("nested");
  });

  it("removes the store folder it made when the command wrote nothing into it", async () => {
    const d = path.join(dir(), "certs");
    await expect(withLock(d, "test", async () => { throw new Error("bad input"); })).rejects.toThrow("bad input");
    expect(existsSync(d)).toBe(false);
  });

  it.skipIf(!hasMkfifo)("through the CLI: a second run waits and gives up with exit 3; after kill -9 of the first, the next run goes on", async () => {
    const project = dir();
    writeFileSync(path.join(project, "platformio.ini"), projectIni({ extra: "key_type = ec-p256\n" }));
    // The first run blocks reading its passphrase from a FIFO nobody writes: it holds the lock meanwhile.
    const fifo = path.join(project, "passphrase.fifo");
    execFileSync("mkfifo", [fifo]);
    const first = startCli(["generate", "--ca-passphrase-file", fifo], { cwd: project, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    const lock = path.join(project, "certs", LOCK_FILE);
    // A CLI start on a loaded machine: wait for the lock as long as that may take.
    for (const end = Date.now() + 60_000; !existsSync(lock) && Date.now() < end && first.child.exitCode === null; ) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(lock)).toBe(true);

    const second = runCli(["generate"], { cwd: project, env: { ESP_CERTS_LOCK_TIMEOUT: "1" } });
    expect(second.status, second.stderr).toBe(3);
    expect(second.stderr).toContain(`waiting for another esp-certs run (generate, pid ${first.child.pid})`);
    expect(second.stderr).toContain("is still writing it");

    first.child.kill("SIGKILL");
    await first.done;
    const third = runCli(["generate"], { cwd: project, env: { ESP_CERTS_LOCK_TIMEOUT: "5" } });
    expect(third.status, third.stderr).toBe(0);
    expect(third.stderr).not.toContain("waiting");
    expect(existsSync(lock)).toBe(false);
  });
});
