// doctor's layout check: esp-certs' linker script as the environment names it, or advice to use one.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import type { CheckResult } from "../../src/doctor/check-types.js";
import type { DoctorContext } from "../../src/doctor/context.js";
import { LAYOUT_CHECKS } from "../../src/doctor/layout.js";
import { syncLayoutFiles } from "../../src/platformio/layout-file.js";
import { project } from "../helpers/project.js";

const check = (dir: string) => LAYOUT_CHECKS[0].run({ config: loadConfig(dir) } as DoctorContext) as CheckResult[];

describe("doctor: the flash layout", () => {
  it("follows esp-certs' linker script from missing to written to edited to someone else's", () => {
    const dir = project({ after: "[env:d1_mini]\nboard = d1_mini\nboard_build.ldscript = esp-certs.flash.4m1m.ld\n" });
    const ld = path.join(dir, "esp-certs.flash.4m1m.ld");
    expect(check(dir)).toEqual([expect.objectContaining({ level: "warning", text: "[env:d1_mini] links with esp-certs.flash.4m1m.ld, which is not there yet" })]);
    syncLayoutFiles(loadConfig(dir));
    expect(check(dir)).toEqual([expect.objectContaining({ level: "ok", text: expect.stringContaining("two flash sectors of its own") })]);
    // Still esp-certs' (its first line), edited below it.
    writeFileSync(ld, `${readFileSync(ld, "utf8").split("\n")[0]}\n/* edited */\n`);
    expect(check(dir)).toEqual([expect.objectContaining({ level: "warning", text: "esp-certs.flash.4m1m.ld differs from the layout esp-certs writes" })]);
    writeFileSync(ld, "/* mine */\n");
    expect(check(dir)).toEqual([expect.objectContaining({ level: "problem", text: expect.stringContaining("is not esp-certs'") })]);
    rmSync(ld);
    mkdirSync(ld);
    expect(check(dir)).toEqual([expect.objectContaining({ level: "problem", text: `Cannot read ${ld}: it is a folder, not a file` })]);
  });

  it("advises esp-certs' variant for a core layout or a board's default, names the layouts for an unknown name, and sees a layout larger than the board", () => {
    const dir = project({
      after:
        "[env:a]\nboard = d1_mini\n\n[env:b]\nboard = esp01_1m\nboard_build.ldscript = eagle.flash.1m256.ld\n\n[env:c]\nboard = d1_mini\nboard_build.ldscript = esp-certs.flash.4m9m.ld\n\n" +
        "[env:d]\nboard = esp01_1m\nboard_build.ldscript = esp-certs.flash.4m1m.ld\n",
    });
    syncLayoutFiles(loadConfig(dir), "d");
    const [a, b, c, dOk, dLarge] = check(dir);
    expect(a).toMatchObject({
      level: "warning",
      text: "[env:a] builds with board d1_mini's default layout, eagle.flash.4m1m.ld: one of the device's two credential sectors is the EEPROM library's (a sketch writing EEPROM erases a renewal stored there, and a renewal overwrites the sketch's EEPROM data)",
      fix: 'Set "board_build.ldscript = esp-certs.flash.4m1m.ld" in [env:a]: two sectors of its own (docs/flash-layout.md).',
    });
    expect(b).toMatchObject({ level: "warning", text: expect.stringMatching(/is in the EEPROM library's sector \(a sketch writing EEPROM erases it\), and there is no second sector for a renewal in the field$/), fix: expect.stringContaining("esp-certs.flash.1m256.ld") });
    expect(c).toMatchObject({ level: "problem", text: expect.stringContaining("esp-certs has no flash layout of that name"), fix: expect.stringContaining("4m1m") });
    expect(dOk).toMatchObject({ level: "ok" });
    expect(dLarge).toMatchObject({ level: "warning", text: expect.stringContaining("[env:d] links with esp-certs.flash.4m1m.ld, made for 4 MB of flash; board esp01_1m has 1 MB"), fix: expect.stringContaining("esp01_1m") });
  });

  it("leaves environments of other platforms alone: a native test environment, an ESP32 one", () => {
    const dir = project({ after: "[env:native]\nplatform = native\n\n[env:esp32]\nplatform = espressif32\nboard = esp32dev\n" });
    expect(check(dir)).toEqual([]);
  });
});


describe("the linker script's path", () => {
  it("follows board_build.ldscript, with PlatformIO's $PROJECT_DIR, into a folder of the project", () => {
    for (const spelled of ["$PROJECT_DIR/ld/esp-certs.flash.4m1m.ld", "${PROJECT_DIR}/ld/esp-certs.flash.4m1m.ld", "ld/esp-certs.flash.4m1m.ld"]) {
      const dir = project({ after: `[env:d1_mini]\nboard = d1_mini\nboard_build.ldscript = ${spelled}\n` });
      expect(syncLayoutFiles(loadConfig(dir)), spelled).toEqual([path.join(dir, "ld", "esp-certs.flash.4m1m.ld")]);
      expect(check(dir), spelled).toEqual([expect.objectContaining({ level: "ok" })]);
    }
  });
});
