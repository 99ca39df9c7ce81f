// Bundles the CLI into one ESM file. Heavy modules (X.509, ejs, serialport) are reached
// through dynamic import(), which esbuild turns into lazily initialised code inside the
// same file: the hook's no-op path, run on every `pio run`, never evaluates them.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli.ts"],
  outfile: "dist/esp-certs.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // serialport loads a native addon found relative to its own package.
  external: ["serialport", "@serialport/*"],
  banner: {
    js: [
      "#!/usr/bin/env node",
      // Bundled CommonJS dependencies call require(); give them one.
      'import { createRequire as __espCertsRequire } from "node:module";',
      "const require = __espCertsRequire(import.meta.url);",
    ].join("\n"),
  },
  legalComments: "none",
  logLevel: "warning",
});
