/**
 * The text of esp-certs' own linker script for a layout (docs/flash-layout.md): the core's
 * script with the filesystem or sketch ending below the credential sectors, and one more symbol
 * for the firmware, `_ESP_CERTS_CRED_start`. Pure, and built without the template engine: the
 * hook's no-op path compares it with the file on disk.
 *
 * The lines PlatformIO reads (`irom0_0_seg ... len = 0x...`, `PROVIDE ( _FS_xxx = 0x... );`) keep
 * the core's form: platform-espressif8266 finds the filesystem's place for `buildfs`/`uploadfs`
 * by matching them.
 */
import { FLASH_MAP_BASE, IROM_START, ownScriptName, type FlashLayout } from "./flash-map.js";

/** The first line: how esp-certs knows the file as its own (it never overwrites any other). */
export const LDSCRIPT_MARKER = "/* Written by esp-certs";

const addr = (offset: number) => `0x${(FLASH_MAP_BASE + offset).toString(16).toUpperCase()}`;
const off = (offset: number) => `[0x${offset.toString(16).toUpperCase().padStart(6, "0")}]`;
const kib = (bytes: number) => `${bytes / 1024} KiB`;

export function renderLdScript(layout: FlashLayout): string {
  if (layout.cred === undefined) throw new Error(`${layout.name} is not one of esp-certs' own layouts`);
  const fsSize = layout.fsEnd - layout.fsStart;
  const lines = [
    `${LDSCRIPT_MARKER} ("esp-certs init" or the pre-build hook) for board_build.ldscript = ${ownScriptName(layout)}. */`,
    `/* The ESP8266 core's eagle.flash.${layout.name}.ld, with 8 KiB below the EEPROM sector for the device's identity. */`,
    "/* Rewritten when it differs from what esp-certs would write: do not edit. */",
    "/* Addresses as the linker sees flash (mapped at 0x40200000), then as esptool sees it (flash offsets). */",
    `/* sketch @${addr(0)} ${off(0)}, up to ${addr(layout.sketchEnd)} */`,
    ...(layout.fsStart > layout.sketchEnd ? [`/* empty  @${addr(layout.sketchEnd)} ${off(layout.sketchEnd)} (${kib(layout.fsStart - layout.sketchEnd)}: OTA updates are staged here) */`] : []),
    fsSize === 0 ? "/* fs     none */" : `/* fs     @${addr(layout.fsStart)} ${off(layout.fsStart)} (${kib(fsSize)}) */`,
    `/* cred   @${addr(layout.cred)} ${off(layout.cred)} (8 KiB: the two credential sectors, esp-certs' alone) */`,
    `/* eeprom @${addr(layout.eeprom)} ${off(layout.eeprom)} (4 KiB) */`,
    `/* rfcal  @${addr(layout.eeprom + 0x1000)} ${off(layout.eeprom + 0x1000)} (4 KiB) */`,
    `/* wifi   @${addr(layout.eeprom + 0x2000)} ${off(layout.eeprom + 0x2000)} (12 KiB) */`,
    "",
    "MEMORY",
    "{",
    "  dport0_0_seg :                        org = 0x3FF00000, len = 0x10",
    "  dram0_0_seg :                         org = 0x3FFE8000, len = 0x14000",
    `  irom0_0_seg :                         org = 0x40201010, len = 0x${(layout.sketchEnd - IROM_START).toString(16)}`,
    "}",
    "",
    `PROVIDE ( _FS_start = ${addr(layout.fsStart)} );`,
    `PROVIDE ( _FS_end = ${addr(layout.fsEnd)} );`,
    `PROVIDE ( _FS_page = 0x${layout.fsPage.toString(16).toUpperCase()} );`,
    `PROVIDE ( _FS_block = 0x${layout.fsBlock.toString(16).toUpperCase()} );`,
    `PROVIDE ( _EEPROM_start = ${addr(layout.eeprom)} );`,
    `PROVIDE ( _ESP_CERTS_CRED_start = ${addr(layout.cred)} );`,
    "/* The core's deprecated names, for libraries that still use them */",
    `PROVIDE ( _SPIFFS_start = ${addr(layout.fsStart)} );`,
    `PROVIDE ( _SPIFFS_end = ${addr(layout.fsEnd)} );`,
    `PROVIDE ( _SPIFFS_page = 0x${layout.fsPage.toString(16).toUpperCase()} );`,
    `PROVIDE ( _SPIFFS_block = 0x${layout.fsBlock.toString(16).toUpperCase()} );`,
    "",
    'INCLUDE "local.eagle.app.v6.common.ld"',
    "",
  ];
  return lines.join("\n");
}
