// Option types that more than one command takes (init takes generate's).
import type { ConfigOverrides } from "../config/config.js";

export interface GenerateCommandOptions extends ConfigOverrides {
  projectDir: string;
  client?: string;
  newCa?: boolean;
  rekey?: string[];
  renew?: string[];
  caPassphraseFile?: string;
  /** commander's `--no-ca-passphrase` sets this false. */
  caPassphrase?: boolean;
  json?: boolean;
}
