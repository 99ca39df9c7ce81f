/**
 * The esp-certs device library (firmware/lib/esp-certs in the package) in a user's project:
 * `<lib_dir>/esp-certs`, where PlatformIO finds it. `init` installs it; `init`, `generate` and the
 * hook keep it in step with the installed esp-certs. A marker file in the installed folder
 * records what esp-certs wrote there, so a copy the user changed is told apart and left alone.
 */
import { sha256Hex } from "../units.js";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { platformioDir, platformioIniPath } from "../config/config.js";
import { parseIni } from "../config/ini.js";
import { writeIfChanged } from "../fs/sync.js";
import { packageFile } from "../render/package-files.js";

export const LIBRARY_NAME = "esp-certs";
/** In the installed folder: the version and the SHA-256 of every file esp-certs wrote there. */
export const LIBRARY_MARKER = ".esp-certs-library.json";
const PACKAGED = `firmware/lib/${LIBRARY_NAME}`;

interface Marker {
  version: string;
  files: Record<string, string>;
}

export type LibraryState =
  /** The package's own folder (this repository builds its sketch from it). */
  | { kind: "self"; dir: string }
  | { kind: "absent"; dir: string }
  /** A folder of that name esp-certs did not write. */
  | { kind: "foreign"; dir: string }
  | { kind: "current"; dir: string; version: string }
  /** Written by esp-certs, unchanged since, and not what this esp-certs ships. */
  | { kind: "outdated"; dir: string; version: string }
  /** Written by esp-certs, then changed by the user: `edited` lists the changed files. */
  | { kind: "edited"; dir: string; version: string; edited: string[]; behind: boolean };

/** `<lib_dir>/esp-certs` ([platformio] lib_dir, PlatformIO's default `lib`). */
export function libraryDir(projectDir: string): string {
  const ini = platformioIniPath(projectDir);
  const text = existsSync(ini) ? readFileSync(ini, "utf8") : "";
  return path.join(platformioDir(projectDir, parseIni(text), "lib_dir", "lib"), LIBRARY_NAME);
}

/** The library as this esp-certs ships it: relative path (with /) -> SHA-256. */
function packaged(): { root: string; files: Record<string, string> } {
  const root = packageFile(PACKAGED);
  const files: Record<string, string> = {};
  for (const rel of readdirSync(root, { recursive: true, encoding: "utf8" }).sort()) {
    const file = path.join(root, rel);
    if (rel.split(path.sep).includes(LIBRARY_MARKER) || !isFile(file)) continue;
    files[rel.split(path.sep).join("/")] = sha256Hex(readFileSync(file));
  }
  return { root, files };
}

/** The files whose change can change what libraryState says (for the hook's stamp). */
export function libraryInputs(projectDir: string): string[] {
  const dir = libraryDir(projectDir);
  const { root, files } = packaged();
  const marker = readMarker(dir);
  const installed = marker === undefined ? [] : Object.keys(marker.files).map((f) => path.join(dir, f));
  return [...Object.keys(files).map((f) => path.join(root, f)), path.join(dir, LIBRARY_MARKER), ...installed];
}

export function libraryState(projectDir: string): LibraryState {
  const dir = libraryDir(projectDir);
  const { root, files } = packaged();
  if (!existsSync(dir)) return { kind: "absent", dir };
  if (realpathSync(dir) === realpathSync(root)) return { kind: "self", dir };
  const marker = readMarker(dir);
  if (marker === undefined) return { kind: "foreign", dir };
  // A file is the user's change only when it is neither what was recorded nor what ships now
  // (an update cut short leaves some files new, some old: not an edit).
  const edited = Object.entries(marker.files)
    .filter(([rel, sha]) => {
      const file = path.join(dir, rel);
      if (!existsSync(file)) return true;
      const now = sha256Hex(readFileSync(file));
      return now !== sha && now !== files[rel];
    })
    .map(([rel]) => rel);
  const behind = !isDeepStrictEqual(marker.files, files);
  if (edited.length > 0) return { kind: "edited", dir, version: marker.version, edited, behind };
  return behind || !installedAsShipped(dir, files) ? { kind: "outdated", dir, version: marker.version } : { kind: "current", dir, version: marker.version };
}

function installedAsShipped(dir: string, files: Record<string, string>): boolean {
  return Object.entries(files).every(([rel, sha]) => {
    const file = path.join(dir, rel);
    return existsSync(file) && sha256Hex(readFileSync(file)) === sha;
  });
}

/** Whether the hook has something to do about the library (an update, or news of one it cannot make). */
export function libraryNeedsWork(state: LibraryState): boolean {
  return state.kind === "outdated" || (state.kind === "edited" && state.behind);
}

export interface LibrarySync {
  /** The folder written and its version change, for the command's output; undefined when nothing was written. */
  done?: string;
  /** Why it was left alone and how to update it; undefined when there is nothing to say. */
  warning?: string;
}

/**
 * Brings the installed library in step with this esp-certs. `install`: also when it is absent
 * (init); otherwise only a copy esp-certs wrote is refreshed. Never touches a file it did not write.
 */
export function syncLibrary(projectDir: string, opts: { install: boolean }): LibrarySync {
  const state = libraryState(projectDir);
  const rel = path.relative(projectDir, state.dir) || state.dir;
  const version = packageVersion();
  switch (state.kind) {
    case "self":
    case "current":
      return {};
    case "absent":
      if (!opts.install) return {};
      write(state.dir, undefined);
      return { done: `${rel} (${version})` };
    case "outdated":
      write(state.dir, readMarker(state.dir));
      return { done: `${rel} (${state.version} -> ${version})` };
    case "foreign":
      return opts.install
        ? { warning: `${rel} was not installed by esp-certs: left as it is. To use esp-certs' own, move that folder away and run "esp-certs init" again.` }
        : {};
    case "edited":
      if (!state.behind) return {};
      return {
        warning:
          `${rel} has your changes (${state.edited.join(", ")}): left as it is, at esp-certs ${state.version}. ` +
          `To take esp-certs ${version}'s library, move your changes out of ${rel}, delete it, and run "esp-certs init".`,
      };
  }
}

/** Copies the packaged library over `dir`, removes what an earlier install wrote and this one does not ship, then the marker. */
function write(dir: string, previous: Marker | undefined): void {
  const { root, files } = packaged();
  for (const rel of Object.keys(files)) {
    const target = path.join(dir, ...rel.split("/"));
    mkdirSync(path.dirname(target), { recursive: true });
    writeIfChanged(target, readFileSync(path.join(root, ...rel.split("/"))));
  }
  for (const [rel, sha] of Object.entries(previous?.files ?? {})) {
    const target = path.join(dir, ...rel.split("/"));
    if (!(rel in files) && existsSync(target) && sha256Hex(readFileSync(target)) === sha) rmSync(target);
  }
  const marker: Marker = { version: packageVersion(), files };
  writeIfChanged(path.join(dir, LIBRARY_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
}

function readMarker(dir: string): Marker | undefined {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, LIBRARY_MARKER), "utf8")) as Partial<Marker>;
    if (typeof m.version !== "string" || typeof m.files !== "object" || m.files === null) return undefined;
    return { version: m.version, files: m.files as Record<string, string> };
  } catch {
    return undefined;
  }
}

/** The installed esp-certs' version (package.json ships in every install). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version: string }).version;
}

function isFile(p: string): boolean {
  return statSync(p).isFile();
}

