// Rules about the client ids of [esp_certs] that more than one command applies.
import { clientForEnv, type Config } from "./config.js";

/**
 * Node-RED's client by default: the first of `clients` that no PlatformIO environment
 * puts on a device (dev02 with the defaults). Sharing the device's id would make the
 * broker drop one connection each time the other connects.
 */
export function defaultAppClient(config: Config): string | undefined {
  const onDevices = new Set([clientForEnv(config), ...config.environments.map((e) => e.client).filter((c) => c !== undefined)]);
  return config.clients.find((c) => !onDevices.has(c));
}
