// Bundles the CLI into one file, dist/esp-certs.cjs: the package's bin, and what the
// PlatformIO hook runs before every `pio run`. CommonJS on purpose: esbuild then turns
// every import of a module reached through import() (X.509, ejs, serialport, each
// command) into a require() inside lazily run code, Node's built-ins included, so a run
// loads only what its command uses. As ESM, those imports would be hoisted and loaded on
// every start (bench/hook.bench.mjs: 1.39 x `node -e 0` against 1.57).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const outfile = "dist/esp-certs.cjs";
const result = await build({
  entryPoints: ["src/main.ts"],
  outfile,
  write: false,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // serialport loads a native addon found relative to its own package.
  external: ["serialport", "@serialport/*"],
  banner: { js: "#!/usr/bin/env node" },
  legalComments: "none",
  // package-files.ts reads import.meta only when run as ESM source (tests), never bundled.
  logOverride: { "empty-import-meta": "silent" },
  logLevel: "warning",
});

// The same bundle is left as it is: the hook's stamp records the bundle's size and mtime, so
// rewriting it would make every project's next `pio run` start Node.js for nothing (and a
// test run's own build would upset another's hook, mid-test).
const contents = result.outputFiles[0].contents;
if (!existsSync(outfile) || !readFileSync(outfile).equals(contents)) {
  // Written whole and renamed: a CLI run (or a parallel test run) never reads half a bundle.
  mkdirSync("dist", { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  chmodSync(tmp, 0o755);
  renameSync(tmp, outfile);
}
