// `esp-certs provision --port`: a stand-in for PlatformIO's esptool first on PATH (it keeps the
// "flash" in a file), the firmware rehearsal as the board on a pty reading that file as its
// credential sector, a real mosquitto, and the real issue, record, verify and monitor.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli, startCli, tmpProject, type CliResult } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { buildFirmware, generateProject, type Project, rehearsalTools } from "../firmware/rehearsal.js";
import { fixtureBytes } from "../monitor/cases.js";
import { ptyPair, waitUntilOpen, writeSlowly, type PtyPair } from "../monitor/pty.js";

const ready = rehearsalTools({ pty: true });

// `pio pkg exec --package platformio/tool-esptoolpy -- esptool.py ... <command> [address file]`:
// records each call, reports $FAKE_FLASH_SIZE, keeps what it writes in $FAKE_FLASH, and
// compares on verify_flash ($FAKE_VERIFY=mismatch: a chip that did not keep it).
const STAND_IN_PIO = `#!/bin/sh
printf '%s\\n' "$*" >> "$PIO_ARGS"
for a; do address=$file; file=$a; done
case " $* " in
  *" flash_id "*) echo "Detected flash size: \${FAKE_FLASH_SIZE:-4MB}" ;;
  *" write_flash "*) cp "$file" "$FAKE_FLASH"; echo "Wrote 4096 bytes at $address" ;;
  *" verify_flash "*)
    if [ "$FAKE_VERIFY" = mismatch ] || ! cmp -s "$file" "$FAKE_FLASH"; then echo "-- verify FAILED: digest mismatch"; exit 2; fi
    echo "-- verify OK (digest matched)" ;;
esac
`;

