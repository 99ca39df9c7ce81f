// firmware/esp_certs_hook.py run by Python 3 as PlatformIO's SCons runs it (a stand-in
// environment, exec() without __file__), calling the built CLI: it makes the store and
// the header on the first build, is silent and touches nothing on the next, and stops the
// build with the CLI's own message when something is wrong.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliPath, nodeOnlyPath, repoRoot, runCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { requirePython } from "../helpers/tools.js";
import { INI } from "../render/helpers.js";
import { headerOf, project } from "../helpers/project.js";

const pythonCommand = requirePython();
const windows = process.platform === "win32";
const hookScript = path.join(repoRoot, "firmware", "esp_certs_hook.py");
const runner = path.join(repoRoot, "test", "platformio", "fixtures", "run_hook.py");
/** A PATH with the given folders (and Windows' own programs), and nothing else of this machine's. */
const pathWith = (...dirs: string[]) =>
  [...dirs, ...(windows ? [path.join(process.env.SystemRoot ?? "C:\\Windows", "System32")] : [])].join(path.delimiter);
// What a Windows process needs to start at all, whatever PATH the test gives it.
const windowsBase = windows ? { SystemRoot: process.env.SystemRoot, PATHEXT: process.env.PATHEXT, TEMP: process.env.TEMP } : {};

const hookProject = (ini = INI()) => project({ ini, prefix: "esp-certs-hook-" });

/**
 * The hook script as `esp-certs init` installs it into `dir` (no dist/ beside it), with an
 * esp-certs bundle in `<prefix>/node_modules` (the project's own copy, or a global install's).
 */
function installedHook(dir: string, prefix = dir): string {
  const script = path.join(dir, "esp_certs_hook.py");
  copyFileSync(hookScript, script);
  mkdirSync(path.join(prefix, "node_modules", "esp-certs", "dist"), { recursive: true });
  symlinkSync(cliPath, path.join(prefix, "node_modules", "esp-certs", "dist", "esp-certs.cjs"));
  return script;
}

