/**
 * Where the credential record lives for each flash layout (docs/credential-record.md): the
 * sector of the core's EEPROM emulation, `_EEPROM_start` in the linker script. The ESP8266
 * core lays flash out from its end (tools/boards.txt.py: SDK WiFi settings 12 KiB, RF
 * calibration 4 KiB, then EEPROM 4 KiB), so for every layout the sector is 20 KiB before the
 * end of flash: outside the sketch, OTA and filesystem regions, and never written by an upload.
 */
import { EspCertsError } from "../errors.js";

const KIB = 1024;
const MIB = 1024 * KIB;
/** SDK WiFi settings, RF calibration, and the EEPROM sector itself, counted from the end of flash. */
const FROM_END = 0x5000;

/**
 * Default linker script and upload speed of PlatformIO's espressif8266 boards, from their
 * manifests (platform-espressif8266 boards/<id>.json: build.ldscript, upload.speed).
 * Other boards: board_build.ldscript in the environment names the layout.
 */
export const BOARDS = {
  d1_mini: { ldscript: "eagle.flash.4m1m.ld", speed: 460800 },
  nodemcuv2: { ldscript: "eagle.flash.4m1m.ld", speed: 115200 },
  esp01_1m: { ldscript: "eagle.flash.1m256.ld", speed: 460800 },
} as const satisfies Record<string, { ldscript: string; speed: number }>;

export interface FlashLayout {
  /** The linker script, e.g. eagle.flash.4m1m.ld. */
  ldscript: string;
  /** The chip's flash size the layout is made for, in bytes. */
  flashSize: number;
  /** Flash offset of the EEPROM library's sector: the first credential sector. */
  address: number;
  /**
   * Flash offset of the second credential sector, the 4 KiB below the EEPROM sector that the
   * filesystem leaves unused (its end aligned down to its 8 KiB block); undefined where the
   * layout has no such sector (docs/credential-record.md).
   */
  spare?: number;
  /** The upload speed PlatformIO would use. */
  baud: number;
}

/** Flash size from a linker script's name: eagle.flash.4m1m.ld -> 4 MiB, eagle.flash.512k64.ld -> 512 KiB. */
export function flashSizeOf(ldscript: string): number | undefined {
  const m = /flash\.(\d+)(k|m)/i.exec(ldscript);
  if (!m) return undefined;
  return Number(m[1]) * (m[2].toLowerCase() === "k" ? KIB : MIB);
}

export function hex(address: number): string {
  return `0x${address.toString(16).toUpperCase().padStart(6, "0")}`;
}

/** The layout an environment builds with: its board_build.ldscript, else its board's default. */
export function layoutFor(env: { name: string; board?: string; ldscript?: string; uploadSpeed?: string }): FlashLayout {
  const known = env.board !== undefined && Object.hasOwn(BOARDS, env.board) ? BOARDS[env.board as keyof typeof BOARDS] : undefined;
  const ldscript = env.ldscript ?? known?.ldscript;
  if (ldscript === undefined) {
    throw new EspCertsError(
      `Cannot find the credential sector for [env:${env.name}]`,
      env.board === undefined ? "it names no board" : `esp-certs does not know board ${env.board}'s flash layout`,
      `Name its linker script in [env:${env.name}], e.g. "board_build.ldscript = eagle.flash.4m1m.ld" (known boards: ${Object.keys(BOARDS).join(", ")}).`,
    );
  }
  const flashSize = flashSizeOf(ldscript);
  if (flashSize === undefined) {
    throw new EspCertsError(`Cannot read the flash layout ${ldscript}`, "its name does not say the flash size (eagle.flash.<size><filesystem>.ld)", "Use one of the ESP8266 core's eagle.flash.*.ld scripts.");
  }
  const speed = Number(env.uploadSpeed ?? known?.speed ?? 115200);
  const address = flashSize - FROM_END;
  return { ldscript, flashSize, address, spare: spareSector(flashSize, filesystemSizeOf(ldscript), address), baud: Number.isInteger(speed) && speed > 0 ? speed : 115200 };
}

/** The filesystem's size from a linker script's name: 4m1m -> 1 MiB, 1m256 -> 256 KiB, 4m -> 0. */
export function filesystemSizeOf(ldscript: string): number {
  const m = /flash\.\d+(?:k|m)(\d*)(m?)\.ld$/i.exec(ldscript);
  if (!m || m[1] === "") return 0;
  return Number(m[1]) * (m[2] === "" ? KIB : MIB);
}

/**
 * The sector below the EEPROM sector when nothing else uses it, by the rule of the core's
 * tools/boards.txt.py (3.1.2, flash_map): the filesystem starts `fsSize` before the end of flash
 * (1 MB chips and smaller: before the EEPROM sector), and its end is aligned down to its block,
 * 8 KiB from 512 KiB up, else 4 KiB. OTA updates stop at the filesystem's start.
 */
export function spareSector(flashSize: number, fsSize: number, eeprom: number): number | undefined {
  if (fsSize === 0) return undefined;
  const fsStart = flashSize <= MIB ? eeprom - fsSize : flashSize - fsSize;
  const block = fsSize < 512 * KIB ? 4 * KIB : 8 * KIB;
  const fsEnd = block * Math.floor((eeprom - fsStart) / block) + fsStart;
  return fsEnd <= eeprom - 4 * KIB ? eeprom - 4 * KIB : undefined;
}
