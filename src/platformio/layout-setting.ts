/**
 * `init`'s choice of flash layout per environment (docs/flash-layout.md): an environment that
 * builds with its board's default layout gets esp-certs' variant of it, so that the device's
 * identity never shares a sector with the EEPROM library. An environment that names a layout
 * of its own keeps it, and is told what to change. Pure: platformio.ini's text in and out.
 */
import type { Config } from "../config/config.js";
import { setKeys } from "../config/ini.js";
import { BOARD_LAYOUTS } from "../layout/boards.js";
import { coreLayout, layoutOfScript, ownLayout, ownScriptName, spareSector } from "../layout/flash-map.js";

export interface LayoutChoice {
  env: string;
  ldscript: string;
  /** The filesystem's size before and after, in bytes (0 without one). */
  fsBefore: number;
  fsAfter: number;
}

export function withOwnLayouts(text: string, environments: Config["environments"]): { text: string; chosen: LayoutChoice[]; advice: string[] } {
  const chosen: LayoutChoice[] = [];
  const advice: string[] = [];
  let next = text;
  for (const env of environments) {
    if (env.ldscript !== undefined) {
      const found = layoutOfScript(env.ldscript);
      if (found?.kind === "core") {
        const renewal = spareSector(found.layout) === undefined ? " and has no second sector for a renewal in the field" : "";
        advice.push(`[env:${env.name}] links with ${env.ldscript}: the device's identity shares the EEPROM library's sector${renewal}. "board_build.ldscript = ${ownScriptName(found.layout)}" there gives it two sectors of its own (docs/flash-layout.md).`);
      }
      continue;
    }
    const layoutName = env.board !== undefined && Object.hasOwn(BOARD_LAYOUTS, env.board) ? BOARD_LAYOUTS[env.board] : undefined;
    const core = layoutName === undefined ? undefined : coreLayout(layoutName);
    if (core === undefined) {
      advice.push(`esp-certs does not know the flash layout of [env:${env.name}]${env.board ? ` (board ${env.board})` : ""}: set "board_build.ldscript = esp-certs.flash.<layout>.ld" there with your board's layout, e.g. esp-certs.flash.4m1m.ld (docs/flash-layout.md).`);
      continue;
    }
    const own = ownLayout(core);
    const ldscript = ownScriptName(core);
    next = setKeys(next, `env:${env.name}`, [["board_build.ldscript", ldscript]]);
    chosen.push({ env: env.name, ldscript, fsBefore: core.fsEnd - core.fsStart, fsAfter: own.fsEnd - own.fsStart });
  }
  return { text: next, chosen, advice };
}

