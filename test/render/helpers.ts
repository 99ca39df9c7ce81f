// Helpers shared by the header, hook and bearssl tests: real projects made by the built
// CLI, and C programs compiled with the host and ESP8266 toolchains.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { project, projectIni } from "../helpers/project.js";

const D1_MINI_DEV01 = "[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = dev01\n";

/** platformio.ini of one d1_mini environment building dev01, with `extra` in [esp_certs]. */
export const INI = (extra = "") => projectIni({ extra, after: D1_MINI_DEV01 });

/** A project with platformio.ini and a store made by `esp-certs generate`. */
export function generatedProject(ini = INI(), prefix = "esp-certs-hdr-"): string {
  return project({ ini, prefix, generate: true });
}

/** Runs a compiler (or any tool); fails the test with its output when it fails. */
export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export const XTENSA_SPECS = "/usr/lib/xtensa-lx106-elf/picolibc.specs";
export const XTENSA_SPECS_CXX = "/usr/lib/xtensa-lx106-elf/picolibcpp.specs";

/**
 * A folder holding only BearSSL's headers, as <bearssl/...>, so that the cross compiler
 * finds BearSSL without seeing the host's glibc headers in /usr/include.
 */
export function bearsslOnlyInclude(dir: string): string {
  const to = path.join(dir, "bearssl-only", "bearssl");
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync("/usr/include/bearssl")) copyFileSync(path.join("/usr/include/bearssl", f), path.join(to, f));
  return path.dirname(to);
}
