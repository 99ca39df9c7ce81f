/**
 * Where provision writes an environment's credential record (docs/credential-record.md), from
 * the flash layout it builds with (src/layout/flash-map.ts):
 * - esp-certs' own layout (`esp-certs.flash.<name>.ld`): the two credential sectors of its own;
 * - a core layout whose filesystem leaves the 4 KiB below the EEPROM sector free (4m1m, 2m1m, ...):
 *   that sector and the EEPROM sector;
 * - any other core layout: the EEPROM sector alone (no renewal in the field there).
 */
import { EspCertsError } from "../errors.js";
import { boardLayout } from "../layout/boards.js";
import { coreScriptName, layoutOfScript, LOWER_CASE_WHY, lowerCaseScript, ownScriptName, spareSector } from "../layout/flash-map.js";

/** PlatformIO's upload speed for a board without upload_speed: its manifest's upload.speed, 115200 but for these. */
const UPLOAD_SPEEDS: Readonly<Record<string, number>> = { esp210: 57600 };

export interface ProvisionLayout {
  /** The linker script, e.g. esp-certs.flash.4m1m.ld. */
  ldscript: string;
  /** The chip's flash size the layout is made for, in bytes. */
  flashSize: number;
  /** Flash offset of the first credential sector. */
  address: number;
  /** 2: the record goes in the first and the second is erased; 1: the EEPROM sector alone. */
  sectors: 1 | 2;
  /** Whether the EEPROM library's sector holds the record (a sketch using EEPROM erases it). */
  sharesEeprom: boolean;
  /** esp-certs' own variant of this layout, for the advice to switch to it. */
  own: string;
  /** The upload speed PlatformIO would use. */
  baud: number;
}

export function hex(address: number): string {
  return `0x${address.toString(16).toUpperCase().padStart(6, "0")}`;
}

/** The layout an environment builds with: its board_build.ldscript, else its board's default. */
export function layoutFor(env: { name: string; board?: string; ldscript?: string; uploadSpeed?: string }): ProvisionLayout {
  const known = boardLayout(env.board);
  const ldscript = env.ldscript ?? (known === undefined ? undefined : coreScriptName(known));
  if (ldscript === undefined) {
    throw new EspCertsError(
      `Cannot find the credential sectors for [env:${env.name}]`,
      env.board === undefined ? "it names no board" : `esp-certs does not know board ${env.board}'s flash layout`,
      `Name its linker script in [env:${env.name}], e.g. "board_build.ldscript = esp-certs.flash.4m1m.ld" for a board with 4 MB of flash (docs/flash-layout.md lists them).`,
    );
  }
  const found = layoutOfScript(ldscript);
  const lower = lowerCaseScript(ldscript);
  if (lower !== undefined) throw new EspCertsError(`Cannot read the flash layout ${ldscript} of [env:${env.name}]`, LOWER_CASE_WHY, `Write it in lower case: board_build.ldscript = ${lower}`);
  if (found === undefined) {
    throw new EspCertsError(
      `Cannot read the flash layout ${ldscript} of [env:${env.name}]`,
      "it is not one of the ESP8266 core's eagle.flash.*.ld scripts or esp-certs' own esp-certs.flash.*.ld",
      "Use esp-certs' variant of your board's layout, e.g. board_build.ldscript = esp-certs.flash.4m1m.ld (docs/flash-layout.md).",
    );
  }
  const { layout } = found;
  const speed = Number(env.uploadSpeed ?? (env.board !== undefined && Object.hasOwn(UPLOAD_SPEEDS, env.board) ? UPLOAD_SPEEDS[env.board] : 115200));
  const baud = Number.isInteger(speed) && speed > 0 ? speed : 115200;
  const common = { ldscript, flashSize: layout.flashSize, own: ownScriptName(layout), baud };
  if (layout.cred !== undefined) return { ...common, address: layout.cred, sectors: 2, sharesEeprom: false };
  const spare = spareSector(layout);
  return spare === undefined ? { ...common, address: layout.eeprom, sectors: 1, sharesEeprom: true } : { ...common, address: spare, sectors: 2, sharesEeprom: true };
}
