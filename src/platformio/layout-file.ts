/**
 * esp-certs' own linker scripts in a project (docs/flash-layout.md): an environment whose
 * `board_build.ldscript` names `esp-certs.flash.<layout>.ld` gets that file beside
 * platformio.ini, written by `init` and kept by the pre-build hook. PlatformIO runs the build
 * from the project folder, so the bare name finds it. A file of that name that esp-certs did not
 * write is never replaced. Part of the hook's no-op path: no template engine.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { readNamed } from "../fs/read.js";
import { sameBytes, syncFile, type WantedFile } from "../fs/sync.js";
import { boardLayout } from "../layout/boards.js";
import { CORE_LAYOUTS, isOwnScriptName, layoutOfScript, LOWER_CASE_WHY, lowerCaseScript, ownScriptName, scriptBaseName } from "../layout/flash-map.js";
import { LDSCRIPT_MARKER, renderLdScript } from "../layout/ldscript.js";

/** SCons's variable for the project folder, which PlatformIO expands in board_build.ldscript. */
const PROJECT_DIR_VAR = /^\$(\{PROJECT_DIR\}|PROJECT_DIR)(?=[\\/]|$)/;

/** The own linker scripts the named environment (or every environment) builds with. */
export function layoutFiles(config: Config, envName?: string): WantedFile[] {
  const wanted = new Map<string, WantedFile>();
  for (const env of config.environments) {
    if ((envName !== undefined && env.name !== envName) || env.ldscript === undefined) continue;
    if (!isOwnScriptName(env.ldscript)) continue;
    const base = scriptBaseName(env.ldscript);
    const found = layoutOfScript(base);
    const lower = lowerCaseScript(env.ldscript);
    if (lower !== undefined) throw new EspCertsError(`Cannot write ${env.ldscript} for [env:${env.name}]`, LOWER_CASE_WHY, `Write it in lower case: board_build.ldscript = ${lower}`);
    if (found === undefined) {
      const usual = boardLayout(env.board);
      const example = usual === undefined ? "esp-certs.flash.4m1m.ld for 4 MB of flash with 1 MB of filesystem" : `${ownScriptName(usual)} for board ${env.board}'s default layout`;
      throw new EspCertsError(
        `Cannot write ${env.ldscript} for [env:${env.name}]`,
        "esp-certs has no flash layout of that name",
        `Name esp-certs.flash.<layout>.ld with <layout> one of the core's layouts (${CORE_LAYOUTS.map((l) => l.name).join(", ")}), e.g. ${example}.`,
      );
    }
    const file = path.resolve(config.projectDir, env.ldscript.replace(PROJECT_DIR_VAR, "."));
    wanted.set(file, { path: file, content: renderLdScript(found.layout) });
  }
  return [...wanted.values()];
}

/** Why the hook has layout work to do for this environment, or undefined. */
export function layoutNeedsWork(config: Config, envName: string): string | undefined {
  const stale = layoutFiles(config, envName).find((f) => !sameBytes(f));
  return stale === undefined ? undefined : `${path.relative(config.projectDir, stale.path)} is not the flash layout esp-certs writes`;
}

/** Whether the linker script at `file` is esp-certs' (its first line); a folder in its place is an error that names it. */
export function writtenByEspCerts(file: string): boolean {
  return readNamed(file, "utf8").startsWith(LDSCRIPT_MARKER);
}

/** What to do about someone else's file where esp-certs' linker script goes (init chose the name, or an environment names it). */
export const foreignFileFix = (rel: string) =>
  `Move your ${rel} away, or rename it (and board_build.ldscript where an environment names it), so that esp-certs can write its layout there.`;

/** Refuses, before anything is written, a file in the way of an own linker script. */
export function checkLayoutFiles(config: Config, envName?: string): WantedFile[] {
  const files = layoutFiles(config, envName);
  for (const f of files) {
    if (existsSync(f.path) && !writtenByEspCerts(f.path)) {
      throw new EspCertsError(
        `Cannot write ${path.relative(config.projectDir, f.path)}`,
        "a file of that name is there, and esp-certs did not write it",
        foreignFileFix(path.relative(config.projectDir, f.path)),
      );
    }
  }
  return files;
}

/** Writes the environments' own linker scripts that differ; returns the files it wrote. */
export function syncLayoutFiles(config: Config, envName?: string): string[] {
  return checkLayoutFiles(config, envName)
    .filter((f) => syncFile(f))
    .map((f) => f.path);
}
