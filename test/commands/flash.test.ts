// `esp-certs flash` with a stand-in `pio` first on PATH that records how it was called,
// a pty pair as the board's port, and the real generate and monitor.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliPath, runCli, TEST_PASSPHRASE, tmpProject, type CliResult } from "../helpers/cli.js";
import { project, projectIni } from "../helpers/project.js";
import { findPio } from "../../src/flash/pio.js";
import { requireTool } from "../helpers/tools.js";
import { fixtureBytes } from "../monitor/cases.js";
import { ptyPair, startCli, waitUntilOpen, writeSlowly, type PtyPair } from "../monitor/pty.js";

const hasSocat = requireTool("socat", "socat");
const hasFlock = requireTool("flock", "util-linux");

const INI = `[esp_certs]
mqtt_host = win10.local

[env:d1_mini]
platform = espressif8266
board = d1_mini
framework = arduino

[env:nodemcuv2]
platform = espressif8266
board = nodemcuv2
framework = arduino
custom_esp_certs_client = dev02
`;

// Records its working directory and arguments, prints like PlatformIO, exits with $PIO_EXIT.
const STAND_IN_PIO = `#!/bin/sh
printf '%s|%s\\n' "$(pwd)" "$*" >> "$PIO_ARGS"
echo "Uploading .pio/build/$3/firmware.bin"
exit "\${PIO_EXIT:-0}"
`;

function flashProject(ini = INI): string {
  const dir = project({ ini });
  chmodSync(dir, 0o755);
  return dir;
}

function pioBin(): { bin: string; argsFile: string } {
  const root = tmpProject("esp-certs-pio-");
  chmodSync(root, 0o755);
  const bin = path.join(root, "bin");
  mkdirSync(bin);
  writeFileSync(path.join(bin, "pio"), STAND_IN_PIO);
  chmodSync(path.join(bin, "pio"), 0o755);
  return { bin, argsFile: path.join(root, "pio-args") };
}

function pioCalls(argsFile: string): string[] {
  return existsSync(argsFile) ? readFileSync(argsFile, "utf8").trim().split("\n") : [];
}

