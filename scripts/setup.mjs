// What the README's two commands (and npm pack) do before their real work, so a fresh clone
// needs nothing but Node.js: install the npm dependencies when they are missing or older than
// package-lock.json, and bundle the CLI. With --tests, also the programs the tests run
// (scripts/system-tools.mjs), installed with apt-get as root on Debian or Ubuntu; elsewhere
// the tests' global set-up lists what is missing, once, and those tests skip (or fail
// under CI=true).
// Plain Node.js, no shell, so it runs the same on Windows, macOS and Linux.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { debianPackages, missingTools } from "./system-tools.mjs";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const forTests = process.argv.includes("--tests");

// Everything on stderr: `npm install -g "$(npm pack --silent)"` reads the tarball's name
// from stdout, and npm pack runs this first (prepack).
function run(command, args, what, shell = false) {
  const r = spawnSync(command, args, { cwd: root, stdio: [0, 2, 2], shell });
  if (r.status !== 0) {
    console.error(`setup: ${what} failed (${r.error?.message ?? `exit ${r.status}`}).`);
    process.exit(r.status || 1);
  }
}

/** npm itself: under `npm run`/`npm test` its own script, else the npm on PATH. */
function npm(args, what) {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.js$/.test(cli)) return run(process.execPath, [cli, ...args], what);
  // npm.cmd on Windows: Node runs a .cmd only through the shell.
  return run("npm", args, what, process.platform === "win32");
}

function dependenciesCurrent() {
  // npm writes node_modules/.package-lock.json on every install: older than the lock file
  // means package.json's dependencies changed since (a pull, a branch switch).
  const installed = path.join(root, "node_modules", ".package-lock.json");
  return existsSync(installed) && statSync(installed).mtimeMs >= statSync(path.join(root, "package-lock.json")).mtimeMs;
}

function installSystemTools() {
  const missing = missingTools().filter((t) => !t.benchOnly);
  if (missing.length === 0) return;
  const debianRoot = process.platform === "linux" && process.getuid?.() === 0 && existsSync("/etc/debian_version");
  if (!debianRoot) return;
  const packages = debianPackages().filter((p) => spawnSync("dpkg", ["-s", p], { stdio: "ignore" }).status !== 0);
  if (packages.length === 0) return;
  console.error(`setup: apt-get install ${packages.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args) => spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env }).status === 0;
  if (!apt(["update", "-qq"]) || !apt(["install", "-y", "-qq", "--no-install-recommends", ...packages])) {
    console.error("setup: apt-get failed; the tests will list what is still missing.");
  }
}

if (!dependenciesCurrent()) npm(["ci", "--no-audit", "--no-fund"], "npm ci");
if (forTests) installSystemTools();
run(process.execPath, [path.join(root, "scripts", "build.mjs")], "the build");
// npm test goes on with tsc and eslint, silent when all is well: a minute or two on a busy machine.
if (forTests) console.error("setup: done. Next the type check (tsc) and lint (eslint), silent when all is well, then the tests (vitest).");
