// init installs the esp-certs device library into the project's lib/; init, generate and the
// hook keep it in step with the installed esp-certs; a copy the user changed, or one esp-certs
// did not write, is left alone with a message that says how to update it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli, tmpProject } from "../helpers/cli.js";
import { libraryInputs, libraryState, LIBRARY_MARKER } from "../../src/platformio/library.js";

const shipped = path.join(repoRoot, "firmware", "lib", "esp-certs");
const version = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
/** The installed library's folder as the messages name it (relative to the project). */
const rel = path.join("lib", "esp-certs");
const sha256 = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");

function cli(args: string[], cwd: string) {
  const r = runCli(args, { cwd });
  expect(r.status, `esp-certs ${args.join(" ")}:\n${r.stdout}${r.stderr}`).toBe(0);
  return r;
}

function initProject(ini = "[env:d1_mini]\nplatform = espressif8266\nboard = d1_mini\nframework = arduino\n"): string {
  const dir = tmpProject("esp-certs-lib-");
  writeFileSync(path.join(dir, "platformio.ini"), ini);
  cli(["init", "--yes", "--host", "win10.local"], dir);
  return dir;
}

/** Turns the installed library into what an earlier release installed: another file, one file gone since, its own version. */
function makePreviousRelease(lib: string): void {
  const markerFile = path.join(lib, LIBRARY_MARKER);
  const marker = JSON.parse(readFileSync(markerFile, "utf8")) as { version: string; files: Record<string, string> };
  const old = "// the previous release's EspCerts.cpp\n";
  writeFileSync(path.join(lib, "src", "EspCerts.cpp"), old);
  writeFileSync(path.join(lib, "src", "retired.cpp"), "// a file the new release no longer ships\n");
  marker.version = "0.0.9";
  marker.files["src/EspCerts.cpp"] = sha256(old);
  marker.files["src/retired.cpp"] = sha256("// a file the new release no longer ships\n");
  writeFileSync(markerFile, JSON.stringify(marker));
}

describe("the device library in a project", () => {
  it("has the package's version in library.json and library.properties", () => {
    expect((JSON.parse(readFileSync(path.join(shipped, "library.json"), "utf8")) as { version: string }).version).toBe(version);
    expect(readFileSync(path.join(shipped, "library.properties"), "utf8")).toMatch(new RegExp(`^version=${version.replace(/\./g, "\\.")}$`, "m"));
  });

  it("does not depend on this repository's layout: no wifi_secrets.h, no header path, no generated header", () => {
    for (const f of readdirSync(path.join(shipped, "src"))) {
      const text = readFileSync(path.join(shipped, "src", f), "utf8");
      expect(text, f).not.toMatch(/^#include\s+["<](esp_certs|wifi_secrets)\.h[">]/m);
      expect(text, f).not.toContain("firmware/");
    }
  });

  it("init installs it into lib/ (or the project's lib_dir), and a second init says nothing about it", () => {
    const dir = initProject("[platformio]\nlib_dir = libraries\n\n[env:d1_mini]\nplatform = espressif8266\nboard = d1_mini\nframework = arduino\n");
    const lib = path.join(dir, "libraries", "esp-certs");
    expect(readFileSync(path.join(lib, "src", "EspCerts.cpp"), "utf8")).toBe(readFileSync(path.join(shipped, "src", "EspCerts.cpp"), "utf8"));
    expect(existsSync(path.join(lib, "examples", "connect", "connect.ino"))).toBe(true);
    expect(libraryState(dir).kind).toBe("current");
    const again = cli(["init", "--yes", "--host", "win10.local"], dir);
    expect(again.stdout + again.stderr).not.toMatch(/device library|esp-certs library/);
  });

  it("generate brings the previous release's library up to this one, and removes the file it no longer ships", () => {
    const dir = initProject();
    const lib = path.join(dir, "lib", "esp-certs");
    makePreviousRelease(lib);
    expect(libraryState(dir).kind).toBe("outdated");

    const r = cli(["generate"], dir);
    expect(r.stdout).toContain(`wrote    device library      ${rel} (0.0.9 -> ${version})`);
    expect(readFileSync(path.join(lib, "src", "EspCerts.cpp"), "utf8")).toBe(readFileSync(path.join(shipped, "src", "EspCerts.cpp"), "utf8"));
    expect(existsSync(path.join(lib, "src", "retired.cpp"))).toBe(false);
    expect(libraryState(dir)).toMatchObject({ kind: "current", version });
  });

  it("the hook updates the previous release's library before a build, and is quiet once it is current", () => {
    const dir = initProject();
    makePreviousRelease(path.join(dir, "lib", "esp-certs"));
    const r = cli(["hook", "--env", "d1_mini"], dir);
    expect(r.stdout).toContain(`esp-certs: updated ${rel} (0.0.9 -> ${version}): the device library, in step with esp-certs`);
    const again = cli(["hook", "--env", "d1_mini"], dir);
    expect(again.stdout + again.stderr).toBe("");
  });

  it("leaves a library the user edited as it is, says which files and how to update, and still succeeds", () => {
    const dir = initProject();
    const lib = path.join(dir, "lib", "esp-certs");
    makePreviousRelease(lib);
    const mine = "// my own change\n";
    writeFileSync(path.join(lib, "src", "report.cpp"), mine);

    for (const args of [["generate"], ["hook", "--env", "d1_mini"]]) {
      const r = cli(args, dir);
      expect(r.stderr).toContain(`${rel} has your changes (src/report.cpp): left as it is, at esp-certs 0.0.9.`);
      expect(r.stderr).toContain(`To take esp-certs ${version}'s library, move your changes out of ${rel}, delete it, and run "esp-certs init".`);
    }
    expect(readFileSync(path.join(lib, "src", "report.cpp"), "utf8")).toBe(mine);
    expect(readFileSync(path.join(lib, "src", "EspCerts.cpp"), "utf8")).toBe("// the previous release's EspCerts.cpp\n");
    expect(existsSync(path.join(lib, "src", "retired.cpp"))).toBe(true);

    // As the message says: delete it and init again.
    rmSync(lib, { recursive: true });
    cli(["init", "--yes", "--host", "win10.local"], dir);
    expect(libraryState(dir)).toMatchObject({ kind: "current", version });
  });

  it("leaves a lib/esp-certs it did not write alone, and says so at init", () => {
    const dir = tmpProject("esp-certs-lib-");
    writeFileSync(path.join(dir, "platformio.ini"), "[env:d1_mini]\nboard = d1_mini\n");
    mkdirSync(path.join(dir, "lib", "esp-certs"), { recursive: true });
    writeFileSync(path.join(dir, "lib", "esp-certs", "mine.h"), "// mine\n");
    const r = cli(["init", "--yes", "--host", "win10.local"], dir);
    expect(r.stderr).toContain(`${rel} was not installed by esp-certs: left as it is. To use esp-certs' own, move that folder away and run "esp-certs init" again.`);
    expect(readdirSync(path.join(dir, "lib", "esp-certs"))).toEqual(["mine.h"]);
  });

  it("is this repository's own folder here, which nothing installs over", () => {
    expect(libraryState(repoRoot).kind).toBe("self");
  });

  it("puts what decides that the library is current into the hook's stamp inputs", () => {
    const dir = initProject();
    const inputs = libraryInputs(dir);
    expect(inputs).toContain(path.join(dir, "lib", "esp-certs", LIBRARY_MARKER));
    expect(inputs).toContain(path.join(dir, "lib", "esp-certs", "src", "EspCerts.cpp"));
    expect(inputs).toContain(path.join(shipped, "src", "EspCerts.cpp"));
  });
});
