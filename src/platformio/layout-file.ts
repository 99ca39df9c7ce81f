/**
 * esp-certs' own linker scripts in a project (docs/flash-layout.md): an environment whose
 * `board_build.ldscript` names `esp-certs.flash.<layout>.ld` gets that file beside
 * platformio.ini, written by `init` and kept by the pre-build hook. PlatformIO runs the build
 * from the project folder, so the bare name finds it. A file of that name that esp-certs did not
 * write is never replaced. Part of the hook's no-op path: no template engine.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { sameBytes, syncFile, type WantedFile } from "../fs/sync.js";
import { CORE_LAYOUTS, layoutOfScript, OWN_NAME } from "../layout/flash-map.js";
import { LDSCRIPT_MARKER, renderLdScript } from "../layout/ldscript.js";

/** The own linker scripts the named environment (or every environment) builds with. */
export function layoutFiles(config: Config, envName?: string): WantedFile[] {
  const wanted = new Map<string, WantedFile>();
  for (const env of config.environments) {
    if ((envName !== undefined && env.name !== envName) || env.ldscript === undefined) continue;
    const base = path.basename(env.ldscript.replace(/\\/g, "/"));
    if (!OWN_NAME.test(base)) continue;
    const found = layoutOfScript(base);
    if (found === undefined) {
      throw new EspCertsError(
        `Cannot write ${env.ldscript} for [env:${env.name}]`,
        "esp-certs has no flash layout of that name",
        `Name your board's: esp-certs.flash.<layout>.ld with one of the core's layouts (${CORE_LAYOUTS.map((l) => l.name).join(", ")}), e.g. esp-certs.flash.4m1m.ld for 4 MB of flash with 1 MB of filesystem.`,
      );
    }
    const file = path.resolve(config.projectDir, env.ldscript);
    wanted.set(file, { path: file, content: renderLdScript(found.layout) });
  }
  return [...wanted.values()];
}

/** Why the hook has layout work to do for this environment, or undefined. */
export function layoutNeedsWork(config: Config, envName: string): string | undefined {
  const stale = layoutFiles(config, envName).find((f) => !sameBytes(f));
  return stale === undefined ? undefined : `${path.relative(config.projectDir, stale.path)} is not the flash layout esp-certs writes`;
}

/** Refuses, before anything is written, a file in the way of an own linker script. */
export function checkLayoutFiles(config: Config, envName?: string): WantedFile[] {
  const files = layoutFiles(config, envName);
  for (const f of files) {
    if (existsSync(f.path) && !readFileSync(f.path, "utf8").startsWith(LDSCRIPT_MARKER)) {
      throw new EspCertsError(
        `Cannot write ${path.relative(config.projectDir, f.path)}`,
        "a file of that name is there, and esp-certs did not write it",
        "Rename your own linker script (board_build.ldscript names it), or move it away so that esp-certs can write its layout there.",
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
