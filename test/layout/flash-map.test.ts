// The core's flash layouts as esp-certs computes them, checked against the linker scripts the
// ESP8266 core 3.1.2 ships (tools/sdk/ld/eagle.flash.*.ld: the numbers in the fixture), and
// esp-certs' own variant of each: the credential sectors collide with nothing.
import { describe, expect, it } from "vitest";
import core312 from "./fixtures/core-3.1.2-linker-scripts.json" with { type: "json" };
import { CORE_LAYOUTS, CRED_SIZE, FLASH_MAP_BASE, IROM_START, layoutOfScript, ownLayout, ownScriptName, SECTOR } from "../../src/layout/flash-map.js";
import { renderLdScript } from "../../src/layout/ldscript.js";

const offset = (mapped: string) => Number(mapped) - FLASH_MAP_BASE;

describe("the core's layouts", () => {
  it("are the 26 the core ships a linker script for", () => {
    expect(CORE_LAYOUTS.map((l) => l.name).sort()).toEqual(core312.map((s) => s.name).sort());
  });

  it.each(core312)("$name: sketch, filesystem and EEPROM where eagle.flash.$name.ld puts them", (s) => {
    const found = layoutOfScript(`eagle.flash.${s.name}.ld`);
    expect(found?.kind).toBe("core");
    const l = found!.layout;
    expect(l.sketchEnd - IROM_START).toBe(Number(s.iromLen));
    expect([l.fsStart, l.fsEnd, l.fsPage, l.fsBlock, l.eeprom]).toEqual([offset(s.fsStart), offset(s.fsEnd), Number(s.fsPage), Number(s.fsBlock), offset(s.eepromStart)]);
  });
});

describe("esp-certs' own layouts", () => {
  it.each(CORE_LAYOUTS.map((l) => [l.name, l] as const))("%s: two sectors of its own below the EEPROM sector", (_name, core) => {
    const own = ownLayout(core);
    const cred = own.cred!;
    expect(cred).toBe(core.eeprom - CRED_SIZE);
    expect(cred % SECTOR).toBe(0);
    // Above the sketch and the OTA area (which ends at the filesystem's start) and the filesystem.
    expect(own.sketchEnd).toBeLessThanOrEqual(own.fsStart);
    expect(own.fsStart).toBeLessThanOrEqual(own.fsEnd);
    expect(own.fsEnd).toBeLessThanOrEqual(cred);
    // The filesystem keeps its start and its block; it is shorter by at most the credential sectors plus a block.
    if (core.fsBlock > 0) {
      expect(own.fsStart).toBe(core.fsStart);
      expect((own.fsEnd - own.fsStart) % core.fsBlock).toBe(0);
      expect(own.fsEnd - own.fsStart).toBeGreaterThan(0);
      expect(core.fsEnd - own.fsEnd).toBeLessThanOrEqual(CRED_SIZE);
    } else {
      expect(own.fsEnd).toBe(cred);
      expect(core.sketchEnd - own.sketchEnd).toBeLessThanOrEqual(CRED_SIZE);
    }
    // EEPROM, RF calibration and the SDK's WiFi settings are where the core has them.
    expect(own.eeprom).toBe(core.eeprom);
    expect(layoutOfScript(ownScriptName(core))).toEqual({ kind: "own", layout: own });
  });

  it("reads the script's name from a path, and nothing else as a layout", () => {
    expect(layoutOfScript("ld/esp-certs.flash.4m1m.ld")?.layout.cred).toBe(0x3f9000);
    expect(layoutOfScript("C:\\project\\esp-certs.flash.1m.ld")?.layout.cred).toBe(0x0f9000);
    expect(layoutOfScript("eagle.flash.4m9m.ld")).toBeUndefined();
    expect(layoutOfScript("custom.ld")).toBeUndefined();
    expect(layoutOfScript("eagle.flash.auto.ld")).toBeUndefined();
  });
});

// What platform-espressif8266 reads from a linker script for buildfs/uploadfs: the flash size
// from the file's name, the sketch's room from irom0_0_seg, the filesystem from PROVIDE lines.
function readAsPlatformIo(name: string, text: string) {
  const size = /\.flash\.(\d+)([mk]).*\.ld/.exec(name)!;
  const out: Record<string, number> = { flash_size: Number(size[1]) * (size[2] === "m" ? 2 ** 20 : 1024) };
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("/*")) continue;
    const app = /irom0_0_seg\s*:.+len\s*=\s*(0x[\da-f]+)/i.exec(line);
    if (app) out.app_size = Number(app[1]);
    const fs = /PROVIDE\s*\(\s*_FS_(\w+)\s*=\s*(0x[\da-f]+)\s*\)/i.exec(line);
    if (fs) out[`fs_${fs[1]}`] = Number(fs[2]);
  }
  return out;
}

describe("the linker script", () => {
  it.each(CORE_LAYOUTS.map((l) => [ownScriptName(l), ownLayout(l)] as const))("%s reads, as PlatformIO reads it, as the layout", (name, own) => {
    expect(readAsPlatformIo(name, renderLdScript(own))).toEqual({
      flash_size: own.flashSize,
      app_size: own.sketchEnd - IROM_START,
      fs_start: FLASH_MAP_BASE + own.fsStart,
      fs_end: FLASH_MAP_BASE + own.fsEnd,
      fs_page: own.fsPage,
      fs_block: own.fsBlock,
    });
  });
});
