// What monitor says before and instead of reading: bad flags, a port that is not there,
// a port another program holds.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openError } from "../../src/serial/open.js";
import { canListPorts } from "../../src/serial/list.js";
import { runCli } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";
import { ptyPair, startCli, waitUntilOpen, writeSlowly } from "./pty.js";

const hasSocat = requireTool("socat", "socat");
const hasFlock = requireTool("flock", "util-linux");

/** A PlatformIO project without a store: the monitor needs only its [esp_certs]. */

describe("monitor refuses bad input before it opens the port", () => {
  it.each([
    [["--baud", "fast"], "Cannot use --baud fast"],
    [["--baud", "9600.5"], "Cannot use --baud 9600.5"],
    [["--timeout", "0"], "Cannot use --timeout 0"],
    [["--timeout", "-3"], "Cannot use --timeout -3"],
    [["--timeout", "1e9"], "it must be at most 86400 s"],
  ])("%j", (flags, message) => {
    // The port does not exist either: the flag must be what is reported.
    const r = runCli(["monitor", "--port", "/dev/does-not-exist", ...flags], { cwd: project() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("refuses a bad number as JSON with --json, and in flash and provision as in monitor", () => {
    const r = runCli(["--json", "monitor", "--port", "/dev/does-not-exist", "--timeout", "soon"], { cwd: project() });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toEqual({ what: "Cannot use --timeout soon", why: "it must be a positive number", fix: "e.g. --timeout 90", exitCode: 2 });
    for (const command of [["flash", "--port", "/dev/does-not-exist"], ["provision", "--client", "dev01", "--out", "dev01.bin"]]) {
      const refused = runCli([...command, "--timeout", "-1"], { cwd: project() });
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain("Cannot use --timeout -1: it must be a positive number");
    }
  });

  it("needs --port", () => {
    const r = runCli(["monitor"], { cwd: project() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--port");
  });
});

describe("monitor's port errors", () => {
  // A Windows name: on Windows an absent COM port, elsewhere no such file; the same words either way.
  it("a COM3-style port that is not there: exit 2, the same words on every OS", () => {
    const r = runCli(["monitor", "--port", "COM3", "--timeout", "5"], { cwd: project() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Cannot open serial port COM3: there is no such port");
  });

  it("a port that does not exist: exit 2 and where to look", () => {
    const r = runCli(["monitor", "--port", "/dev/ttyUSB-esp-certs-none", "--json"], { cwd: project() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Cannot open serial port /dev/ttyUSB-esp-certs-none: there is no such port");
    expect(r.stderr).toContain("esp-certs ports");
    expect(JSON.parse(r.stdout).error).toMatchObject({ what: "Cannot open serial port /dev/ttyUSB-esp-certs-none", exitCode: 2 });
  });

  // Regression: the advice was "esp-certs ports", which fails where udevadm is missing.
  it("where esp-certs ports cannot list (no udevadm on PATH), says how to list them instead", () => {
    const r = runCli(["monitor", "--port", "/dev/ttyUSB-esp-certs-none"], { cwd: project(), env: { PATH: path.dirname(process.execPath) } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('List the ports with "ls /dev/ttyUSB* /dev/ttyACM*" ("esp-certs ports" needs udevadm');
  });

  // Regression: /dev/null opened, then failed its serial settings, and the advice blamed the USB cable.
  it("a path that is not a serial port (/dev/null): says so, not the cable", () => {
    const r = runCli(["monitor", "--port", "/dev/null", "--timeout", "2"], { cwd: project() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Cannot open serial port /dev/null: it is not a serial port");
    expect(r.stderr).not.toMatch(/cable|driver/);
  });

  it.skipIf(!hasSocat || !hasFlock)("a port another program holds: exit 2 and what to close", async () => {
    const pty = await ptyPair();
    // flock(1) takes the same exclusive lock serialport and esptool take on a port; the monitor
    // starts once it says it holds it (its own group, to end the sleep with it).
    const holder = spawn("flock", [pty.dev, "sh", "-c", "echo locked; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on("data", (d) => String(d).includes("locked") && resolve());
        holder.once("exit", (code) => reject(new Error(`flock ended (${code}) before it held ${pty.dev}`)));
      });
      const r = runCli(["monitor", "--port", pty.dev, "--timeout", "2"], { cwd: project() });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`Cannot open serial port ${pty.dev}: another program is using it`);
    } finally {
      process.kill(-holder.pid!, "SIGTERM");
      await pty.stop();
    }
  });

  it.skipIf(!hasSocat)("a port that goes away while it is read (board unplugged): exit 2", async () => {
    const pty = await ptyPair();
    const run = startCli(["monitor", "--port", pty.dev, "--timeout", "10"], { cwd: project() });
    await waitUntilOpen(run.child.pid!, pty.dev);
    // Once the monitor shows a line it is reading; then the other end goes.
    let shown = "";
    run.child.stdout!.on("data", (d) => (shown += d));
    await writeSlowly(pty.feed, Buffer.from("Hello from the board\r\n"));
    while (!shown.includes("Hello from the board")) await new Promise((r) => setTimeout(r, 10));
    await pty.stop();
    const r = await run.done;
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the port closed before the device reported a result");
  });
});

describe("openError reads each platform's words for a port it cannot open", () => {
  // serialport's texts: bindings-cpp serialport_unix.cpp ("Error: <strerror>, cannot open P",
  // "Error <strerror> Cannot lock port") and serialport_win.cpp ("Opening P: ...").
  it.each([
    ["linux", "Error: No such file or directory, cannot open /dev/ttyUSB0", "there is no such port"],
    ["linux", "Error: Device or resource busy, cannot open /dev/ttyUSB0", "another program is using it"],
    ["linux", "Error Resource temporarily unavailable Cannot lock port", "another program is using it"],
    ["darwin", "Error: Resource busy, cannot open /dev/cu.usbserial-0001", "another program is using it"],
    ["win32", "Opening COM3: File not found", "there is no such port"],
    ["win32", "Opening COM3: Access denied", "another program is using it"],
    ["linux", "Error: Permission denied, cannot open /dev/ttyUSB0", "permission denied"],
  ] as const)("%s: %s", (platform, message, why) => {
    expect(openError("P", message, platform).why).toContain(why);
  });

  it("ENOTTY on macOS as on Linux: not a serial port", () => {
    expect(openError("/dev/null", "Error: Inappropriate ioctl for device, cannot open /dev/null", "darwin").why).toBe("it is not a serial port");
  });
});

describe("canListPorts: whether esp-certs ports works here", () => {
  it("needs udevadm on PATH on Linux only", () => {
    const bin = tmpDir("esp-certs-udevadm-");
    expect(canListPorts("linux", "")).toBe(false);
    expect(canListPorts("linux", bin)).toBe(false);
    writeFileSync(path.join(bin, "udevadm"), "#!/bin/sh\n", { mode: 0o755 });
    expect(canListPorts("linux", ["/nonexistent", bin].join(path.delimiter))).toBe(true);
    expect(canListPorts("win32", "")).toBe(true);
    expect(canListPorts("darwin", "")).toBe(true);
  });
});
