import { existsSync } from "node:fs";
import path from "node:path";

/**
 * How to run this CLI again from `cwd`, for the "Next:" lines: `esp-certs` when that name is on
 * PATH (`npx esp-certs` when it is a project's node_modules/.bin), else `node` and the bundle that is running (as after `npm run init` in a clone, before
 * the tool is installed), so a printed command works when pasted.
 */
export function selfCommand(cwd: string = process.cwd(), env: NodeJS.ProcessEnv = process.env, script = process.argv[1] ?? ""): string {
  const names = process.platform === "win32" ? ["esp-certs.cmd", "esp-certs.exe", "esp-certs"] : ["esp-certs"];
  const dirs = (env.PATH ?? env.Path ?? "").split(path.delimiter).filter(Boolean);
  const found = dirs.find((d) => names.some((n) => existsSync(path.join(d, n))));
  // A project's own copy (npm install --save-dev) is on PATH only while npx runs it.
  if (found !== undefined) return path.basename(found) === ".bin" && path.basename(path.dirname(found)) === "node_modules" ? "npx esp-certs" : "esp-certs";
  if (!/\.c?js$/.test(script)) return "esp-certs";
  const rel = path.relative(cwd, script);
  const shown = rel.startsWith("..") || path.isAbsolute(rel) ? script : rel;
  return `node ${/[\s"'$&|;<>()`]/.test(shown) ? `"${shown}"` : shown}`;
}
