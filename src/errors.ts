/** Exit codes of every command (SPEC §5). */
export const ExitCode = {
  ok: 0,
  /** A check, or the device, reported a failure. */
  failed: 1,
  /** Bad input, usage, configuration or port error; nothing was written. */
  usage: 2,
  /** Timed out without a verdict. */
  timeout: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one user-facing error. Library code throws it; only the CLI entry catches it,
 * prints `esp-certs: <what>: <why>` and the fix, and exits with `exitCode`.
 */
export class EspCertsError extends Error {
  constructor(
    /** What could not be done, e.g. "Cannot issue the broker certificate". */
    readonly what: string,
    /** Why, in words the user can act on. */
    readonly why: string,
    /** The next step, e.g. `Run "esp-certs generate --new-ca"`. */
    readonly fix?: string,
    readonly exitCode: ExitCodeValue = ExitCode.usage,
  ) {
    super(`${what}: ${why}`);
    this.name = "EspCertsError";
  }
}
