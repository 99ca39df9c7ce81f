// The pure parts of provisioning: where the record goes per flash layout, the next free id, esptool's report.
import { describe, expect, it } from "vitest";
import { parseFlashSize } from "../../src/provision/esptool.js";
import { layoutFor } from "../../src/provision/layout.js";
import { nextFreeId } from "../../src/provision/next-id.js";

describe("where provision writes, per flash layout", () => {
  it("takes the board's default layout from PlatformIO's manifests, and board_build.ldscript and upload_speed over it", () => {
    expect(layoutFor({ name: "d1_mini", board: "d1_mini" })).toMatchObject({ ldscript: "eagle.flash.4m1m.ld", flashSize: 4 * 2 ** 20, baud: 115200 });
    expect(layoutFor({ name: "nodemcuv2", board: "nodemcuv2" })).toMatchObject({ ldscript: "eagle.flash.4m1m.ld", baud: 115200 });
    expect(layoutFor({ name: "esp210", board: "esp210" })).toMatchObject({ baud: 57600 });
    expect(layoutFor({ name: "esp01", board: "esp01_1m" })).toMatchObject({ ldscript: "eagle.flash.1m256.ld", flashSize: 2 ** 20 });
    expect(layoutFor({ name: "e", board: "d1_mini_pro" }).ldscript).toBe("eagle.flash.16m14m.ld");
    expect(layoutFor({ name: "e", board: "d1_mini", ldscript: "esp-certs.flash.4m2m.ld", uploadSpeed: "921600" })).toMatchObject({ address: 0x3f9000, sectors: 2, sharesEeprom: false, baud: 921600 });
  });

  it("says what to set for a board it does not know, or a script that is no layout", () => {
    expect(() => layoutFor({ name: "e", board: "my_board" })).toThrow(expect.objectContaining({ why: "esp-certs does not know board my_board's flash layout", fix: expect.stringContaining("board_build.ldscript = esp-certs.flash.4m1m.ld") }));
    expect(() => layoutFor({ name: "e", ldscript: "custom.ld" })).toThrow(expect.objectContaining({ fix: expect.stringContaining("esp-certs.flash.4m1m.ld") }));
    expect(() => layoutFor({ name: "e", ldscript: "esp-certs.flash.4m9m.ld" })).toThrow(expect.objectContaining({ message: expect.stringContaining("4m9m") }));
    expect(() => layoutFor({ name: "e", ldscript: "ld/esp-certs.flash.4M1M.ld" })).toThrow(expect.objectContaining({ fix: "Write it in lower case: board_build.ldscript = ld/esp-certs.flash.4m1m.ld" }));
  });

  // esp-certs' own layouts: the two sectors below the EEPROM sector, never the EEPROM sector.
  // The core's: the spare sector and the EEPROM sector where the filesystem leaves the spare one
  // free (_FS_end <= _EEPROM_start - 4 KiB in the core 3.1.2 linker scripts), else EEPROM alone.
  it.each([
    ["esp-certs.flash.4m1m.ld", 0x3f9000, 2, false],
    ["esp-certs.flash.1m256.ld", 0x0f9000, 2, false],
    ["esp-certs.flash.1m.ld", 0x0f9000, 2, false],
    ["esp-certs.flash.512k32.ld", 0x079000, 2, false],
    ["esp-certs.flash.16m14m.ld", 0xff9000, 2, false],
    ["eagle.flash.4m1m.ld", 0x3fa000, 2, true],
    ["eagle.flash.4m3m.ld", 0x3fa000, 2, true],
    ["eagle.flash.2m1m.ld", 0x1fa000, 2, true],
    ["eagle.flash.8m6m.ld", 0x7fa000, 2, true],
    ["eagle.flash.16m14m.ld", 0xffa000, 2, true],
    ["eagle.flash.4m.ld", 0x3fb000, 1, true],
    ["eagle.flash.2m256.ld", 0x1fb000, 1, true],
    ["eagle.flash.1m256.ld", 0x0fb000, 1, true],
    ["eagle.flash.512k64.ld", 0x07b000, 1, true],
  ] as const)("%s: at %i, %i sector(s), shares EEPROM's: %s", (ldscript, address, sectors, sharesEeprom) => {
    expect(layoutFor({ name: "e", ldscript })).toMatchObject({ address, sectors, sharesEeprom });
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
