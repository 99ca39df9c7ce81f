/** Issues one client for `provision`: a new key of client_key_type and its certificate, into the store. */
import type { Config } from "../config/config.js";
import { passphraseSources } from "../generate.js";
import { ensureStore } from "../pki/ensure.js";

export async function ensureClient(config: Config, id: string, opts: { interactive: boolean; caPassphraseFile?: string }): Promise<void> {
  await ensureStore({ ...config, clients: [...config.clients, id] }, { passphrase: passphraseSources(opts) });
}
