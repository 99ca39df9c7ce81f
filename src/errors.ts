/** Exit codes of every command (docs/commands.md). */
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

const SYSTEM_WHY: Record<string, [why: string, fix: string]> = {
  EACCES: ["permission denied", "Check the owner and permissions of that path, or run esp-certs as its owner."],
  EPERM: ["the operation is not permitted", "Check the owner and permissions of that path; on Windows, that no other program holds it."],
  EROFS: ["the file system is read-only", "Run esp-certs in a project on a writable disk."],
  ENOSPC: ["the disk is full", "Free some space and run it again."],
  ENOTDIR: ["a part of that path is a file, not a folder", "Move that file away, or set another cert_dir / header in [esp_certs]."],
  EISDIR: ["it is a folder, not a file", "Move that folder away, or name another path."],
  // A recursive mkdir reports a read-only disk as ENOENT: the folder above could not be made.
  ENOENT: ["a folder above it could not be made (a read-only disk?)", "Run esp-certs in a project on a writable disk."],
  EBUSY: ["another program has it open", "Close that program (an editor, a broker, an antivirus scan) and run it again."],
  EDQUOT: ["the disk quota is used up", "Free some space, or ask for a larger quota, and run it again."],
  EIO: ["the disk reported an input/output error", "Check the disk or its connection (a USB stick, a network share), then run it again: the file written before stays as it was."],
};
const SYSCALL_VERB: Record<string, string> = {
  open: "open",
  mkdir: "create the folder",
  scandir: "read the folder",
  rename: "move a file to",
  chmod: "set the permissions of",
  unlink: "remove",
  write: "write",
  fsync: "write",
  read: "read",
};

/**
 * A file system error (permission, read-only disk, a file where a folder belongs) as the
 * one user-facing error, naming the path; undefined for anything else, which is a bug.
 */
export function fromSystemError(err: unknown): EspCertsError | undefined {
  const e = err as NodeJS.ErrnoException;
  // A missing file elsewhere is a bug to report, not a message to print.
  const known = typeof e?.code === "string" && !(e.code === "ENOENT" && e.syscall !== "mkdir") ? SYSTEM_WHY[e.code] : undefined;
  if (known === undefined || typeof e.path !== "string") return undefined;
  const verb = SYSCALL_VERB[e.syscall ?? ""] ?? "use";
  return new EspCertsError(`Cannot ${verb} ${e.path}`, known[0], known[1]);
}
