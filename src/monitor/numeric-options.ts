// The monitor's numeric flags (--baud, --timeout of monitor, flash and provision), parsed once
// where commander reads the command line, so that the commands below get numbers. Bad input is
// refused there (exit 2), before any port is opened or file written.
import { EspCertsError } from "../errors.js";

export const DEFAULT_BAUD = 115200;
export const DEFAULT_TIMEOUT_S = 90;
/** Node's timers hold at most 2^31 ms; a day is more than any board needs. */
const MAX_TIMEOUT_S = 86_400;

function positiveNumber(text: string, flag: string, example: number, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new EspCertsError(`Cannot use ${flag} ${text}`, `it must be a positive ${integer ? "whole " : ""}number`, `e.g. ${flag} ${example}`);
  }
  return n;
}

/** `--baud <rate>`: a positive whole number. */
export function parseBaud(text: string): number {
  return positiveNumber(text, "--baud", DEFAULT_BAUD, true);
}

/** `--timeout <seconds>`: a positive number of seconds (fractions allowed), at most a day. */
export function parseTimeout(text: string): number {
  const s = positiveNumber(text, "--timeout", DEFAULT_TIMEOUT_S, false);
  if (s > MAX_TIMEOUT_S) throw new EspCertsError(`Cannot use --timeout ${text}`, `it must be at most ${MAX_TIMEOUT_S} s (a day)`, `e.g. --timeout ${DEFAULT_TIMEOUT_S}`);
  return s;
}
