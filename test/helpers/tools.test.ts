// The test helper's own rules: a CI job may name the tools it lacks on purpose
// (ESP_CERTS_TEST_ABSENT), any other missing tool still fails under CI=true; and tools are
// found on PATH as Windows finds them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { findOnPath, requireHeader, requireTool } from "./tools.js";

const dir = mkdtempSync(path.join(tmpdir(), "esp-certs-tools-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
vi.spyOn(console, "warn").mockImplementation(() => undefined);

describe("requireTool under CI=true", () => {
  const ci = (absent?: string): NodeJS.ProcessEnv => ({ PATH: dir, CI: "true", ESP_CERTS_TEST_ABSENT: absent });

  it("fails on a missing tool the job did not name", () => {
    expect(() => requireTool("mosquitto", "mosquitto", ci())).toThrow(/mosquitto is missing: on Debian or Ubuntu, apt-get install mosquitto;/);
    expect(() => requireTool("mosquitto", "mosquitto", ci("socat, libbearssl-dev"))).toThrow(/mosquitto is missing/);
  });

  it("skips a tool the job names as absent, by tool or by Debian package", () => {
    expect(requireTool("mosquitto_pub", "mosquitto-clients", ci("mosquitto,mosquitto-clients"))).toBe(false);
    expect(requireTool("xtensa-lx106-elf-gcc", "gcc-xtensa-lx106 picolibc-xtensa-lx106-elf", ci("gcc-xtensa-lx106"))).toBe(false);
    expect(console.warn).toHaveBeenLastCalledWith("SKIPPED: xtensa-lx106-elf-gcc is absent on purpose here (ESP_CERTS_TEST_ABSENT)");
    expect(requireHeader("no_such_header_esp_certs.h", "libbearssl-dev", { ...process.env, ...ci("libbearssl-dev"), PATH: process.env.PATH })).toBe(false);
  });

  it("treats a tool the job names as absent even where the runner has one, and uses it otherwise", () => {
    writeFileSync(path.join(dir, "gcc"), "#!/bin/sh\n", { mode: 0o755 });
    expect(requireTool("gcc", "gcc", ci("gcc"))).toBe(false);
    expect(requireTool("gcc", "gcc", ci("socat"))).toBe(process.platform !== "win32");
  });
});

describe("findOnPath", () => {
  it("finds tool.exe / tool.cmd on Windows (PATHEXT), in a quoted folder with spaces, and no file without an extension", () => {
    const folder = path.join(dir, "Program Files", "nodejs");
    const env = { Path: `C:\\nowhere;"${folder}"`, PATHEXT: ".COM;.EXE;.BAT;.CMD" };
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, "npm.cmd"), "@echo off\r\n");
    writeFileSync(path.join(folder, "npm"), "#!/bin/sh\n");
    writeFileSync(path.join(folder, "node.exe"), "");
    expect(findOnPath("npm", env, "win32")).toBe(path.join(folder, "npm.cmd"));
    expect(findOnPath("node", env, "win32")).toBe(path.join(folder, "node.exe"));
    expect(findOnPath("node.exe", env, "win32")).toBe(path.join(folder, "node.exe"));
    expect(findOnPath("git", env, "win32")).toBeUndefined();
  });
});
