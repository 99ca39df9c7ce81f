// Lint rules, run by `npm test`. Besides typescript-eslint's recommended set, two import rules
// keep the layering described in docs/commands.md ("For maintainers"):
// - the hook's no-op path (main.ts -> commands/hook.ts and every module they import statically)
//   loads neither the X.509 library nor a template renderer: those come in through import() once
//   the hook has decided there is work;
// - nothing below the commands (every folder of src/ but commands/) imports from src/commands/, and
//   a command never imports another command's module: what two commands share lives below them,
//   or, when it is output, in src/commands/print/;
// - nothing below the commands prints through ui.ts (info, note, warn, printJson, printError);
// - below the features sits the store (src/store/), and below it pki/, config/, bearssl/, serial/
//   and fs/: neither of those imports a layer above its own (docs/store.md, the layers).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import js from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";
import ts from "typescript";

const root = import.meta.dirname;
const src = (p) => path.join(root, "src", p);

/** The modules that cli.ts loads with import() for its commands, and the two entries. */
function commandModules() {
  const cli = readFileSync(src("cli.ts"), "utf8");
  const loaded = [...cli.matchAll(/import\("\.\/([\w/-]+)\.js"\)/g)].map((m) => src(`${m[1]}.ts`));
  return [src("cli.ts"), src("main.ts"), ...new Set(loaded)];
}

/**
 * The source files a module loads when it is loaded: static imports and re-exports, followed
 * through src/, leaving out `import type` and imports of types only (erased by the bundler),
 * and import() (loaded later, on demand). Packages are kept by name.
 */
function staticClosure(entry) {
  const files = new Set();
  const packages = new Set();
  const visit = (file) => {
    if (files.has(file)) return;
    files.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
    for (const s of source.statements) {
      if (!(ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) || s.moduleSpecifier === undefined) continue;
      if (ts.isImportDeclaration(s) ? typesOnly(s.importClause) : s.isTypeOnly) continue;
      const spec = s.moduleSpecifier.text;
      if (spec.startsWith(".")) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files: [...files], packages: [...packages] };
}

function typesOnly(clause) {
  if (clause === undefined) return false; // import "x": loaded for its side effects
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

/** What the hook must not load before it has decided there is work. */
const HOOK_FORBIDDEN_PACKAGES = ["@peculiar/x509", "ejs"];
const HOOK_FORBIDDEN_FILES = [src("render/header.ts"), src("render/ejs-render.ts")];
const HOOK_MESSAGE =
  "the hook's no-op path loads no X.509 or template code (it runs before every `pio run`): load it with await import() once the hook knows it must write something";

/** One block per module on the hook's no-op path, naming each forbidden import as that file spells it. */
function hookPathBlocks() {
  const hookPath = staticClosure(src("main.ts")).files;
  return hookPath.map((file) => {
    const dir = path.dirname(file);
    const local = HOOK_FORBIDDEN_FILES.map((f) => {
      const rel = path.relative(dir, f).split(path.sep).join("/").replace(/\.ts$/, ".js");
      return rel.startsWith(".") ? rel : `./${rel}`;
    });
    return {
      files: [path.relative(root, file).split(path.sep).join("/")],
      rules: {
        "@typescript-eslint/no-restricted-imports": [
          "error",
          { paths: [...HOOK_FORBIDDEN_PACKAGES, ...local].map((name) => ({ name, message: HOOK_MESSAGE, allowTypeImports: true })) },
        ],
      },
    };
  });
}

/** Everything below the commands: every folder of src/ but commands/, and the shared top-level modules. */
const LOWER_LAYERS = readdirSync(src(""), { withFileTypes: true })
  .filter((e) => (e.isDirectory() ? e.name !== "commands" : !["cli.ts", "main.ts"].includes(e.name)))
  .map((e) => src(e.name));
const ENTRIES = [src("cli.ts"), src("main.ts")];
/** The layer under the store: certificate mechanics, configuration, devices and files (docs/store.md). */
const BASE_LAYER = ["pki", "config", "bearssl", "asn1", "serial", "fs", "errors.ts", "units.ts", "ui.ts"].map(src);
/** The features the commands run, above the store. */
const FEATURES = readdirSync(src(""), { withFileTypes: true })
  .filter((e) => e.isDirectory() && !["commands", "store", ...BASE_LAYER.map((f) => path.basename(f))].includes(e.name))
  .map((e) => src(e.name));
const commands = commandModules();

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "firmware/", "**/*.d.ts"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly", TextEncoder: "readonly", TextDecoder: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createNodeResolver({ extensionAlias: { ".js": [".ts", ".js"] } })] },
    rules: {
      // Imports run one way (docs/store.md, "the store object and the layers"): no circle.
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          basePath: root,
          zones: [
            {
              target: LOWER_LAYERS,
              from: [src("commands"), ...commands.filter((f) => !ENTRIES.includes(f))],
              message: "a lower layer never imports a command module: move what both need below the commands (src/config, src/fs, src/render, ...)",
            },
            {
              target: src("commands"),
              from: commands.filter((f) => !ENTRIES.includes(f)),
              message: "a command does not import another command's module: move what both need below the commands",
            },
            {
              target: BASE_LAYER,
              from: [src("store"), ...FEATURES],
              message: "pki/, config/, bearssl/, serial/ and fs/ sit below the store and the features (docs/store.md, the layers): pass in what they need of those",
            },
            {
              target: src("store"),
              from: FEATURES,
              message: "the store sits below the features that use it (docs/store.md, the layers): move what both need into store/ or below it",
            },
          ],
        },
      ],
    },
  },
  {
    // Below the commands nothing prints (docs/store.md, the layers): a lower layer returns what
    // happened (reports, warnings) or takes a callback, and the command decides what the user sees.
    files: ["src/**/*.ts"],
    ignores: ["src/commands/**", "src/cli.ts", "src/main.ts", "src/ui.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/ui.js", "./ui.js"],
              importNames: ["info", "note", "warn", "printJson", "printError"],
              message: "below the commands nothing prints: return the line (a report's warnings) or take a callback, and let the command print it",
            },
          ],
        },
      ],
    },
  },
  ...hookPathBlocks(),
);
