// Issue 11, item 7: a folder where a file belongs, a full disk, a read-only disk, an I/O error:
// each a message naming the file and the fix, exit 2, no stack trace, no partial file.
import { spawnSync } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode, fromSystemError } from "../../src/errors.js";
import { cliPath, runCli, TEST_PASSPHRASE, tmpProject } from "../helpers/cli.js";
import { project, projectIni } from "../helpers/project.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";

const EC = { extra: "key_type = ec-p256\n", env: true } as const;
const INI = projectIni(EC);
const refused = (r: { status: number; stderr: string }, words: RegExp) => {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).toMatch(words);
  expect(r.stderr).not.toMatch(/\n\s+at /);
};

/** Every file below `dir`: no temp left, and each certificate and key complete. */
function expectNoPartialFile(dir: string): void {
  const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : [path.join(d, n)]));
  for (const f of walk(dir)) {
    expect(f).not.toMatch(/esp-certs-tmp$/);
    if (f.endsWith(".crt.pem")) expect(() => new X509Certificate(readFileSync(f)), f).not.toThrow();
    if (f.endsWith(".key.pem")) expect(() => createPrivateKey({ key: readFileSync(f), passphrase: TEST_PASSPHRASE }), f).not.toThrow();
  }
}

describe("a folder where a file belongs (EISDIR)", () => {
  it("platformio.ini, a store file, mosquitto.conf: named, exit 2", () => {
    const a = tmpProject();
    mkdirSync(path.join(a, "platformio.ini"));
    refused(runCli(["generate"], { cwd: a }), /Cannot read .*platformio\.ini: it is a folder, not a file/);

    const b = project(EC);
    mkdirSync(path.join(b, "certs", "ca.crt.pem"), { recursive: true });
    refused(runCli(["generate"], { cwd: b }), /Cannot read .*ca\.crt\.pem: it is a folder, not a file/);

    const c = project(EC);
    expect(runCli(["generate"], { cwd: c }).status).toBe(0);
    mkdirSync(path.join(c, "broker", "mosquitto.conf"), { recursive: true });
    refused(runCli(["broker"], { cwd: c }), /Cannot read .*mosquitto\.conf: it is a folder, not a file/);
  });
});

describe("a folder where the CA key, the manifest or the lock belongs (EISDIR)", () => {
  it("generate, hook, header, doctor and revoke name it, without a stack trace", () => {
    const store = project(EC);
    expect(runCli(["generate"], { cwd: store }).status).toBe(0);
    for (const name of ["ca.key.pem", "manifest.json", ".esp-certs.lock"]) {
      const p = tmpProject();
      cpSync(store, p, { recursive: true });
      const file = path.join(p, "certs", name);
      rmSync(file, { force: true });
      mkdirSync(file);
      for (const args of [["generate", "--rekey", "dev01"], ["hook", "--env", "d1_mini"], ["header", "--client", "dev02"], ["doctor", "--broker-address", "127.0.0.1:1"], ["revoke", "dev02"]]) {
        const r = runCli(args, { cwd: p });
        const what = `${name}: ${args.join(" ")}: ${r.stderr}${r.stdout}`;
        expect(r.stderr, what).not.toMatch(/\n\s+at |EISDIR|illegal operation/);
        // header and doctor need no CA key; what does need the file says which one and why.
        if (r.status === 2) expect(`${r.stderr}${r.stdout}`, what).toContain(`${name}: it is a folder, not a file`);
        expect([0, 1, 2], what).toContain(r.status);
      }
      expect(statSync(file).isDirectory(), "the folder is the user's: left alone").toBe(true);
    }
  });
});

describe("an I/O error", () => {
  it("on a write is a message naming the file, exit 2", () => {
    const err = Object.assign(new Error("EIO: i/o error, write"), { code: "EIO", syscall: "write", path: "/p/certs/ca.key.pem" });
    const e = fromSystemError(err)!;
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.message).toBe("Cannot write /p/certs/ca.key.pem: the disk reported an input/output error");
  });
});

const root = process.getuid?.() === 0;
const hasUnshare = requireTool("unshare", "util-linux");
if (!root) console.warn("SKIPPED: full and read-only disks need root (unshare -m and mount)");