describe.skipIf(!hasSocat)("esp-certs flash", () => {
  let pty: PtyPair;
  let pio: { bin: string; argsFile: string };
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: `${pio.bin}:${process.env.PATH}`, PIO_ARGS: pio.argsFile, ...extra });

  beforeEach(async () => {
    pty = await ptyPair();
    pio = pioBin();
  });
  afterEach(() => pty.stop());

  it("generates, then uploads the first environment through pio, in the project", () => {
    const dir = flashProject();
    const r = runCli(["flash", "--port", pty.dev, "--no-monitor"], { cwd: dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(pioCalls(pio.argsFile)).toEqual([`${realpathSync(dir)}|run -e d1_mini -t upload --upload-port ${pty.dev}`]);
    expect(r.stdout).toContain("Uploading .pio/build/d1_mini/firmware.bin");
    expect(existsSync(path.join(dir, "certs", "clients", "dev01.crt.der"))).toBe(true);
  });

  it("with --json and --no-monitor, prints one JSON object saying what it uploaded", () => {
    const r = runCli(["flash", "--port", pty.dev, "--no-monitor", "--json"], { cwd: flashProject(), env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ uploaded: true, env: "d1_mini", port: pty.dev, client: "dev01" });
  });

  it("uploads the environment named with --env", () => {
    const r = runCli(["flash", "--port", pty.dev, "--env", "nodemcuv2", "--no-monitor"], { cwd: flashProject(), env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(pioCalls(pio.argsFile)[0]).toContain("|run -e nodemcuv2 -t upload");
  });

  it("uploads the environment PlatformIO would build by default: [platformio] default_envs", () => {
    const dir = flashProject(`[platformio]\ndefault_envs = nodemcuv2\n\n${INI}`);
    const r = runCli(["flash", "--port", pty.dev, "--no-monitor"], { cwd: dir, env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(pioCalls(pio.argsFile)[0]).toContain("|run -e nodemcuv2 -t upload");
    // ...with that environment's client in the header.
    expect(r.stdout).toContain("(client dev02)");
  });

  it("exits 1 when pio fails, and does not monitor", () => {
    const r = runCli(["flash", "--port", pty.dev], { cwd: flashProject(), env: env({ PIO_EXIT: "1" }) });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`Cannot build and upload the firmware to ${pty.dev}`);
    expect(r.stderr).toContain("exit 1");
    // pio run builds before it uploads: the advice must not assume the upload was what failed.
    expect(r.stderr).toContain("a build error");
    expect(r.stderr).not.toContain("reading");
  });

  async function flashAndPlay(dir: string, args: string[]): Promise<CliResult> {
    const run = startCli(["flash", "--port", pty.dev, "--timeout", "10", ...args], { cwd: dir, env: env() });
    // flash opens the port once to check it, before pio: wait for pio, then for the monitor.
    const deadline = Date.now() + 20_000;
    while (pioCalls(pio.argsFile).length === 0) {
      if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`pio was not run:\n${(await run.done).stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitUntilOpen(run.child.pid!, pty.dev);
    const caId = createHash("sha256").update(readFileSync(path.join(dir, "certs", "ca.crt.der"))).digest("hex").slice(0, 16);
    await writeSlowly(pty.feed, fixtureBytes("verified.log", caId));
    return run.done;
  }

  it("monitors the board after the upload and reports the verdict", async () => {
    const r = await flashAndPlay(flashProject(), []);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("verified: dev01 connected to win10.local:8883");
  });

  it("with --json, keeps stdout for the verdict alone: pio's output goes to stderr", async () => {
    const r = await flashAndPlay(flashProject(), ["--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ result: "verified", exitCode: 0 });
    expect(r.stderr).toContain("Uploading .pio/build/d1_mini/firmware.bin");
  });

  describe("checks everything before it writes or runs anything (exit 2)", () => {
    const refused = (r: CliResult, dir: string, message: string) => {
      expect(r.status, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(pioCalls(pio.argsFile)).toEqual([]);
      expect(existsSync(path.join(dir, "certs"))).toBe(false);
    };

    it("an unknown environment", () => {
      const dir = flashProject();
      refused(runCli(["flash", "--port", pty.dev, "--env", "esp32dev"], { cwd: dir, env: env() }), dir, 'Cannot find environment "esp32dev"');
    });

    it("a platformio.ini without environments", () => {
      const dir = flashProject(projectIni());
      refused(runCli(["flash", "--port", pty.dev], { cwd: dir, env: env() }), dir, "platformio.ini has no [env:NAME] section");
    });

    it("no pio on PATH (nor in ~/.platformio)", () => {
      const dir = flashProject();
      const r = runCli(["flash", "--port", pty.dev], { cwd: dir, env: { PATH: path.join(tmpProject(), "empty"), HOME: tmpProject() } });
      refused(r, dir, "PlatformIO Core (`pio`) is not on PATH");
      expect(r.stderr).toContain("pip install -U platformio");
    });

    it("a --timeout the monitor would refuse after the upload", () => {
      const dir = flashProject();
      refused(runCli(["flash", "--port", pty.dev, "--timeout", "soon"], { cwd: dir, env: env() }), dir, "Cannot use --timeout soon");
    });

    it("a port that does not exist", () => {
      const dir = flashProject();
      refused(runCli(["flash", "--port", "/dev/ttyUSB-esp-certs-none"], { cwd: dir, env: env() }), dir, "there is no such port");
    });

    it.skipIf(!hasFlock)("a port another program holds", async () => {
      const dir = flashProject();
      const holder = spawn("flock", [pty.dev, "sleep", "30"], { stdio: "ignore" });
      try {
        await new Promise((r) => setTimeout(r, 200));
        refused(runCli(["flash", "--port", pty.dev], { cwd: dir, env: env() }), dir, "another program is using it");
      } finally {
        holder.kill("SIGTERM");
      }
    });

    it("a port the user may not open", () => {
      const dir = flashProject();
      const args = ["--project-dir", dir, "flash", "--port", pty.dev];
      chmodSync(realpathSync(pty.dev), 0o000);
      let r: CliResult;
      if (process.getuid?.() === 0) {
        // root opens anything: drop the capabilities that override file modes. (Not another
        // user: the clone, and so the CLI, may sit in a folder only root may enter.)
        if (!requireTool("setpriv", "util-linux")) return;
        const caps = "-dac_override,-dac_read_search";
        const s = spawnSync("setpriv", [`--inh-caps=${caps}`, `--bounding-set=${caps}`, process.execPath, cliPath, ...args], {
          cwd: dir,
          encoding: "utf8",
          env: { ...process.env, ...env(), NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE },
        });
        r = { status: s.status ?? -1, stdout: s.stdout, stderr: s.stderr };
      } else {
        r = runCli(args, { cwd: dir, env: env() });
      }
      refused(r, dir, "permission denied");
      expect(r.stderr).toContain("sudo usermod -aG");
    });
  });
});

describe("findPio", () => {
  function dirWith(name: string): string {
    const dir = tmpProject("esp-certs-pio-");
    writeFileSync(path.join(dir, name), "");
    return dir;
  }

  it("reads a Windows Path: ';'-separated, entries may be quoted, pio.exe", () => {
    const dir = dirWith("pio.exe");
    const home = tmpProject();
    expect(findPio({ Path: `C:\\nowhere;"${dir}"` }, "win32", home)).toBe(path.join(dir, "pio.exe"));
    expect(findPio({ Path: "C:\\nowhere" }, "win32", home)).toBeUndefined();
  });

  it("falls back to the PlatformIO IDE's own copy in ~/.platformio/penv", () => {
    const home = tmpProject();
    const bin = path.join(home, ".platformio", "penv", "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, "pio"), "#!/bin/sh\n");
    chmodSync(path.join(bin, "pio"), 0o755);
    expect(findPio({ PATH: "/nonexistent" }, "linux", home)).toBe(path.join(bin, "pio"));
  });
});
