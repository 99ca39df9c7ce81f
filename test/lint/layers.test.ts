// The import rules of eslint.config.mjs, tried on real files of src/ with one import added: each
// must catch what it is for, and leave alone what is allowed (type imports, import() after the
// hook's decision, shared output under src/commands/print).
import { readFileSync } from "node:fs";
import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const eslint = new ESLint({ cwd: root });

/** The rule ids ESLint reports for `file` with `line` added at the top. */
async function ruleIdsWith(file: string, line: string): Promise<string[]> {
  const text = `${line}\n${readFileSync(path.join(root, file), "utf8")}`;
  const [result] = await eslint.lintText(text, { filePath: path.join(root, file) });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

describe("lint: the hook's no-op path", () => {
  it("refuses the X.509 library in a module the hook loads before deciding", async () => {
    expect(await ruleIdsWith("src/config/config.ts", 'import * as x509 from "@peculiar/x509";')).toContain("@typescript-eslint/no-restricted-imports");
  });

  it("refuses ejs and the header renderer in hook.ts itself, by their relative names", async () => {
    expect(await ruleIdsWith("src/commands/hook.ts", 'import ejs from "ejs";')).toContain("@typescript-eslint/no-restricted-imports");
    expect(await ruleIdsWith("src/commands/hook.ts", 'import { writeHeader } from "../render/header.js";')).toContain("@typescript-eslint/no-restricted-imports");
    expect(await ruleIdsWith("src/render/header-inputs.ts", 'import { renderTemplate } from "./ejs-render.js";')).toContain("@typescript-eslint/no-restricted-imports");
  });

  it("allows a type import, and modules off the path (issue.ts is where X.509 belongs)", async () => {
    expect(await ruleIdsWith("src/commands/hook.ts", 'import type { HeaderResult } from "../render/header.js";')).not.toContain(
      "@typescript-eslint/no-restricted-imports",
    );
    expect(await ruleIdsWith("src/pki/issue.ts", "")).toEqual([]);
  });
});

describe("lint: layers", () => {
  it("refuses anything from src/commands/ in a lower layer, loaded statically or with import()", async () => {
    expect(await ruleIdsWith("src/generate/generate.ts", 'import { printReport } from "../commands/print/generate-report.js";')).toContain("import-x/no-restricted-paths");
    expect(await ruleIdsWith("src/pki/cert-files.ts", 'import { generateCommand } from "../commands/generate.js";')).toContain("import-x/no-restricted-paths");
    expect(await ruleIdsWith("src/render/header-inputs.ts", 'export const later = () => import("../commands/doctor.js");')).toContain(
      "import-x/no-restricted-paths",
    );
  });

  it("refuses a command importing another command's module, but not the shared output below it", async () => {
    expect(await ruleIdsWith("src/commands/doctor.ts", 'import { noderedCommand } from "./nodered.js";')).toContain("import-x/no-restricted-paths");
    expect(await ruleIdsWith("src/commands/flash.ts", 'import { monitorCommand } from "./monitor.js";')).toContain("import-x/no-restricted-paths");
    expect(await ruleIdsWith("src/commands/flash.ts", "")).toEqual([]);
  });

  it("refuses the store in pki/, config/ or fs/, and a feature in the store or below it", async () => {
    expect(await ruleIdsWith("src/pki/ca.ts", 'import { storePaths } from "../store/paths.js";')).toContain("import-x/no-restricted-paths");
    expect(await ruleIdsWith("src/config/config.ts", 'import type { Manifest } from "../store/manifest.js";')).toContain("import-x/no-restricted-paths");
    expect(await ruleIdsWith("src/fs/atomic.ts", 'import { brokerDir } from "../broker/broker.js";')).toContain("import-x/no-restricted-paths");
    expect(await ruleIdsWith("src/store/store.ts", 'import { brokerDir } from "../broker/broker.js";')).toContain("import-x/no-restricted-paths");
    expect(await ruleIdsWith("src/store/store.ts", 'import { readCert } from "../pki/cert-files.js";')).not.toContain("import-x/no-restricted-paths");
  });

  it("refuses printing through ui.ts below the commands, and allows it in a command and the helpers that do not print", async () => {
    expect(await ruleIdsWith("src/store/lock.ts", 'import { note } from "../ui.js";')).toContain("no-restricted-imports");
    expect(await ruleIdsWith("src/config/config.ts", 'import { warn } from "../ui.js";')).toContain("no-restricted-imports");
    expect(await ruleIdsWith("src/self-command.ts", 'import { info } from "./ui.js";')).toContain("no-restricted-imports");
    expect(await ruleIdsWith("src/broker/conf.ts", "")).toEqual([]);
    expect(await ruleIdsWith("src/commands/status.ts", 'import { note } from "../ui.js";')).not.toContain("no-restricted-imports");
  });
});
