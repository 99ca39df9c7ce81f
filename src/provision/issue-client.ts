/** Issues one client for `provision` through the CA module: a new key of client_key_type and its certificate. */
import { existsSync } from "node:fs";
import type { Config } from "../config/config.js";
import { ensureStore } from "../pki/ensure.js";
import { issueClient } from "../pki/issue-client.js";
import { passphraseSources } from "../pki/passphrase.js";
import { storePaths } from "../pki/paths.js";
import { info, warn } from "../ui.js";

export async function ensureClient(config: Config, id: string, opts: { interactive: boolean; caPassphraseFile?: string }): Promise<void> {
  const passphrase = passphraseSources(opts);
  // A project without a store yet gets one first (CA, broker, configured clients), as its first build would.
  if (!existsSync(storePaths(config.certDir).manifest)) {
    const made = await ensureStore(config, { passphrase });
    if (opts.interactive) info(`made the certificate store in ${config.certDir} (esp-certs generate also writes the header and broker folder)`);
    for (const w of made.warnings) warn(w);
  }
  const issued = await issueClient(config, id, { passphrase });
  for (const w of issued.warnings) warn(w);
}
