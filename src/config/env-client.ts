// Which client an environment builds into its board: a leaf of config/, so that the modules
// config.ts uses (clients.ts, apps.ts) can ask it without importing config.ts back.
import { EspCertsError } from "../errors.js";
import type { Config } from "./types.js";

/**
 * `custom_esp_certs_client = none`: the environment builds a fleet image with no client in its
 * header; each device gets its identity from `esp-certs provision` (docs/credential-record.md).
 */
export const NO_CLIENT = "none";

/** The client whose certificate goes into an environment's header (docs/configuration.md, docs/commands.md). */
export function clientForEnv(config: Config, envName?: string): string {
  const env = envName === undefined ? config.environments[0] : config.environments.find((e) => e.name === envName);
  if (envName !== undefined && env === undefined) {
    const known = config.environments.map((e) => e.name).join(", ");
    throw new EspCertsError(
      `Cannot find environment "${envName}"`,
      known ? `platformio.ini has no [env:${envName}]; its environments are: ${known}` : "platformio.ini has no [env:NAME] section at all",
      known ? "Use one of those names." : `Add one, e.g. "[env:${envName}]" with platform = espressif8266, board = d1_mini, framework = arduino.`,
    );
  }
  return env?.client ?? config.clients[0];
}
