// The pure parts of provisioning: the sector per flash layout, the next free id, esptool's report.
import { describe, expect, it } from "vitest";
import { parseFlashSize } from "../../src/provision/esptool.js";
import { flashSizeOf, layoutFor } from "../../src/provision/layout.js";
import { nextFreeId } from "../../src/provision/next-id.js";

describe("the credential sector per flash layout", () => {
  it("is the EEPROM sector of PlatformIO's default layout for d1_mini, nodemcuv2 and esp01_1m", () => {
    expect(layoutFor({ name: "d1_mini", board: "d1_mini" })).toMatchObject({ ldscript: "eagle.flash.4m1m.ld", flashSize: 4 * 2 ** 20, address: 0x3fb000, baud: 460800 });
    expect(layoutFor({ name: "nodemcuv2", board: "nodemcuv2" })).toMatchObject({ address: 0x3fb000, baud: 115200 });
    expect(layoutFor({ name: "esp01", board: "esp01_1m" })).toMatchObject({ ldscript: "eagle.flash.1m256.ld", flashSize: 2 ** 20, address: 0xfb000 });
  });

  it("follows board_build.ldscript and upload_speed, and says what to set for an unknown board", () => {
    expect(layoutFor({ name: "e", board: "d1_mini", ldscript: "eagle.flash.4m2m.ld", uploadSpeed: "921600" })).toMatchObject({ address: 0x3fb000, baud: 921600 });
    expect(layoutFor({ name: "e", board: "esp12e", ldscript: "eagle.flash.2m512.ld" }).address).toBe(0x1fb000);
    expect(layoutFor({ name: "e", board: "esp01", ldscript: "eagle.flash.512k64.ld" }).address).toBe(0x7b000);
    expect(() => layoutFor({ name: "e", board: "esp12e" })).toThrow(expect.objectContaining({ why: "esp-certs does not know board esp12e's flash layout", fix: expect.stringContaining("board_build.ldscript = eagle.flash.4m1m.ld") }));
    expect(flashSizeOf("eagle.flash.16m14m.ld")).toBe(16 * 2 ** 20);
    expect(flashSizeOf("custom.ld")).toBeUndefined();
  });
});

describe("the spare credential sector below the EEPROM sector (boards.txt.py's flash_map)", () => {
  // _FS_end and _EEPROM_start of the core 3.1.2 linker scripts: the spare sector exists where
  // the filesystem ends at least 4 KiB below the EEPROM sector.
  it.each([
    ["eagle.flash.4m1m.ld", 0x3fa000],
    ["eagle.flash.4m2m.ld", 0x3fa000],
    ["eagle.flash.4m3m.ld", 0x3fa000],
    ["eagle.flash.2m512.ld", 0x1fa000],
    ["eagle.flash.2m1m.ld", 0x1fa000],
    ["eagle.flash.8m6m.ld", 0x7fa000],
    ["eagle.flash.16m14m.ld", 0xffa000],
    ["eagle.flash.4m.ld", undefined],
    ["eagle.flash.2m64.ld", undefined],
    ["eagle.flash.2m256.ld", undefined],
    ["eagle.flash.1m256.ld", undefined],
    ["eagle.flash.1m64.ld", undefined],
    ["eagle.flash.512k64.ld", undefined],
  ])("%s: %s", (ldscript, spare) => {
    expect(layoutFor({ name: "e", ldscript }).spare).toBe(spare);
  });
});

describe("--client dev##", () => {
  it("takes the first number not in the store, without case, padded to the pattern's width", () => {
    expect(nextFreeId("dev##", ["dev01", "dev02"])).toBe("dev03");
    expect(nextFreeId("dev##", ["DEV01", "dev03"])).toBe("dev02");
    expect(nextFreeId("node-###-a", [])).toBe("node-001-a");
    expect(nextFreeId("dev#", ["dev1", "dev2", "dev3", "dev4", "dev5", "dev6", "dev7", "dev8", "dev9"])).toBe("dev10");
    expect(nextFreeId("a#b#", [])).toBeUndefined();
  });
});

describe("esptool's flash_id report", () => {
  it("gives the chip's flash size", () => {
    expect(parseFlashSize("Manufacturer: 20\nDevice: 4016\nDetected flash size: 4MB\n")).toBe(4 * 2 ** 20);
    expect(parseFlashSize("Detected flash size: 512KB")).toBe(512 * 1024);
    expect(parseFlashSize("Detected flash size: Unknown")).toBeUndefined();
  });
});
