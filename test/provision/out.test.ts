// provision --out: a folder when the path ends in a separator, a pasteable esptool line, another
// device's record never replaced, and no key left beside the user's files by a killed run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, runCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";

/** A fleet image's project with its store. */
const FLEET = { after: "[env:d1_mini_fleet]\nboard = d1_mini\ncustom_esp_certs_client = none\n", generate: true };
const hasStrace = requireTool("strace", "strace");
const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : [path.join(d, n)]));

describe("provision --out", () => {
  it("a path ending in a separator is a folder: ID.bin inside it; the esptool line quotes a path with a space", () => {
    const dir = project(FLEET);
    for (const sep of ["/", path.sep]) {
      rmSync(path.join(dir, "out dir"), { recursive: true, force: true });
      const r = runCli(["provision", "--client", "dev03", "--out", `out dir${sep}`], { cwd: dir });
      expect(r.status, r.stderr).toBe(0);
      expect(statSync(path.join(dir, "out dir")).isDirectory()).toBe(true);
      expect(existsSync(path.join(dir, "out dir", "dev03.bin"))).toBe(true);
      expect(r.stdout).toContain(`write_flash 0x3FA000 "${path.join("out dir", "dev03.bin")}"`);
    }
    // An existing folder without the separator is a folder too.
    expect(runCli(["provision", "--client", "dev04", "--out", "out dir"], { cwd: dir }).status).toBe(0);
    expect(existsSync(path.join(dir, "out dir", "dev04.bin"))).toBe(true);
  });

  it("on esp-certs' own layout: both credential sectors at 0x3F9000, the record in the first, and no EEPROM warning", () => {
    const dir = project({ ...FLEET, after: `${FLEET.after}board_build.ldscript = esp-certs.flash.4m1m.ld\n` });
    mkdirSync(path.join(dir, "src"));
    writeFileSync(path.join(dir, "src", "main.cpp"), "#include <EEPROM.h>\n");
    const r = runCli(["provision", "--client", "dev03", "--out", "dev03.bin", "--json"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ address: "0x3F9000", layout: "esp-certs.flash.4m1m.ld", size: 8192 });
    const image = readFileSync(path.join(dir, "dev03.bin"));
    expect(image.subarray(0, 4).toString("ascii")).toBe("ECR1");
    expect(image.subarray(4096).every((b) => b === 0xff)).toBe(true);
    expect(r.stderr).not.toMatch(/EEPROM/);
    // The core's layout of the same board: the record shares EEPROM's sector, and the warning says how not to.
    const core = project(FLEET);
    mkdirSync(path.join(core, "src"));
    writeFileSync(path.join(core, "src", "main.cpp"), "#include <EEPROM.h>\n");
    const c = runCli(["provision", "--client", "dev03", "--out", "dev03.bin"], { cwd: core });
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/main\.cpp uses the EEPROM library, whose sector is one of the two credential sectors on eagle\.flash\.4m1m\.ld: writing EEPROM erases a renewal stored there.*"board_build\.ldscript = esp-certs\.flash\.4m1m\.ld" in \[env:d1_mini_fleet\]/);
    // With one credential sector (1 MB), EEPROM's is the record's.
    writeFileSync(path.join(core, "platformio.ini"), readFileSync(path.join(core, "platformio.ini"), "utf8").replace("board = d1_mini", "board = esp01_1m"));
    const one = runCli(["provision", "--client", "dev04", "--out", "dev04.bin"], { cwd: core });
    expect(one.status, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/whose sector holds the credential record on eagle\.flash\.1m256\.ld: writing EEPROM erases this device's identity/);
  });

  it("refuses to replace another device's record at the same path; its own is written again", () => {
    const dir = project(FLEET);
    expect(runCli(["provision", "--client", "dev03", "--out", "r.bin"], { cwd: dir }).status).toBe(0);
    const before = readFileSync(path.join(dir, "r.bin"));
    const r = runCli(["provision", "--client", "dev04", "--out", "r.bin"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("it holds dev03's record, not dev04's");
    expect(readFileSync(path.join(dir, "r.bin")).equals(before)).toBe(true);
    expect(runCli(["provision", "--client", "dev03", "--out", "r.bin"], { cwd: dir }).status).toBe(0);
  });

  it.skipIf(!hasStrace)("killed at any rename: no temp file (it holds the key) in the output folder; the next run removes what was left in the store", () => {
    for (const n of [1, 2]) {
      const dir = project(FLEET);
      // Issued first, so that the killed run's renames are those of its record.
      expect(runCli(["provision", "--client", "dev03", "--out", "first.bin"], { cwd: dir }).status).toBe(0);
      const out = path.join(dir, "out");
      mkdirSync(out);
      const killed = spawnSync("strace", ["-f", "-qq", "-o", "/dev/null", "-e", "trace=rename", "-e", `inject=rename:signal=KILL:when=${n}`, process.execPath, cliPath, "provision", "--client", "dev03", "--out", "out/"], {
        cwd: dir,
        env: { ...process.env, ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE },
      });
      expect(killed.signal ?? killed.status, `rename ${n}`).toBe("SIGKILL");
      expect(readdirSync(out), `rename ${n}`).toEqual([]);
      const left = walk(path.join(dir, "certs")).filter((f) => f.endsWith(".esp-certs-tmp"));
      for (const f of left) expect(statSync(f).mode & 0o077, f).toBe(0);
      expect(runCli(["provision", "--client", "dev03", "--out", "out/"], { cwd: dir }).status).toBe(0);
      expect(walk(path.join(dir, "certs")).filter((f) => f.endsWith(".esp-certs-tmp"))).toEqual([]);
      expect(readdirSync(out)).toEqual(["dev03.bin"]);
    }
  });

  it("init git-ignores temp files of interrupted writes", () => {
    const dir = project({ ini: "[env:d1_mini]\nboard = d1_mini\n" });
    expect(runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir }).status).toBe(0);
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8").split("\n")).toContain("*.esp-certs-tmp");
  });
});

describe("header --out", () => {
  it("a path ending in a separator is a folder that does not exist yet: esp_certs.h inside it", () => {
    const dir = project(FLEET);
    const r = runCli(["header", "--out", `hdr dir${path.sep}`], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(path.join(dir, "hdr dir")).isDirectory()).toBe(true);
    expect(existsSync(path.join(dir, "hdr dir", "esp_certs.h"))).toBe(true);
  });
});