/** Runs `script` in a mount namespace of its own (its mounts vanish with it); "$NODE" "$CLI_JS" runs the built CLI (quoted: a clone may sit in a path with spaces). */
function inNamespace(script: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("unshare", ["-m", "sh", "-ec", script], {
    encoding: "utf8",
    env: { ...process.env, NODE: process.execPath, CLI_JS: cliPath, ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE, NO_COLOR: "1" },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `script(disk)` in a namespace where project `p` was copied onto a 1 MiB tmpfs at `disk`. */
function onSmallDisk(p: string, prefix: string, script: (disk: string) => string): { status: number; stdout: string; stderr: string } {
  const disk = path.join(tmpDir(prefix), "disk");
  mkdirSync(disk);
  return inNamespace(`
      mount -t tmpfs -o size=1m tmpfs "${disk}"
      cp -a "${p}/." "${disk}/"
${script(disk)}`);
}

describe.skipIf(!root || !hasUnshare)("full and read-only disks", () => {
  it("a full disk (ENOSPC) during generate: the disk is named full, exit 2, no partial file; the next run completes", () => {
    for (const size of ["12k", "24k", "40k", "56k"]) {
      const base = tmpDir("esp-certs-full-");
      const disk = path.join(base, "disk");
      const copy = path.join(base, "copy");
      mkdirSync(disk);
      const r = inNamespace(`
        mount -t tmpfs -o size=${size} tmpfs "${disk}"
        printf '%s' '${INI}' > "${disk}/platformio.ini"
        set +e; (cd "${disk}" && "$NODE" "$CLI_JS" generate); echo "exit=$?"; set -e
        cp -a "${disk}" "${copy}"`);
      expect(r.stdout, `${size}: ${r.stderr}`).toContain("exit=2");
      expect(r.stderr).toMatch(/esp-certs: Cannot (write|create the folder|open|move a file to) .*: the disk is full/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expectNoPartialFile(copy);
      // Space again: the next run completes the store.
      expect(runCli(["generate"], { cwd: copy }).status).toBe(0);
    }
  });

  it("a disk with less room than the file: a short write is not renamed into place (exit 2, old file unchanged)", () => {
    // An RSA CA makes a header of ~17 KB; the disk keeps 8 KB free, so the kernel writes part of it.
    const p = project({ env: true });
    expect(runCli(["generate"], { cwd: p }).status).toBe(0);
    const header = path.join("include", "esp_certs.h");
    const before = readFileSync(path.join(p, header));
    const r = onSmallDisk(p, "esp-certs-short-", (disk) => `
      dd if=/dev/zero of="${disk}/fill" bs=1024 count=$(( $(df -k --output=avail "${disk}" | tail -1) - 8 )) 2>/dev/null
      set +e; (cd "${disk}" && "$NODE" "$CLI_JS" header --client dev02); echo "exit=$?"; set -e
      cmp "${p}/${header}" "${disk}/${header}" && echo unchanged
      ls -a "${disk}/include"`);
    expect(r.stdout, r.stderr).toContain("exit=2");
    expect(r.stderr).toMatch(/Cannot write .*esp_certs\.h: the disk is full/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toContain("unchanged");
    expect(r.stdout).not.toMatch(/esp-certs-tmp/);
    expect(before.length).toBeGreaterThan(8192);
  });

  it("a full disk when taking the store's lock: said so, exit 2, no empty lock left for the next run", () => {
    const p = project(EC);
    expect(runCli(["generate"], { cwd: p }).status).toBe(0);
    const r = onSmallDisk(p, "esp-certs-lockfull-", (disk) => `
      dd if=/dev/zero of="${disk}/fill" bs=4096 2>/dev/null || true
      set +e; (cd "${disk}" && "$NODE" "$CLI_JS" generate --rekey dev01); echo "exit=$?"; set -e
      ls -a "${disk}/certs"`);
    expect(r.stdout, r.stderr).toContain("exit=2");
    expect(r.stderr).toMatch(/Cannot write .*\.esp-certs\.lock: the disk is full/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toContain(".esp-certs.lock");
  });

  it("a no-op generate on a read-only checkout: nothing to write, so exit 0 (the hook works there too)", () => {
    const p = project(EC);
    expect(runCli(["generate"], { cwd: p }).status).toBe(0);
    const r = inNamespace(`
      mount --bind "${p}" "${p}" && mount -o remount,bind,ro "${p}"
      cd "${p}" && "$NODE" "$CLI_JS" generate && "$NODE" "$CLI_JS" hook --env d1_mini`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/read-only/);
  });

  it("a read-only disk (EROFS), with and without a store: said so, exit 2", () => {
    const full = project(EC);
    expect(runCli(["generate"], { cwd: full }).status).toBe(0);
    const empty = project(EC);
    for (const [dir, args] of [
      [full, "generate --rekey dev01"],
      [empty, "generate"],
    ] as const) {
      const r = inNamespace(`
        mount --bind "${dir}" "${dir}" && mount -o remount,bind,ro "${dir}"
        cd "${dir}" && "$NODE" "$CLI_JS" ${args}`);
      refused(r, /esp-certs: Cannot .*: the file system is read-only|a read-only disk/);
    }
    // The header's folder on a read-only disk, not yet there: a recursive mkdir says ENOENT.
    const p = project({ ...EC, extra: `header = ro/include/esp_certs.h\n${EC.extra}` });
    const ro = path.join(p, "ro");
    mkdirSync(ro);
    const r = inNamespace(`mount --bind "${ro}" "${ro}" && mount -o remount,bind,ro "${ro}"; cd "${p}" && "$NODE" "$CLI_JS" generate`);
    refused(r, /Cannot create the folder .*ro\/include\/esp_certs\.h: the file system is read-only/);
  });
});
