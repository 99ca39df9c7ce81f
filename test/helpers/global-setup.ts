import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// Tests that run the CLI run the real bundle, as a user would.
export default function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const r = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}
