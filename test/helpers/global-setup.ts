import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { installHint, missingTools } from "../../scripts/system-tools.mjs";

/**
 * Once per run, before any test file: the bundle the CLI tests run, an environment the same
 * wherever the suite runs, the list of missing tools, and a temp folder of the suite's own
 * that must be empty at the end.
 */
export default function setup(): () => void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const r = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);

  // The tests choose colour themselves; a user's FORCE_COLOR would also make Node warn on
  // stderr about NO_COLOR. The test workers inherit this environment.
  for (const name of ["FORCE_COLOR", "NO_COLOR", "NODE_DISABLE_COLORS", "ESP_CERTS_CA_PASSPHRASE"]) delete process.env[name];

  // doctor's mdns check multicasts on every LAN interface: only inside a test's own network
  // namespace (test/doctor/mdns.test.ts turns it back on there).
  process.env.ESP_CERTS_MDNS = "off";

  const missing = missingTools().filter((t) => !t.benchOnly);
  if (missing.length > 0 && process.env.CI !== "true") {
    console.warn(`SKIPPED: the tests that need these programs (install them to run those tests too):\n${missing.map((t) => `  ${installHint(t)}`).join("\n")}`);
  }

  // Everything the tests and the programs they start put in the temp folder lands here.
  const suiteTmp = mkdtempSync(path.join(tmpdir(), "esp-certs-suite-"));
  chmodSync(suiteTmp, 0o700);
  for (const name of ["TMPDIR", "TMP", "TEMP"]) process.env[name] = suiteTmp;

  return () => {
    const left = readdirSync(suiteTmp);
    rmSync(suiteTmp, { recursive: true, force: true });
    if (left.length > 0) {
      // vitest reports an error thrown here but still exits 0: set the exit code as well.
      process.exitCode = 1;
      console.error(`FAILED: the tests left ${left.length === 1 ? "1 entry" : `${left.length} entries`} in the temp folder (removed now; the helper that made them must remove them): ${left.slice(0, 20).join(", ")}`);
    }
  };
}
