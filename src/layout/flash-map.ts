/**
 * The ESP8266 core's flash layouts, and esp-certs' own variant of each (docs/flash-layout.md).
 * Pure: names and numbers in, numbers out.
 *
 * The core (3.1.2, tools/boards.txt.py `flash_map`) lays flash out from its end: SDK WiFi
 * settings 12 KiB, RF calibration 4 KiB, the EEPROM sector 4 KiB, then the filesystem below it
 * (on 1 MB chips and smaller, directly below; on larger ones, starting `fs` before the end of
 * flash with its end aligned down to its block). The sketch starts at the beginning of flash.
 * esp-certs' variant gives the device's identity the 8 KiB right below the EEPROM sector: the
 * filesystem ends below them (one 8 KiB or two 4 KiB blocks shorter), or, without a filesystem,
 * the sketch and OTA area ends below them.
 */

const KIB = 1024;
const MIB = 1024 * KIB;
/** Where the core maps flash for code: the linker scripts' addresses are in this window. */
export const FLASH_MAP_BASE = 0x40200000;
/** The image header and bootloader before the sketch's flash code (`irom0_0_seg` starts at 0x40201010). */
export const IROM_START = 0x1010;
export const SECTOR = 4 * KIB;
/** The two credential sectors (docs/credential-record.md). */
export const CRED_SIZE = 2 * SECTOR;

/** Every flash layout the core ships a linker script for, as flash size and filesystem size in KiB. */
const CORE_SIZES: readonly (readonly [number, number])[] = [
  [512, 0], [512, 32], [512, 64], [512, 128],
  [1024, 0], [1024, 64], [1024, 128], [1024, 144], [1024, 160], [1024, 192], [1024, 256], [1024, 512],
  [2048, 0], [2048, 64], [2048, 128], [2048, 256], [2048, 512], [2048, 1024],
  [4096, 0], [4096, 1024], [4096, 2048], [4096, 3072],
  [8192, 6144], [8192, 7168],
  [16384, 14336], [16384, 15360],
];

/** A layout in flash offsets (from the start of flash, not the mapped addresses). */
export interface FlashLayout {
  /** The core's name for it: 4m1m, 1m256, 512k, ... */
  name: string;
  flashSize: number;
  /** The sketch's flash code may end here (irom0_0_seg's end). */
  sketchEnd: number;
  /** The filesystem; start = end where there is none. OTA updates stop at its start. */
  fsStart: number;
  fsEnd: number;
  fsBlock: number;
  fsPage: number;
  /** The EEPROM library's sector. */
  eeprom: number;
  /** esp-certs' two credential sectors; only in esp-certs' own layouts. */
  cred?: number;
}

function sizeName(kib: number): string {
  return kib >= 1024 ? `${kib / 1024}m` : `${kib}k`;
}

function nameOf(flashKib: number, fsKib: number): string {
  const fs = fsKib === 0 ? "" : fsKib >= 1024 ? `${fsKib / 1024}m` : `${fsKib}`;
  return `${sizeName(flashKib)}${fs}`;
}

/** The core's layout, by the rule of its boards.txt.py. */
function coreLayoutOf(flashKib: number, fsKib: number): FlashLayout {
  const flashSize = flashKib * KIB;
  const eeprom = flashSize - 0x5000;
  const fsSize = fsKib * KIB;
  const fsBlock = fsKib === 0 ? 0 : fsKib < 512 ? 4 * KIB : 8 * KIB;
  // 1 MB and smaller: the filesystem right below EEPROM, the sketch up to it. Larger: the sketch
  // in the first MB, the filesystem from `fs` before the end of flash.
  const fsStart = fsKib === 0 ? eeprom : flashSize <= MIB ? eeprom - fsSize : flashSize - fsSize;
  const fsEnd = fsKib === 0 ? eeprom : fsStart + fsBlock * Math.floor((eeprom - fsStart) / fsBlock);
  const sketchEnd = flashSize <= MIB ? fsStart : MIB;
  return { name: nameOf(flashKib, fsKib), flashSize, sketchEnd, fsStart, fsEnd, fsBlock, fsPage: fsKib === 0 ? 0 : 0x100, eeprom };
}

