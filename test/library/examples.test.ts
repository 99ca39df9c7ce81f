// Every example of the device library builds in the rehearsal (as CI builds each with PlatformIO
// for both boards): a sketch folder beside the library, the header of a generated project. The
// sketch is named relative to firmware/host: make splits an absolute path with a space.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { BUILD_TIMEOUT_MS, generateProject, rehearsalTools } from "../firmware/rehearsal.js";

const examples = path.join(repoRoot, "firmware", "lib", "esp-certs", "examples");
const ready = rehearsalTools();

describe.skipIf(!ready)("the library's examples in the rehearsal", () => {
  it("has examples, each a folder with a sketch of its name", () => {
    const names = readdirSync(examples);
    expect(names).toContain("connect");
    for (const name of names) expect(existsSync(path.join(examples, name, `${name}.ino`)), name).toBe(true);
  });

  it.each(readdirSync(examples))("%s compiles and links", (name) => {
    const project = generateProject();
    const make = spawnSync(
      "make",
      ["-s", "-j2", "-C", path.join(repoRoot, "firmware", "host"), `SKETCH_DIR=../lib/esp-certs/examples/${name}`, `HEADER_DIR=${path.dirname(project.header)}`, `BUILD_DIR=${path.join(project.dir, "build")}`],
      { encoding: "utf8" },
    );
    expect(make.status, make.stdout + make.stderr).toBe(0);
    expect(existsSync(path.join(project.dir, "build", "firmware"))).toBe(true);
  }, BUILD_TIMEOUT_MS);
});
