import { hasTool, installHint, SYSTEM_TOOLS } from "../../scripts/system-tools.mjs";

/**
 * A test that needs an external tool calls this at the top of its file. Under CI=true a
 * missing tool is a failure, never a silent skip; elsewhere it returns false so the caller
 * can `describe.skipIf(!has)`. The global set-up has already listed every missing tool
 * once, with how to install it, so this says nothing more.
 */
export function requireTool(tool: string, debianPackage: string): boolean {
  return present(tool, debianPackage);
}

/** The same for a C header a test compiles against (e.g. <bearssl.h> from libbearssl-dev). */
export function requireHeader(header: string, debianPackage: string): boolean {
  return present(`<${header}>`, debianPackage);
}

function present(tool: string, debianPackage: string): boolean {
  if (hasTool(tool)) return true;
  const listed = SYSTEM_TOOLS.find((t) => t.tool === tool);
  const message = installHint(listed ?? { tool, debian: debianPackage.split(" "), elsewhere: "see its project's site" });
  if (process.env.CI === "true") throw new Error(message);
  // A tool missing from scripts/system-tools.mjs was not in the global set-up's list.
  if (!listed) console.warn(`SKIPPED: ${message}`);
  return false;
}