describe.skipIf(pythonCommand === undefined)("the PlatformIO pre-build hook", () => {
  let python: string;
  // PATH for the builds: node alone, not an esp-certs the user installed beside it.
  let nodeOnly: string;
  beforeAll(() => {
    // The absolute interpreter: a pyenv shim would need the PATH that some tests take away.
    python = spawnSync(pythonCommand!, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
    // Windows lets only administrators make file symlinks; its job has no esp-certs beside node.
    nodeOnly = windows ? path.dirname(process.execPath) : nodeOnlyPath();
  });

  const build = (dir: string, opts: { script?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}) => {
    const r = spawnSync(python, [runner, opts.script ?? hookScript, dir, "d1_mini", ...(opts.args ?? [])], {
      cwd: dir,
      encoding: "utf8",
      env: { ...windowsBase, PATH: pathWith(nodeOnly), NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE, ...opts.env },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("makes the store and the header on the first build, then stays silent and touches nothing", () => {
    const dir = hookProject();
    const first = build(dir);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/esp-certs: there is no certificate store yet: generating/);
    expect(first.stdout).toMatch(/esp-certs: wrote include\/esp_certs\.h \(client dev01, broker win10\.local:8883\)/);
    const header = headerOf(dir);
    const manifest = path.join(dir, "certs", "manifest.json");
    const stamps = () => [statSync(header).mtimeMs, statSync(manifest).mtimeMs];
    const before = stamps();

    const second = build(dir);
    expect(second).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(stamps()).toEqual(before);
  });

  it("re-issues the broker certificate when its names change, and moves the header's clock floor to it", () => {
    const dir = hookProject();
    expect(build(dir).status).toBe(0);
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    writeFileSync(path.join(dir, "platformio.ini"), INI("server_names = localhost, mosquitto, broker.lan\n"));
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[esp_certs\] changed since the certificates were issued: generating/);
    expect(r.stdout).toMatch(/reissued +broker certificate/);
    // The broker folder follows, and the build log says the broker must load it.
    expect(readFileSync(path.join(dir, "broker", "certs", "server.crt.pem"))).toEqual(readFileSync(path.join(dir, "certs", "server.crt.pem")));
    expect(r.stdout).toMatch(/esp-certs: updated broker \(certs\/server\.crt\.pem.*\n.*Restart the broker/);
    // The device checks the broker's certificate against its clock: the floor must not be older than it.
    const manifest = JSON.parse(readFileSync(path.join(dir, "certs", "manifest.json"), "utf8"));
    const header = readFileSync(headerOf(dir), "utf8");
    expect(header).toContain(`#define ESP_CERTS_GENERATED_AT ${manifest.server.issuedAt} `);
    expect(build(dir)).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  it("keeps the broker folder in step when mqtt_port changes, as it does the header", () => {
    const dir = hookProject();
    expect(build(dir).status).toBe(0);
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    writeFileSync(path.join(dir, "platformio.ini"), INI("mqtt_port = 8884\n"));
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(headerOf(dir), "utf8")).toContain("#define ESP_CERTS_MQTT_PORT 8884");
    // The device now dials 8884: a broker still listening on 8883 would never see it.
    expect(readFileSync(path.join(dir, "broker", "mosquitto.conf"), "utf8")).toMatch(/^listener 8884$/m);
    expect(readFileSync(path.join(dir, "broker", "docker-compose.yml"), "utf8")).toContain('"8884:8884"');
    // `docker restart` would keep the container's old port mapping.
    expect(r.stdout).toMatch(/Recreate the broker's container[\s\S]*docker compose up -d --force-recreate/);
    expect(build(dir)).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  it("rewrites the broker's acl when apps changes, which changes nothing in the store, and says to reload", () => {
    const dir = hookProject(INI("clients = dev01, dev02, dash\napps = dev02\n"));
    expect(build(dir).status).toBe(0);
    expect(runCli(["broker", "--paths", "local"], { cwd: dir }).status).toBe(0);
    expect(build(dir)).toEqual({ status: 0, stdout: "", stderr: "" });
    writeFileSync(path.join(dir, "platformio.ini"), INI("clients = dev01, dev02, dash\napps = dev02, dash\n"));
    const r = build(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, "broker", "acl"), "utf8")).toMatch(/^user dash\ntopic readwrite #$/m);
    expect(r.stdout).toMatch(/esp-certs: updated broker \(acl\)\n.*Reload the broker/);
    expect(build(dir)).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  // Regression: the hook checked only that files existed, and built a header pairing a
  // replaced key with the old certificate (a --rekey killed after writing the key).
  it("notices a client key that is not the one the manifest recorded, and repairs the store", () => {
    const dir = hookProject();
    expect(build(dir).status).toBe(0);
    const other = hookProject();
    expect(build(other).status).toBe(0);
    for (const f of ["dev01.key.pem", "dev01.key.der"]) {
      copyFileSync(path.join(other, "certs", "clients", f), path.join(dir, "certs", "clients", f));
    }
    const repaired = build(dir);
    expect(repaired.status, repaired.stderr).toBe(0);
    expect(repaired.stdout).toMatch(/certs\/clients\/dev01\.key\.pem is not the file the manifest recorded: generating/);
    const pub = (args: string[]) => spawnSync("openssl", args, { encoding: "utf8" }).stdout;
    const certs = path.join(dir, "certs", "clients");
    expect(pub(["pkey", "-in", path.join(certs, "dev01.key.pem"), "-pubout"])).toBe(pub(["x509", "-in", path.join(certs, "dev01.crt.pem"), "-noout", "-pubkey"]));
    expect(build(dir)).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  it("renders for the client PlatformIO resolved for the environment", () => {
    const dir = hookProject();
    const r = build(dir, { args: ["dev02"] });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(headerOf(dir), "utf8")).toContain('#define ESP_CERTS_CLIENT_ID "dev02"');
  });

  it("does nothing when an IDE only dumps its integration data, or for `pio run -t clean`", () => {
    const dir = hookProject();
    expect(build(dir, { args: ["--integration-dump"] })).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(build(dir, { args: ["--clean"] })).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(existsSync(path.join(dir, "certs"))).toBe(false);
  });

  it("writes the esp-certs flash layout the environment links with, keeps it, and never replaces a file of the user's", () => {
    const dir = hookProject(`${INI()}board_build.ldscript = esp-certs.flash.4m1m.ld\n`);
    const ld = path.join(dir, "esp-certs.flash.4m1m.ld");
    const first = build(dir);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/esp-certs: wrote esp-certs\.flash\.4m1m\.ld: the flash layout \[env:d1_mini\] links with/);
    expect(readFileSync(ld, "utf8")).toMatch(/^PROVIDE \( _ESP_CERTS_CRED_start = 0x405F9000 \);$/m);
    expect(build(dir)).toEqual({ status: 0, stdout: "", stderr: "" });
    // Edited or removed: written again (the stamp records it, so the script starts esp-certs).
    writeFileSync(ld, readFileSync(ld, "utf8").replace("0x405F9000", "0x405FB000"));
    expect(build(dir).stdout).toMatch(/wrote esp-certs\.flash\.4m1m\.ld/);
    rmSync(ld);
    expect(build(dir).stdout).toMatch(/wrote esp-certs\.flash\.4m1m\.ld/);
    // A file of that name that esp-certs did not write stops the build, untouched.
    writeFileSync(ld, "/* my own layout */\n");
    const foreign = build(dir);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toMatch(/Cannot write esp-certs\.flash\.4m1m\.ld: a file of that name is there, and esp-certs did not write it/);
    expect(readFileSync(ld, "utf8")).toBe("/* my own layout */\n");
  });

  it("stops the build naming the layouts when board_build.ldscript names one esp-certs does not have", () => {
    const dir = hookProject(`${INI()}board_build.ldscript = esp-certs.flash.4m9m.ld\n`);
    const r = build(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Cannot write esp-certs\.flash\.4m9m\.ld for \[env:d1_mini\]: esp-certs has no flash layout of that name/);
    expect(r.stderr).toMatch(/4m1m, 4m2m, 4m3m/);
    expect(existsSync(path.join(dir, "esp-certs.flash.4m9m.ld"))).toBe(false);
  });

  it("stops the build with the CLI's message on a bad configuration", () => {
    const dir = hookProject(INI("mqtt_port = eighty\n"));
    const r = build(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Cannot use mqtt_port "eighty": it must be a whole number/);
    expect(r.stderr).toMatch(/the pre-build step failed \(exit 2\); the build stops/);
    expect(existsSync(path.join(dir, "certs"))).toBe(false);
  });

  it("stops the build saying how to give the CA passphrase when one is needed and missing", () => {
    const dir = hookProject();
    const r = build(dir, { env: { ESP_CERTS_CA_PASSPHRASE: undefined } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ESP_CERTS_CA_PASSPHRASE/);
  });

  it("uses the project's node_modules/esp-certs when there is one", () => {
    const dir = hookProject();
    const script = installedHook(dir);
    const r = build(dir, { script });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(headerOf(dir))).toBe(true);
  });

  it("finds node.exe where the Windows installer puts it when PATH lacks it (an IDE started before Node.js was installed)", () => {
    const dir = hookProject();
    const script = installedHook(dir);
    // %ProgramFiles%\nodejs\node.exe, with a space in the path as on Windows.
    const programFiles = path.join(dir, "Program Files");
    mkdirSync(path.join(programFiles, "nodejs"), { recursive: true });
    symlinkSync(process.execPath, path.join(programFiles, "nodejs", "node.exe"));
    const r = build(dir, { script, env: { PATH: path.join(dir, "nowhere"), ProgramFiles: programFiles } });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(headerOf(dir))).toBe(true);
  });

  it("runs a global install's bundle with node, not through its shim (esp-certs.cmd on Windows)", () => {
    const dir = hookProject();
    // npm's Windows layout: <prefix>/esp-certs(.cmd) beside <prefix>/node_modules/esp-certs.
    const prefix = path.join(dir, "npm prefix");
    const script = installedHook(dir, prefix);
    if (windows) writeFileSync(path.join(prefix, "esp-certs.cmd"), "@echo the shim ran 1>&2\r\n@exit /b 9\r\n");
    else writeFileSync(path.join(prefix, "esp-certs"), "#!/bin/sh\necho the shim ran >&2\nexit 9\n", { mode: 0o755 });
    const r = build(dir, { script, env: { PATH: pathWith(prefix, nodeOnly) } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/the shim ran/);
    expect(existsSync(headerOf(dir))).toBe(true);
  });

  it("says how to install esp-certs, or Node.js, when they cannot be found", () => {
    const dir = hookProject();
    const script = path.join(dir, "esp_certs_hook.py");
    copyFileSync(hookScript, script);
    const noCli = build(dir, { script });
    expect(noCli.status).toBe(1);
    expect(noCli.stderr).toMatch(/esp-certs is not installed/);
    expect(noCli.stderr).toContain(path.join(dir, "node_modules", "esp-certs", "dist", "esp-certs.cjs"));
    expect(noCli.stderr).toMatch(/npm install --save-dev PATH\/TO\/esp-certs/);

    const noNode = build(dir, { script, env: { PATH: path.join(dir, "nowhere") } });
    expect(noNode.status).toBe(1);
    expect(noNode.stderr).toMatch(/Node\.js is not installed[\s\S]*https:\/\/nodejs\.org/);
  });
});