export const CORE_LAYOUTS: readonly FlashLayout[] = CORE_SIZES.map(([flash, fs]) => coreLayoutOf(flash, fs));

export function coreLayout(name: string): FlashLayout | undefined {
  return CORE_LAYOUTS.find((l) => l.name === name.toLowerCase());
}

/**
 * esp-certs' variant of a core layout: the 8 KiB below the EEPROM sector are the credential
 * sectors. The filesystem keeps its start (so OTA keeps its room) and ends on a block boundary
 * at or below them; without a filesystem, the empty area and the sketch end below them.
 */
export function ownLayout(core: FlashLayout): FlashLayout {
  const cred = core.eeprom - CRED_SIZE;
  if (core.fsBlock === 0) {
    return { ...core, sketchEnd: Math.min(core.sketchEnd, cred), fsStart: cred, fsEnd: cred, cred };
  }
  const fsEnd = core.fsStart + core.fsBlock * Math.floor((cred - core.fsStart) / core.fsBlock);
  return { ...core, fsEnd, cred };
}

/** The 4 KiB below a core layout's EEPROM sector, when its filesystem ends below it (4m1m, 2m1m, ...). */
export function spareSector(layout: FlashLayout): number | undefined {
  return layout.fsEnd <= layout.eeprom - SECTOR ? layout.eeprom - SECTOR : undefined;
}

/** The linker script names: the core's, and esp-certs' own, which PlatformIO reads the flash size from too (`.flash.4m`). */
export const coreScriptName = (layout: FlashLayout) => `eagle.flash.${layout.name}.ld`;
export const ownScriptName = (layout: FlashLayout) => `esp-certs.flash.${layout.name}.ld`;
const OWN_NAME = /^esp-certs\.flash\./i;

export type ScriptKind = "core" | "own";

/** A board_build.ldscript value's file name: the part after its last / or \\ (a Windows path). */
export function scriptBaseName(ldscript: string): string {
  return ldscript.replace(/\\/g, "/").split("/").pop() ?? "";
}

/** Whether the value names a file in esp-certs' form (esp-certs.flash.*), whether or not its layout exists. */
export function isOwnScriptName(ldscript: string): boolean {
  return OWN_NAME.test(scriptBaseName(ldscript));
}

/**
 * What a `board_build.ldscript` value names: a core layout, esp-certs' variant of one, or
 * undefined for anything else (a path is read by its file name). In lower case only, as the
 * core spells them: PlatformIO reads the flash size from the name case-sensitively (`.flash.4m`),
 * and on a file system that tells case apart no other spelling is found.
 */
export function layoutOfScript(ldscript: string): { kind: ScriptKind; layout: FlashLayout } | undefined {
  const base = scriptBaseName(ldscript);
  const m = /^(eagle|esp-certs)\.flash\.([0-9]+[km][0-9]*m?)\.ld$/.exec(base);
  const core = m ? coreLayout(m[2]) : undefined;
  if (m === null || core === undefined) return undefined;
  return m[1] === "eagle" ? { kind: "core", layout: core } : { kind: "own", layout: ownLayout(core) };
}

/**
 * The value spelled in lower case, when that alone makes it a layout (esp-certs.flash.4M1M.ld):
 * PlatformIO reads the flash size from the name case-sensitively, so the other spelling is refused.
 */
export const LOWER_CASE_WHY = "PlatformIO reads the flash size from a linker script's name only in lower case";

export function lowerCaseScript(ldscript: string): string | undefined {
  const base = scriptBaseName(ldscript);
  if (layoutOfScript(base) !== undefined || layoutOfScript(base.toLowerCase()) === undefined) return undefined;
  return `${ldscript.slice(0, -base.length)}${base.toLowerCase()}`;
}
