/**
 * esp-certs' own client at the broker (docs/renewal.md): `push` and `status --live` connect
 * as it. It is an app (it may use every topic), issued by `generate` beside the configured
 * clients, and never goes into a header or a Node-RED flow.
 */
import type { Config } from "./types.js";


export const APP_ID = "esp-certs";

/** Whether `id` is an app (esp-certs' own client, or one of `apps`), not a device. */
export function isApp(config: Pick<Config, "apps">, id: string): boolean {
  return id === APP_ID || config.apps.includes(id);
}
