// The package's templates/ as files: where each is and its text. No EJS here: the hook's no-op path reads these.
import { readFileSync } from "node:fs";
import { packageFile } from "./package-files.js";

/** A template of the package's templates/ folder. */
export function templatePath(name: string): string {
  return packageFile(`templates/${name}`);
}

/**
 * A template's text with LF line ends: a clone made with Git for Windows' default
 * (core.autocrlf) has CRLF templates, which would give a header and a mosquitto.conf whose
 * bytes, and so the hook's "nothing changed" verdict, depend on how the repository was cloned.
 */
export function readTemplate(name: string): string {
  return lfOnly(readFileSync(templatePath(name), "utf8"));
}

export function lfOnly(text: string): string {
  return text.replace(/\r\n/g, "\n");
}
