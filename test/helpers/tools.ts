import { spawnSync } from "node:child_process";

/**
 * A test that needs an external tool calls this at the top of its file. Under CI=true a
 * missing tool is a failure, never a silent skip; on a developer machine it returns false
 * so the caller can `describe.skipIf(!has)` with the reason printed.
 */
export function requireTool(tool: string, debianPackage: string): boolean {
  const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).status === 0;
  if (found) return true;
  const message = `${tool} is missing: install the Debian package ${debianPackage} (.ci/run does)`;
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
  return false;
}

/** The same for a C header a test compiles against (e.g. <bearssl.h> from libbearssl-dev). */
export function requireHeader(header: string, debianPackage: string): boolean {
  const found = spawnSync("sh", ["-c", `echo '#include <${header}>' | cc -E -x c - >/dev/null 2>&1`]).status === 0;
  if (found) return true;
  const message = `<${header}> is missing: install the Debian package ${debianPackage} (.ci/run does)`;
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
  return false;
}
