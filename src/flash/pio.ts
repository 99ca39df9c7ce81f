/** Finding and running PlatformIO Core's `pio`. */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EspCertsError, ExitCode } from "../errors.js";

/**
 * `pio` (or its older name `platformio`) on PATH, else where the PlatformIO IDE for VS Code
 * installs it (~/.platformio/penv), which it does not put on PATH.
 */
export function findPio(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string | undefined {
  const windows = platform === "win32";
  const names = windows ? ["pio.exe", "platformio.exe"] : ["pio", "platformio"];
  // Windows allows quoted entries ("C:\Program Files\...") in PATH; cmd.exe strips the quotes.
  const dirs = (env.PATH ?? env.Path ?? "")
    .split(windows ? ";" : ":")
    .map((d) => (windows ? d.replace(/^"(.*)"$/, "$1") : d))
    .filter((d) => d !== "");
  dirs.push(path.join(home, ".platformio", "penv", windows ? "Scripts" : "bin"));
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (windows ? existsSync(candidate) : isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return existsSync(file);
  } catch {
    return false; // not there, or not runnable: either way not a pio we can use
  }
}

export function pioMissing(what = "Cannot build the firmware"): EspCertsError {
  return new EspCertsError(
    what,
    "PlatformIO Core (`pio`) is not on PATH",
    'Install it: "pip install -U platformio" (or see https://docs.platformio.org/en/latest/core/installation/), then open a new terminal.',
  );
}

/**
 * `pio run -e ENV -t upload --upload-port PORT` in the project, its output streamed to the
 * user (to stderr with --json, so that stdout keeps only the verdict).
 */
export function upload(pio: string, opts: { projectDir: string; env: string; port: string; json: boolean }): Promise<void> {
  const args = ["run", "-e", opts.env, "-t", "upload", "--upload-port", opts.port];
  return new Promise((resolve, reject) => {
    const child = spawn(pio, args, { cwd: opts.projectDir, stdio: ["ignore", opts.json ? process.stderr : "inherit", "inherit"] });
    child.once("error", (err) => reject(new EspCertsError(`Cannot run ${pio}`, err.message, "Check the PlatformIO installation: pio --version")));
    child.once("close", (code, signal) => {
      if (code === 0) return resolve();
      reject(
        new EspCertsError(
          `Cannot build and upload the firmware to ${opts.port}`,
          `pio ${args.join(" ")} failed (${signal ?? `exit ${code}`}); its output is above`,
          "For a build error, fix what its message names. If it could not connect to the board, hold FLASH (GPIO0) while pressing RESET, or lower upload_speed in platformio.ini.",
          ExitCode.failed,
        ),
      );
    });
  });
}
