import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EspCertsError } from "../errors.js";

/**
 * A file shipped in the package (templates/, firmware/esp_certs_hook.py). The bundle runs
 * from dist/ and the sources from src/<area>/ (tests), so look one and two levels up.
 */
export function packageFile(relative: string): string {
  // The bundle is CommonJS (fast start for the hook); the sources run as ESM in tests.
  const here = typeof __dirname === "string" ? __dirname : path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, "..", relative), path.join(here, "..", "..", relative)];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new EspCertsError(
      `Cannot find ${relative}`,
      `esp-certs is installed without it (looked in ${candidates.join(", ")})`,
      "Reinstall esp-certs: npm install --save-dev esp-certs",
    );
  }
  return found;
}
