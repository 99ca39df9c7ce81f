import { EspCertsError } from "../errors.js";

/** "ADDR", "ADDR:PORT" or "[v6]:PORT"; the defaults fill what is not given. */
export function parseAddress(value: string | undefined, host: string, port: number): { host: string; port: number } {
  if (value === undefined) return { host, port };
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(value.trim());
  const p = m?.[3] === undefined ? port : Number(m[3]);
  if (!m || !(p > 0 && p < 65536)) {
    throw new EspCertsError(`Cannot use --broker-address ${value}`, "it is not ADDR or ADDR:PORT", "e.g. --broker-address 127.0.0.1:8883");
  }
  return { host: m[1] ?? m[2], port: p };
}
