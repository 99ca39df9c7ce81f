/**
 * Which flash layout an environment links with, and what esp-certs advises
 * (docs/flash-layout.md): its board's default layout becomes esp-certs' variant of it (`init`
 * sets it), so that the device's identity never shares a sector with the EEPROM library; a layout
 * the environment names itself is kept, with the variant to switch to. Pure: platformio.ini's
 * text and environments in, text and words out.
 */
import type { Config } from "../config/config.js";
import { setKeys } from "../config/ini.js";
import { boardLayout } from "../layout/boards.js";
import { coreScriptName, isOwnScriptName, layoutOfScript, ownLayout, ownScriptName, spareSector, type FlashLayout } from "../layout/flash-map.js";

type Env = Config["environments"][number];

export type EnvLayout =
  /** Not an ESP8266 environment (platform = native, espressif32, ...): no flash layout of esp-certs' concern. */
  | { kind: "other" }
  | { kind: "own"; ldscript: string }
  /** A core layout the environment names, or its board's default (`board_build.ldscript` unset). */
  | { kind: "core" | "default"; ldscript: string; core: FlashLayout }
  | { kind: "unknown"; ldscript?: string };

/**
 * Whether the environment builds for another platform than espressif8266 (a `native` test
 * environment, an ESP32 one). Any spelling of the ESP8266 platform counts as it (`espressif8266@4.2.1`,
 * `platformio/espressif8266`, a fork's URL), and so does a value esp-certs cannot read (`${...}`).
 */
function otherPlatform(env: Env): boolean {
  return env.platform !== undefined && !/espressif8266|\$\{/i.test(env.platform);
}

export function envLayout(env: Env): EnvLayout {
  if (otherPlatform(env)) return { kind: "other" };
  if (env.ldscript !== undefined) {
    const found = layoutOfScript(env.ldscript);
    // esp-certs' name with a layout it does not have: writing it says which ones there are.
    if (isOwnScriptName(env.ldscript)) return { kind: "own", ldscript: env.ldscript };
    if (found === undefined) return { kind: "unknown", ldscript: env.ldscript };
    return { kind: "core", ldscript: env.ldscript, core: found.layout };
  }
  const core = boardLayout(env.board);
  return core === undefined ? { kind: "unknown" } : { kind: "default", ldscript: coreScriptName(core), core };
}

/** What to tell about an environment that does not link with one of esp-certs' layouts, and what to do. */
export function layoutAdvice(env: Env, layout: EnvLayout): { text: string; fix: string } | undefined {
  if (layout.kind === "core" || layout.kind === "default") {
    const how = layout.kind === "default" ? `builds with board ${env.board}'s default layout, ${layout.ldscript}` : `links with ${layout.ldscript}`;
    // With the spare sector, provision's record sits below EEPROM's sector, and renewals alternate into it.
    const shared =
      spareSector(layout.core) === undefined
        ? "the device's identity is in the EEPROM library's sector (a sketch writing EEPROM erases it), and there is no second sector for a renewal in the field"
        : "one of the device's two credential sectors is the EEPROM library's (a sketch writing EEPROM erases a renewal stored there, and a renewal overwrites the sketch's EEPROM data)";
    return { text: `[env:${env.name}] ${how}: ${shared}`, fix: `Set "board_build.ldscript = ${ownScriptName(layout.core)}" in [env:${env.name}]: two sectors of its own (docs/flash-layout.md).` };
  }
  if (layout.kind === "unknown" && layout.ldscript === undefined) {
    return {
      text: `esp-certs does not know the flash layout of [env:${env.name}]${env.board ? ` (board ${env.board})` : ""}`,
      fix: `Set "board_build.ldscript = esp-certs.flash.<layout>.ld" in [env:${env.name}] with your board's layout, e.g. esp-certs.flash.4m1m.ld for 4 MB of flash (docs/flash-layout.md).`,
    };
  }
  return undefined;
}

/**
 * A layout made for more flash than the environment's board has by default (a changed board that
 * kept its ldscript, or one inherited from [env]): the record would land outside the chip.
 */
export function layoutTooLarge(env: Env, layoutFlash: number): string | undefined {
  const board = boardLayout(env.board);
  if (board === undefined || layoutFlash <= board.flashSize) return undefined;
  return `[env:${env.name}] links with ${env.ldscript}, made for ${layoutFlash / 2 ** 20} MB of flash; board ${env.board} has ${board.flashSize / 2 ** 20} MB (its default layout is ${coreScriptName(board)}): a board with less flash than the layout has no room for the identity where the firmware looks`;
}

export interface LayoutChoice {
  env: string;
  ldscript: string;
  /** The filesystem's size before and after, in bytes (0 without one). */
  fsBefore: number;
  fsAfter: number;
  /** The sketch's room before and after, in bytes: smaller only on 1 MB and 512 KB layouts without a filesystem. */
  sketchBefore: number;
  sketchAfter: number;
}

/** `init`'s edit: each environment on its board's default layout gets esp-certs' variant of it. */
export function withOwnLayouts(text: string, environments: Env[]): { text: string; chosen: LayoutChoice[]; advice: string[] } {
  const chosen: LayoutChoice[] = [];
  const advice: string[] = [];
  let next = text;
  for (const env of environments) {
    const layout = envLayout(env);
    if (layout.kind !== "default") {
      const words = layoutAdvice(env, layout);
      if (words !== undefined) advice.push(`${words.text}. ${words.fix}`);
      continue;
    }
    const own = ownLayout(layout.core);
    const ldscript = ownScriptName(layout.core);
    next = setKeys(next, `env:${env.name}`, [["board_build.ldscript", ldscript]]);
    chosen.push({ env: env.name, ldscript, fsBefore: layout.core.fsEnd - layout.core.fsStart, fsAfter: own.fsEnd - own.fsStart, sketchBefore: layout.core.sketchEnd, sketchAfter: own.sketchEnd });
  }
  return { text: next, chosen, advice };
}
