/**
 * Which flash layout an environment links with, and what esp-certs advises
 * (docs/flash-layout.md): its board's default layout becomes esp-certs' variant of it (`init`
 * sets it), so that the device's identity never shares a sector with the EEPROM library; a layout
 * the environment names itself is kept, with the variant to switch to. Pure: platformio.ini's
 * text and environments in, text and words out.
 */
import path from "node:path";
import type { Config } from "../config/config.js";
import { setKeys } from "../config/ini.js";
import { BOARD_LAYOUTS } from "../layout/boards.js";
import { coreLayout, coreScriptName, layoutOfScript, OWN_NAME, ownLayout, ownScriptName, spareSector, type FlashLayout } from "../layout/flash-map.js";

type Env = Config["environments"][number];

export type EnvLayout =
  | { kind: "own"; ldscript: string }
  /** A core layout the environment names, or its board's default (`board_build.ldscript` unset). */
  | { kind: "core" | "default"; ldscript: string; core: FlashLayout }
  | { kind: "unknown"; ldscript?: string };

export function envLayout(env: Env): EnvLayout {
  if (env.ldscript !== undefined) {
    const found = layoutOfScript(env.ldscript);
    // esp-certs' name with a layout it does not have: writing it says which ones there are.
    if (OWN_NAME.test(path.basename(env.ldscript.replace(/\\/g, "/")))) return { kind: "own", ldscript: env.ldscript };
    if (found === undefined) return { kind: "unknown", ldscript: env.ldscript };
    return { kind: "core", ldscript: env.ldscript, core: found.layout };
  }
  const name = env.board !== undefined && Object.hasOwn(BOARD_LAYOUTS, env.board) ? BOARD_LAYOUTS[env.board] : undefined;
  const core = name === undefined ? undefined : coreLayout(name);
  return core === undefined ? { kind: "unknown" } : { kind: "default", ldscript: coreScriptName(core), core };
}

/** What to tell about an environment that does not link with one of esp-certs' layouts. */
export function layoutAdvice(env: Env, layout: EnvLayout): string | undefined {
  if (layout.kind === "core" || layout.kind === "default") {
    const how = layout.kind === "default" ? `builds with board ${env.board}'s default layout, ${layout.ldscript}` : `links with ${layout.ldscript}`;
    const renewal = spareSector(layout.core) === undefined ? " and has no second sector for a renewal in the field" : "";
    return `[env:${env.name}] ${how}: the device's identity shares the EEPROM library's sector${renewal}. "board_build.ldscript = ${ownScriptName(layout.core)}" there gives it two sectors of its own (docs/flash-layout.md).`;
  }
  if (layout.kind === "unknown" && layout.ldscript === undefined) {
    return `esp-certs does not know the flash layout of [env:${env.name}]${env.board ? ` (board ${env.board})` : ""}: set "board_build.ldscript = esp-certs.flash.<layout>.ld" there with your board's layout, e.g. esp-certs.flash.4m1m.ld (docs/flash-layout.md).`;
  }
  return undefined;
}

export interface LayoutChoice {
  env: string;
  ldscript: string;
  /** The filesystem's size before and after, in bytes (0 without one). */
  fsBefore: number;
  fsAfter: number;
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
      if (words !== undefined) advice.push(words);
      continue;
    }
    const own = ownLayout(layout.core);
    const ldscript = ownScriptName(layout.core);
    next = setKeys(next, `env:${env.name}`, [["board_build.ldscript", ldscript]]);
    chosen.push({ env: env.name, ldscript, fsBefore: layout.core.fsEnd - layout.core.fsStart, fsAfter: own.fsEnd - own.fsStart });
  }
  return { text: next, chosen, advice };
}
