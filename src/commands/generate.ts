import { loadConfig, type Config } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { generate } from "../generate/generate.js";
import { syncLibrary } from "../platformio/library.js";
import type { GenerateCommandOptions } from "./options.js";
import { warn } from "../ui.js";
import { printReport } from "./print/generate-report.js";

/** `esp-certs generate`: the store, the header and the broker folder (generate/generate.ts), then what it did. */
export async function generateCommand(o: GenerateCommandOptions): Promise<number> {
  const config = loadConfig(o.projectDir, o);
  const report = await generate(config, {
    client: o.client,
    newCa: o.newCa,
    rekey: o.rekey,
    renew: o.renew,
    interactive: !o.json,
    caPassphraseFile: o.caPassphraseFile,
    noCaPassphrase: o.caPassphrase === false,
  }).catch((err: unknown) => {
    // The report that carries them is not printed: a misspelt mqtt_host is often why it failed.
    if (!o.json) for (const w of config.warnings) warn(w);
    throw err;
  });
  report.warnings.push(...oneRunOnly(o, config));
  report.library = syncLibrary(config.projectDir, { install: false });
  printReport(report, config.projectDir, { json: o.json });
  // The header still holds a revoked client: not a success, though the rest was made.
  return report.header.revoked === undefined ? ExitCode.ok : ExitCode.failed;
}

/**
 * Flags that change what is issued hold for this run only: the `pio run` hook reads
 * platformio.ini and would issue for that again. Say so, and how to keep them.
 */
function oneRunOnly(o: GenerateCommandOptions, config: Config): string[] {
  const saved = loadConfigQuietly(o.projectDir);
  if (saved === undefined) return [];
  const differs: [string, string, string][] = [
    ["--host", config.mqttHost, saved.mqttHost],
    ["--key-type", config.keyType, saved.keyType],
    ["--client-key-type", config.clientKeyType, saved.clientKeyType],
  ].filter(([, now, kept]) => now !== kept) as [string, string, string][];
  return differs.map(
    ([flag, now, kept]) =>
      `${flag} ${now} is for this run only: the \`pio run\` hook reads platformio.ini (${kept}) and would issue for that again. To keep it: esp-certs init ${flag} ${now}`,
  );
}

function loadConfigQuietly(projectDir: string): Config | undefined {
  try {
    return loadConfig(projectDir);
  } catch {
    return undefined;
  }
}