describe.skipIf(!ready)("esp-certs provision --port", () => {
  let project: Project;
  let broker: Broker;
  let fleet: string;
  let pty: PtyPair;
  let tools: string;
  let board: ChildProcess | undefined;

  const calls = () => (existsSync(path.join(tools, "args")) ? readFileSync(path.join(tools, "args"), "utf8").trim().split("\n") : []);
  const env = (extra: NodeJS.ProcessEnv = {}) => ({
    PATH: `${path.join(tools, "bin")}:${process.env.PATH}`,
    PIO_ARGS: path.join(tools, "args"),
    FAKE_FLASH: path.join(tools, "flash.bin"),
    ...extra,
  });

  beforeAll(async () => {
    project = generateProject("win10.local", "\n[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = none\n");
    broker = await startMosquitto({ tls: { cafile: project.caCert, certfile: project.serverCert, keyfile: project.serverKey } });
    fleet = buildFirmware(project, broker.port, "none");
  }, 300_000);

  afterAll(async () => {
    await broker?.stop();
  });

  beforeEach(async () => {
    pty = await ptyPair();
    tools = tmpProject("esp-certs-esptool-");
    mkdirSync(path.join(tools, "bin"));
    writeFileSync(path.join(tools, "bin", "pio"), STAND_IN_PIO);
    chmodSync(path.join(tools, "bin", "pio"), 0o755);
  });

  afterEach(async () => {
    if (board && board.exitCode === null && board.signalCode === null) {
      const exited = new Promise((r) => board!.once("exit", r));
      board.kill("SIGTERM");
      await exited;
    }
    board = undefined;
    await pty.stop();
  });

  /** Runs provision; once the record is verified and the monitor has the port, the board boots from the "flash". */
  async function provisionBoard(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    // --timeout and the board's run: bounds for a loaded machine, not a pace it must keep.
    const run = startCli(["provision", "--port", pty.dev, "--timeout", "60", ...args], { cwd: project.dir, env: env(extra) });
    const deadline = Date.now() + 60_000;
    while (!calls().some((c) => c.includes("verify_flash"))) {
      if (run.child.exitCode !== null || Date.now() > deadline) return run.done;
      await new Promise((r) => setTimeout(r, 50));
    }
    try {
      await waitUntilOpen(run.child.pid!, pty.dev, 60_000);
    } catch {
      return run.done; // it stopped after the write (a failed verify): no monitor
    }
    board = spawn(fleet, [], {
      env: { ...process.env, ESP_CERTS_FLASH: env().FAKE_FLASH, ESP_CERTS_SERIAL: pty.feed, ESP_CERTS_HOSTS: "win10.local=127.0.0.1", ESP_CERTS_RUN_SECONDS: "120" },
      stdio: "ignore",
    });
    return run.done;
  }

  it("issues the client, writes its record at the layout's sector, verifies it, and the monitor names the client", async () => {
    const r = await provisionBoard(["--client", "dev07"]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const esptool = (cmd: string) => calls().find((c) => c.includes(` ${cmd}`)) ?? "";
    for (const cmd of ["flash_id", "write_flash 0x3fa000 ", "verify_flash 0x3fa000 "]) {
      expect(esptool(cmd), cmd).toMatch(new RegExp(`^pkg exec --package platformio/tool-esptoolpy -- esptool\\.py --chip esp8266 --port ${pty.dev} --baud 115200 `));
    }
    expect(r.stdout).toContain(`verified: dev07 (identity from its credential record) connected to win10.local:${broker.port}`);
    expect(broker.log()).toMatch(/New client connected from 127\.0\.0\.1:\d+ as dev07/);
    expect(existsSync(path.join(project.dir, "certs", "clients", "dev07.crt.der"))).toBe(true);
    // The record file esptool read held the key: it is gone from the store.
    expect(readdirSync(path.join(project.dir, "certs")).filter((f) => f.includes("provision"))).toEqual([]);
  });

  it("--client dev## takes the next free id", async () => {
    const r = await provisionBoard(["--client", "dev##", "--json"]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const verdict = JSON.parse(r.stdout);
    expect(verdict).toMatchObject({ result: "verified", device: { client: "dev03", cred: "flash" } });
  });

  it("a read-back that differs from the record fails with exit 1 and says so, without monitoring", async () => {
    const r = await provisionBoard(["--client", "dev07"], { FAKE_VERIFY: "mismatch" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("the sector read back at 0x3FA000 is not the record written");
    expect(r.stderr).not.toContain("reading");
  });

  it("a board with less flash than the layout is refused before anything is written (exit 2)", async () => {
    const r = await provisionBoard(["--client", "dev07"], { FAKE_FLASH_SIZE: "1MB" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("its flash is 1024 KiB, and [env:d1_mini] lays out 4096 KiB (eagle.flash.4m1m.ld)");
    expect(calls().some((c) => c.includes("write_flash"))).toBe(false);
  });

  it("a board whose firmware does not read records is named as such (exit 1)", async () => {
    const run = startCli(["provision", "--port", pty.dev, "--client", "dev07", "--timeout", "60"], { cwd: project.dir, env: env() });
    const deadline = Date.now() + 60_000;
    while (!calls().some((c) => c.includes("verify_flash")) && run.child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await waitUntilOpen(run.child.pid!, pty.dev, 60_000);
    const caId = createHash("sha256").update(readFileSync(path.join(project.dir, "certs", "ca.crt.der"))).digest("hex").slice(0, 16);
    // A board that connects, with firmware from before provisioning: no cred= on its boot line.
    const log = fixtureBytes("verified.log", caId).toString("latin1").replaceAll("port=8883", `port=${broker.port}`);
    await writeSlowly(pty.feed, Buffer.from(log, "latin1"));
    const r = await run.done;
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout, r.stdout).toContain("The device's firmware does not read credential records");
  });

  it("refuses, before writing anything, a port that does not exist and --port with --out (exit 2)", () => {
    const none = runCli(["provision", "--port", "/dev/ttyUSB-esp-certs-none", "--client", "dev09"], { cwd: project.dir, env: env() });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("there is no such port");
    const both = runCli(["provision", "--port", pty.dev, "--out", "x.bin", "--client", "dev09"], { cwd: project.dir, env: env() });
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("--port and --out are two different ways");
    expect(calls()).toEqual([]);
    expect(existsSync(path.join(project.dir, "certs", "clients", "dev09.crt.der"))).toBe(false);
  });
});
