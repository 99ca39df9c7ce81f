/**
 * The flasher: esptool, the copy PlatformIO's own `pio run -t upload` runs for the ESP8266
 * (its package platformio/tool-esptoolpy), started through `pio pkg exec` so that the user
 * needs nothing beyond the PlatformIO they build with. The operations as plain functions,
 * as esptool's own cmds.py has them; the output streams to the user and is kept for parsing.
 */
import { spawn } from "node:child_process";
import { EspCertsError, ExitCode } from "../errors.js";

export const ESPTOOL_PACKAGE = "platformio/tool-esptoolpy";

export interface Flasher {
  /** PlatformIO Core's `pio`. */
  pio: string;
  port: string;
  baud: number;
  /** With --json the flasher's output goes to stderr, so that stdout keeps the JSON. */
  json: boolean;
}

/** The arguments of `pio pkg exec` running one esptool command. */
export function esptoolArgs(f: Flasher, after: "no_reset" | "hard_reset", command: string[]): string[] {
  return ["pkg", "exec", "--package", ESPTOOL_PACKAGE, "--", "esptool.py", "--chip", "esp8266", "--port", f.port, "--baud", String(f.baud), "--before", "default_reset", "--after", after, ...command];
}

function run(f: Flasher, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(f.pio, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const out = f.json ? process.stderr : process.stdout;
    const keep = (d: Buffer) => {
      output += d.toString("utf8");
      out.write(d);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString("utf8");
      process.stderr.write(d);
    });
    child.once("error", (err) => reject(new EspCertsError(`Cannot run ${f.pio}`, err.message, "Check the PlatformIO installation: pio --version")));
    child.once("close", (code) => resolve({ code, output }));
  });
}

function failed(what: string, f: Flasher, output: string): EspCertsError {
  const noPackage = /tool-esptoolpy|Could not find the package|UnknownPackageError/i.test(output) && !/esptool\.py v/i.test(output);
  return new EspCertsError(
    what,
    noPackage ? `PlatformIO has no ${ESPTOOL_PACKAGE} package yet` : `esptool failed on ${f.port}; its output is above`,
    noPackage
      ? `Install it once with "pio pkg install --tool ${ESPTOOL_PACKAGE}" (or build any ESP8266 environment once: pio run).`
      : "If it could not connect, hold FLASH (GPIO0) while pressing RESET and try again, or lower upload_speed in platformio.ini.",
    ExitCode.failed,
  );
}

/** "Detected flash size: 4MB" -> bytes; undefined when esptool could not tell. */
export function parseFlashSize(output: string): number | undefined {
  const m = /Detected flash size:\s*(\d+)\s*(KB|MB)/i.exec(output);
  if (!m) return undefined;
  return Number(m[1]) * (m[2].toUpperCase() === "KB" ? 1024 : 1024 * 1024);
}

/** The chip's flash size, from its flash id. */
export async function readFlashSize(f: Flasher): Promise<number | undefined> {
  const r = await run(f, esptoolArgs(f, "no_reset", ["flash_id"]));
  if (r.code !== 0) throw failed(`Cannot read the flash chip of the board on ${f.port}`, f, r.output);
  return parseFlashSize(r.output);
}

/** Writes `file` at `address` (esptool erases the 4 KiB sectors it writes, no others). */
export async function writeFlash(f: Flasher, address: number, file: string): Promise<void> {
  const r = await run(f, esptoolArgs(f, "no_reset", ["write_flash", `0x${address.toString(16)}`, file]));
  if (r.code !== 0) throw failed(`Cannot write the credential record to the board on ${f.port}`, f, r.output);
}

/**
 * Reads the region back as an MD5 digest computed by the chip (esptool verify_flash) and
 * compares it with `file`; then resets the board into the firmware. False on a mismatch.
 */
export async function verifyFlash(f: Flasher, address: number, file: string): Promise<boolean> {
  const r = await run(f, esptoolArgs(f, "hard_reset", ["verify_flash", `0x${address.toString(16)}`, file]));
  if (r.code === 0 && /verify OK/i.test(r.output)) return true;
  if (/verify FAILED|digest mismatch/i.test(r.output)) return false;
  throw failed(`Cannot read back the credential record from the board on ${f.port}`, f, r.output);
}
