/**
 * Sketch files that include the ESP8266 core's EEPROM library: it erases and rewrites the
 * same sector as the credential record, so such a sketch loses the device's identity.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { platformioIniPath } from "../config/config.js";
import { findSection, parseIni } from "../config/ini.js";

const SOURCE = /\.(c|cc|cpp|cxx|h|hpp|ino)$/i;
const INCLUDES_EEPROM = /#\s*include\s*[<"]EEPROM\.h[>"]/;
/** Enough for any sketch; a stray node_modules under src/ is not walked forever. */
const MAX_FILES = 500;

/** The project's source files ([platformio] src_dir, default src/) that include <EEPROM.h>. */
export function eepromUsers(projectDir: string): string[] {
  const ini = platformioIniPath(projectDir);
  const srcDir = (existsSync(ini) ? findSection(parseIni(readFileSync(ini, "utf8")), "platformio")?.values.get("src_dir") : undefined) ?? "src";
  const found: string[] = [];
  const queue = [path.resolve(projectDir, srcDir)];
  let seen = 0;
  while (queue.length > 0 && seen < MAX_FILES) {
    const dir = queue.shift()!;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) queue.push(file);
      else if (SOURCE.test(entry.name) && ++seen <= MAX_FILES && INCLUDES_EEPROM.test(readFileSync(file, "utf8"))) found.push(file);
    }
  }
  return found;
}
