import { readFileSync } from "node:fs";
import { EspCertsError } from "../errors.js";
import { askHidden, canPrompt } from "../ui.js";

/** Where the CA key's passphrase may come from (docs/store.md). No passphrase is ever built in. */
export interface PassphraseSources {
  /** --ca-passphrase-file: wins over the environment, being the more explicit. */
  file?: string;
  env?: string;
  /** Asks on the terminal; absent when there is none (the hook, CI, --json runs). */
  prompt?: (question: string) => Promise<string>;
}

/** The sources of a run: --ca-passphrase-file, the environment, and a prompt when it may ask. */
export function passphraseSources(opts: { interactive: boolean; caPassphraseFile?: string }): PassphraseSources {
  return {
    file: opts.caPassphraseFile,
    env: process.env.ESP_CERTS_CA_PASSPHRASE,
    prompt: opts.interactive && canPrompt() ? askHidden : undefined,
  };
}

const HOW = "Set ESP_CERTS_CA_PASSPHRASE, pass --ca-passphrase-file FILE, or run the command in a terminal to be asked.";
// Only a CA yet to be made can do without one: an existing key is encrypted or it is not.
const HOW_CREATE = `${HOW} --no-ca-passphrase (a new CA only) stores the key unencrypted.`;

/**
 * OpenSSL, under node:crypto, reads a key's passphrase into a 1024-byte buffer (PEM_BUFSIZE):
 * encrypting uses only the first 1024 bytes, and decrypting with a longer one fails. So a
 * longer passphrase would make a CA that the same passphrase cannot unlock: refused.
 */
export const MAX_PASSPHRASE_BYTES = 1024;

/** The passphrase, read once and only when the CA key is really needed. */
export function passphraseGetter(src: PassphraseSources, purpose: "unlock" | "create"): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () => (cached ??= resolve(src, purpose).then(withinLimit));
}

/** A new CA passphrase this short can be guessed offline by whoever copies ca.key.pem: said once, not refused. */
export const WEAK_PASSPHRASE_CHARS = 8;

/** The warning for a new CA passphrase that is too short, if it is; the run that makes the CA reports it. */
export function weakPassphraseWarning(p: string): string | undefined {
  const chars = [...p].length;
  if (chars >= WEAK_PASSPHRASE_CHARS) return undefined;
  return `the new CA passphrase is ${chars} character${chars === 1 ? "" : "s"} long: whoever copies certs/ca.key.pem can guess it in moments. Prefer ${WEAK_PASSPHRASE_CHARS * 2} or more (a few words).`;
}

async function resolve(src: PassphraseSources, purpose: "unlock" | "create"): Promise<string> {
  if (src.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(src.file, "utf8");
    } catch {
      throw new EspCertsError(`Cannot read --ca-passphrase-file ${src.file}`, "the file does not exist or cannot be read", HOW);
    }
    return nonEmpty(text.split(/\r?\n/)[0], `the first line of ${src.file}`);
  }
  if (src.env !== undefined && src.env !== "") return src.env;
  if (src.prompt) {
    const first = await src.prompt(purpose === "create" ? "New CA key passphrase: " : "CA key passphrase: ");
    if (purpose === "create" && (await src.prompt("Repeat the passphrase: ")) !== first) {
      throw new EspCertsError("Cannot create the CA", "the two passphrases differ", "Run the command again.");
    }
    return nonEmpty(first, "the passphrase");
  }
  throw new EspCertsError(
    purpose === "create" ? "Cannot create the CA" : "Cannot use the CA key",
    "it needs a passphrase and none was given",
    purpose === "create" ? HOW_CREATE : HOW,
  );
}

function nonEmpty(value: string, what: string): string {
  if (value === "") throw new EspCertsError("Cannot use the CA passphrase", `${what} is empty`, HOW);
  return value;
}

function withinLimit(value: string): string {
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > MAX_PASSPHRASE_BYTES) {
    throw new EspCertsError(
      "Cannot use the CA passphrase",
      `it is ${bytes} bytes long, and the key encryption (OpenSSL's) reads at most ${MAX_PASSPHRASE_BYTES}`,
      `Choose one of at most ${MAX_PASSPHRASE_BYTES} bytes. (A CA key made by an earlier esp-certs with a longer one unlocks with its first ${MAX_PASSPHRASE_BYTES} bytes.)`,
    );
  }
  return value;
}
