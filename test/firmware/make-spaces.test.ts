// The rehearsal's Makefile with folders named with a space (make splits words at spaces):
// HEADER_DIR, SKETCH_DIR and BUILD_DIR as a user passes them, quoted.
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { generatedProject } from "../render/helpers.js";
import { headerOf } from "../helpers/project.js";
import { BUILD_TIMEOUT_MS, rehearsalTools } from "./rehearsal.js";

describe("make -C firmware/host with spaces in its folders", () => {
  it.runIf(rehearsalTools())("builds, builds nothing the second time, builds again whole for the other layout, and cleans", () => {
    const dir = generatedProject(undefined, "esp-certs make spaces ");
    const header = path.join(dir, "hdr dir", "inc");
    mkdirSync(header, { recursive: true });
    cpSync(headerOf(dir), path.join(header, "esp_certs.h"));
    const sketch = path.join(dir, "my sketch");
    cpSync(path.join(repoRoot, "firmware", "lib", "esp-certs", "examples", "connect"), sketch, { recursive: true });
    const build = path.join(dir, "build out");
    const make = (...extra: string[]) =>
      spawnSync("make", ["-j2", "-C", path.join(repoRoot, "firmware", "host"), `HEADER_DIR=${header}`, `SKETCH_DIR=${sketch}`, `BUILD_DIR=${build}`, ...extra], { encoding: "utf8" });
    const first = make();
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(existsSync(path.join(build, "firmware"))).toBe(true);
    const again = make();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/g\+\+|c\+\+/);
    // The same folder for the other flash layout: built again whole, never a mix of both.
    const own = make("LAYOUT=own");
    expect(own.status, own.stdout + own.stderr).toBe(0);
    const compiles = (out: string) => out.match(/ -c /g)?.length ?? 0;
    expect(compiles(first.stdout)).toBeGreaterThan(0);
    expect(compiles(own.stdout)).toBe(compiles(first.stdout));
    expect(own.stdout).toContain("-DESP_CERTS_REHEARSAL_OWN_LAYOUT");
    expect(readFileSync(path.join(build, "layout"), "utf8")).toBe("own\n");
    expect(make("LAYOUT=own").stdout).not.toMatch(/g\+\+|c\+\+/);
    expect(make("clean").status).toBe(0);
    expect(existsSync(build)).toBe(false);
  }, BUILD_TIMEOUT_MS);
});
