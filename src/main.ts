// The bin entry. `esp-certs hook` runs before every `pio run`; in the one form the
// PlatformIO script passes, it is read here, so that a build with nothing to do loads
// neither commander nor any other command's code. Everything else goes to cli.ts.
import { EspCertsError, fromSystemError } from "./errors.js";
import { hookArgv, hookCommand } from "./commands/hook.js";
import { printError } from "./ui.js";

// `esp-certs --help | head`: a reader that goes away is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

async function main(argv: string[]): Promise<number> {
  const hook = hookArgv(argv.slice(2));
  if (hook === undefined) return (await import("./cli.js")).run(argv);
  try {
    return await hookCommand(hook);
  } catch (err) {
    const failure = err instanceof EspCertsError ? err : fromSystemError(err);
    if (failure === undefined) throw err;
    printError(failure);
    return failure.exitCode;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
