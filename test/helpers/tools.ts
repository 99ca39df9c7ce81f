import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { installHint, SYSTEM_TOOLS } from "../../scripts/system-tools.mjs";

/**
 * A test that needs an external tool calls this at the top of its file. Under CI=true a
 * missing tool is a failure, never a silent skip, unless the job names it in
 * ESP_CERTS_TEST_ABSENT (the Windows and macOS jobs of .github/workflows/ci.yml, which have no
 * Debian packages); otherwise it returns false so the caller can `describe.skipIf(!has)`, with
 * the reason printed. A tool the job names counts as absent even where the runner has one (macOS's
 * gcc is clang, without the libraries these tests link).
 */
export function requireTool(tool: string, debianPackage: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const names = [tool, ...debianPackage.split(" ")];
  if (!namedAbsent(names, env) && findOnPath(tool, env) !== undefined) return true;
  return missing(tool, debianPackage, names, env);
}

/** The same for a C header a test compiles against (e.g. <bearssl.h> from libbearssl-dev). */
export function requireHeader(header: string, debianPackage: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const names = [header, ...debianPackage.split(" ")];
  if (namedAbsent(names, env)) return missing(`<${header}>`, debianPackage, names, env);
  const cc = spawnSync("cc", ["-E", "-x", "c", "-"], { input: `#include <${header}>\n`, stdio: ["pipe", "ignore", "ignore"], env });
  if (cc.status === 0) return true;
  return missing(`<${header}>`, debianPackage, names, env);
}

/**
 * For a test of something Windows does not have: POSIX file modes (0600 keys, 0700 folders,
 * umask; README: how the store's keys are protected there) or a pseudo-terminal. There it
 * skips, saying so.
 */
export function requirePosix(what: string): boolean {
  if (process.platform !== "win32") return true;
  console.warn(`SKIPPED: ${what}: POSIX only, Windows has none`);
  return false;
}

/**
 * The names ESP_CERTS_TEST_ABSENT lists (comma-separated tools, headers or Debian packages):
 * what a CI job lacks on purpose.
 */
export function absentOnPurpose(env: NodeJS.ProcessEnv): string[] {
  return (env.ESP_CERTS_TEST_ABSENT ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function namedAbsent(names: string[], env: NodeJS.ProcessEnv): boolean {
  return names.some((n) => absentOnPurpose(env).includes(n));
}

function missing(what: string, debianPackage: string, names: string[], env: NodeJS.ProcessEnv): boolean {
  if (namedAbsent(names, env)) {
    console.warn(`SKIPPED: ${what} is absent on purpose here (ESP_CERTS_TEST_ABSENT)`);
    return false;
  }
  const listed = SYSTEM_TOOLS.find((t) => t.tool === what);
  const message = installHint(listed ?? { tool: what, debian: debianPackage.split(" "), elsewhere: "see its project's site" });
  if (env.CI === "true") throw new Error(message);
  // The global set-up has listed every tool of scripts/system-tools.mjs once already.
  if (!listed) console.warn(`SKIPPED: ${message}`);
  return false;
}

/** Where `tool` is on PATH, as a shell finds it: on Windows also tool.exe, tool.cmd ... (PATHEXT). */
export function findOnPath(tool: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const windows = platform === "win32";
  const dirs = (env.PATH ?? env.Path ?? "").split(windows ? ";" : ":").filter(Boolean);
  // Windows runs "tool" as tool.exe, tool.cmd ...; a file with no extension is not a program there.
  const exts = windows && path.extname(tool) === "" ? (env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").toLowerCase().split(";").filter(Boolean) : [""];
  for (const dir of dirs) {
    for (const ext of exts) {
      const file = path.join(dir.replace(/^"(.*)"$/, "$1"), tool + ext);
      if (isExecutable(file, windows)) return file;
    }
  }
  return undefined;
}

function isExecutable(file: string, windows: boolean): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (!windows) accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The command that runs Python 3, as requireTool decides when there is none: python3, or
 * python, the name the Windows installers and CI's setup-python give it.
 */
export function requirePython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const name of ["python3", "python"]) {
    const r = spawnSync(name, ["-c", "import sys; print(sys.version_info[0])"], { encoding: "utf8", env });
    if (r.status === 0 && r.stdout.trim() === "3") return name;
  }
  missing("python3", "python3", ["python3"], env);
  return undefined;
}
