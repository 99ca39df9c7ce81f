// Every input of the hook's no-op decision (src/platformio/noop-inputs.ts), changed in turn,
// makes firmware/esp_certs_hook.py start esp-certs: the cases come from the list itself, so an
// input added to it is covered here without a new test. The stamp must record exactly that list.
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { clientForEnv, loadConfig } from "../../src/config/config.js";
import { noopInputs } from "../../src/platformio/noop-inputs.js";
import { repoRoot, TEST_PASSPHRASE } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";
import { INI } from "../render/helpers.js";

const hasPython = requireTool("python3", "python3");
const hookScript = path.join(repoRoot, "firmware", "esp_certs_hook.py");
const runner = path.join(repoRoot, "test", "platformio", "fixtures", "run_hook.py");

describe.skipIf(!hasPython)("each input of the no-op decision sends the hook script to esp-certs", () => {
  let dir: string;
  let stamp: string;
  let nodeStub: string;
  let starts: string;

  beforeAll(() => {
    dir = tmpDir("esp-certs-noop-");
    // The environment links with esp-certs' own layout, whose linker script is an input too.
    writeFileSync(path.join(dir, "platformio.ini"), `${INI()}board_build.ldscript = esp-certs.flash.4m1m.ld\n`);
    const bin = tmpDir("esp-certs-noop-bin-");
    starts = path.join(bin, "starts");
    nodeStub = path.join(bin, "node");
    stamp = path.join(dir, ".pio", "build", "d1_mini", "esp-certs-hook.json");
    writeFileSync(starts, "");
    // The first build runs the real CLI and leaves the store, the header and the stamp.
    writeFileSync(nodeStub, `#!/bin/sh\necho start >> '${starts}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    expect(startsNode()).toBe(true);
    expect(existsSync(stamp)).toBe(true);
    // From here on `node` only counts its starts: each case leaves the project as it found it.
    writeFileSync(nodeStub, `#!/bin/sh\necho start >> '${starts}'\n`, { mode: 0o755 });
  });

  function startsNode(): boolean {
    const before = readFileSync(starts, "utf8").length;
    const r = spawnSync("python3", [runner, hookScript, dir, "d1_mini"], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: `${path.dirname(nodeStub)}:/usr/bin:/bin`, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE },
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(starts, "utf8").length > before;
  }

  function inputs() {
    const config = loadConfig(dir);
    return noopInputs(config, clientForEnv(config, "d1_mini"), "d1_mini");
  }

  it("records exactly the list in the stamp", () => {
    const { files, optional, absences, modes } = inputs();
    const recorded = JSON.parse(readFileSync(stamp, "utf8"));
    expect(files).toContain(path.join(dir, "esp-certs.flash.4m1m.ld"));
    expect(Object.keys(recorded.files).sort()).toEqual([...files, ...optional, ...absences].sort());
    expect(Object.keys(recorded.modes).sort()).toEqual([...modes].sort());
    expect(startsNode()).toBe(false);
  });

  it("starts esp-certs when a file whose mode the decision reads is chmod-ed, and not once it is back", () => {
    const { modes } = inputs();
    expect(modes.length).toBeGreaterThan(0);
    for (const file of modes) {
      const mode = statSync(file).mode & 0o777;
      chmodSync(file, mode | 0o044);
      expect(startsNode(), `${file} made readable by others`).toBe(true);
      chmodSync(file, mode);
    }
    expect(startsNode()).toBe(false);
  });

  it("starts esp-certs when any input changes, appears or disappears, and not once all are back", () => {
    const { files, optional, absences } = inputs();
    const inProject = (f: string) => !path.relative(dir, f).startsWith("..");
    const tried: string[] = [];
    for (const file of [...files, ...optional]) {
      if (!inProject(file)) {
        // A file that ships with esp-certs (the header template, the packaged device library):
        // not ours to edit while other tests read it, so its recorded digest goes stale instead.
        const good = readFileSync(stamp, "utf8");
        const s = JSON.parse(good);
        s.files[file] = "0".repeat(64);
        writeFileSync(stamp, JSON.stringify(s));
        expect(startsNode(), file).toBe(true);
        writeFileSync(stamp, good);
      } else if (existsSync(file)) {
        const good = readFileSync(file);
        const mode = statSync(file).mode & 0o777;
        appendFileSync(file, "\n");
        expect(startsNode(), `${file} changed`).toBe(true);
        rmSync(file);
        expect(startsNode(), `${file} removed`).toBe(true);
        writeFileSync(file, good);
        chmodSync(file, mode); // the header's mode is an input too
      } else {
        const made = mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, "");
        expect(startsNode(), `${file} appeared`).toBe(true);
        rmSync(made ?? file, { recursive: true });
      }
      tried.push(file);
    }
    for (const absent of absences) {
      mkdirSync(absent);
      expect(startsNode(), `${absent} appeared`).toBe(true);
      rmSync(absent, { recursive: true });
      tried.push(absent);
    }
    expect(tried.length).toBeGreaterThan(10);
    expect(startsNode()).toBe(false);
  });
});
