/**
 * `esp-certs flash`: generate, `pio run -t upload`, then monitor the board. Every input is
 * checked (environment, pio, the port) before anything is written or run.
 */
import { clientForEnv, loadConfig } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { generate } from "../generate/generate.js";
import { printReport } from "./print/generate-report.js";
import { lockStore } from "../store/lock.js";
import { runMonitor } from "./print/monitor.js";
import { probePort } from "../serial/open.js";
import { note, printJson, warn } from "../ui.js";
import { findPio, pioMissing, upload } from "../flash/pio.js";

export interface FlashOptions {
  port: string;
  /** Default: PlatformIO's own, the first of default_envs, else the first environment. */
  env?: string;
  /** Monitor after the upload. Default true. */
  monitor?: boolean;
  timeout?: number;
  caPassphraseFile?: string;
  json?: boolean;
  projectDir: string;
}

export async function flash(opts: FlashOptions): Promise<number> {
  if (opts.port.trim() === "") throw new EspCertsError("Cannot flash", "--port is empty", "e.g. --port /dev/ttyUSB0 or --port COM3");
  const config = loadConfig(opts.projectDir);
  const env = opts.env ?? config.defaultEnv;
  if (env === undefined) {
    throw new EspCertsError("Cannot flash", "platformio.ini has no [env:NAME] section to build", 'Add an ESP8266 environment, e.g. "[env:d1_mini]" with platform = espressif8266, board = d1_mini, framework = arduino.');
  }
  const client = clientForEnv(config, env);
  const pio = findPio();
  if (pio === undefined) throw pioMissing();
  await probePort(opts.port);

  const json = opts.json === true;
  // The store's lock for generate only: the upload's `pio run` starts the hook, which takes it too.
  const report = await lockStore(config.projectDir, "flash", () => generate(config, { client, interactive: !json, caPassphraseFile: opts.caPassphraseFile }), { certDir: config.certDir, onWait: note });
  // Quiet when nothing changed; with --json stdout is the verdict's alone.
  if (json) for (const w of report.warnings) warn(w);
  else printReport(report, config.projectDir, { quiet: true });

  await upload(pio, { projectDir: config.projectDir, env, port: opts.port, json });
  if (opts.monitor === false) {
    // --json promises one JSON object on stdout, even with no verdict to give.
    if (json) printJson({ uploaded: true, env, port: opts.port, client });
    return 0;
  }
  return runMonitor({ port: opts.port, timeout: opts.timeout, json, projectDir: opts.projectDir });
}
