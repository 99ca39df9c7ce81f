import { EspCertsError } from "./errors.js";

/**
 * Terminal output. Colour only on a terminal and never with NO_COLOR (no-color.org);
 * everything goes through these so that --json runs print nothing else on stdout.
 */
const useColour = (stream: NodeJS.WriteStream): boolean =>
  stream.isTTY === true && !("NO_COLOR" in process.env && process.env.NO_COLOR !== "") && process.env.TERM !== "dumb";

const paint = (code: string, stream: NodeJS.WriteStream) => (s: string) =>
  useColour(stream) ? `\x1b[${code}m${s}\x1b[0m` : s;

/** For text that goes to stdout (info): coloured only when stdout is a terminal. */
export const colour = {
  green: paint("32", process.stdout),
  yellow: paint("33", process.stdout),
  red: paint("31", process.stdout),
  dim: paint("2", process.stdout),
  bold: paint("1", process.stdout),
};

// Warnings and errors go to stderr, so that terminal is the one that decides.
const onStderr = { yellow: paint("33", process.stderr), red: paint("31", process.stderr), dim: paint("2", process.stderr) };

/** A line of normal output (stdout). */
export function info(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A remark about the run itself (what is being read, from where): stderr, dimmed. */
export function note(line: string): void {
  process.stderr.write(`${onStderr.dim(line)}\n`);
}

/** A warning: stderr, so that --json output stays parseable. */
export function warn(line: string): void {
  process.stderr.write(`${onStderr.yellow("warning:")} ${line}\n`);
}

/**
 * The one user-facing error as the CLI prints it: `esp-certs: <what>: <why>`, then the fix,
 * on stderr. With --json, a script reading stdout gets it too, as
 * `{"error": {"what", "why", "fix", "exitCode"}}` (docs/commands.md).
 */
export function printError(err: { what: string; why: string; fix?: string; exitCode: number }, opts: { json?: boolean } = {}): void {
  process.stderr.write(`${onStderr.red("esp-certs:")} ${err.what}: ${err.why}\n`);
  if (err.fix) process.stderr.write(`  ${err.fix}\n`);
  if (opts.json) printJson({ error: { what: err.what, why: err.why, fix: err.fix, exitCode: err.exitCode } });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Asks on the terminal without echoing what is typed (a passphrase). readline reads the keys
 * (raw mode, so the terminal does not echo them either; backspace edits) and writes its echo to
 * an output that drops it; the question and the final newline go to stderr.
 */
export async function askHidden(question: string): Promise<string> {
  const readline = await import("node:readline");
  const { Writable } = await import("node:stream");
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  // historySize 0: the answer is not kept in readline's history.
  const rl = readline.createInterface({ input: process.stdin, output: muted, terminal: true, historySize: 0 });
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let answered = false;
    rl.question("", (answer) => {
      answered = true;
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
    // Ctrl+C or Ctrl+D: without these the run ended quietly with exit 0, as if it had succeeded.
    const stop = (why: string) => () => {
      if (answered) return;
      answered = true;
      rl.close();
      process.stderr.write("\n");
      reject(new EspCertsError("Cannot read the CA key passphrase", why, "Run the command again, or set ESP_CERTS_CA_PASSPHRASE."));
    };
    rl.on("SIGINT", stop("interrupted (Ctrl+C)"));
    rl.on("close", stop("no answer (the input ended)"));
  });
}

/** Whether the user can be asked something. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}
