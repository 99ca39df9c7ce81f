import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { defaultDeps, ensureStore } from "../../src/store/ensure.js";
import { cliPath, runCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { project, projectIni } from "../helpers/project.js";
import { requirePosix, requireTool } from "../helpers/tools.js";

requireTool("openssl", "openssl");


const openssl = (...args: string[]) => {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

describe("the store's edges", () => {
  it("takes subject fields literally: DN syntax, quotes and UTF-8", () => {
    const organization = 'Team, CN=root "quoted" Ünï';
    const dir = project({ extra: `organization = ${organization}\nlocality = \\back+slash=\n` });
    const r = runCli(["generate"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    for (const f of ["ca.crt.pem", "server.crt.pem", "clients/dev01.crt.pem"]) {
      const json = openssl("x509", "-in", path.join(dir, "certs", f), "-noout", "-subject", "-nameopt", "utf8,sep_multiline");
      expect(json).toContain(`O=${organization}`);
      expect(json).toContain("L=\\back+slash=");
    }
    expect(openssl("verify", "-CAfile", path.join(dir, "certs/ca.crt.pem"), path.join(dir, "certs/server.crt.pem"))).toContain("OK");
  });

  // Regression: a CA key kept offline (moved away after issuing) crashed every later
  // generate with ENOENT, even one that had nothing to sign.
  it("runs without the CA key when nothing needs signing, and asks for it by name when something does", () => {
    const dir = project();
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    renameSync(path.join(dir, "certs/ca.key.pem"), path.join(dir, "ca.key.offline"));
    const kept = runCli(["generate"], { cwd: dir });
    expect(kept.status, kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(/kept\s+CA/);
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ extra: "clients = dev01, dev02, dev03\n" }));
    const needs = runCli(["generate"], { cwd: dir });
    expect(needs.status).toBe(2);
    expect(needs.stderr).toMatch(/^esp-certs: Cannot sign certificates: the CA key .*ca\.key\.pem is missing/);
  });

  // Regression: two --new-ca runs within one clock tick shared a backup folder, and the
  // second moved its CA over the first one's backup: a CA lost.
  it("--new-ca never moves a CA over an earlier backup", async () => {
    const dir = project();
    const config = resolveConfig(dir, projectIni());
    const fixed = new Date();
    const deps = { ...defaultDeps(), now: () => fixed };
    const opts = { passphrase: { env: TEST_PASSPHRASE } };
    const first = await ensureStore(config, opts, deps);
    const second = await ensureStore(config, { ...opts, newCa: true }, deps);
    await ensureStore(config, { ...opts, newCa: true }, deps);
    const backups = readdirSync(path.join(dir, "certs/backup"));
    expect(backups).toHaveLength(2);
    const backedUp = backups.map((b) => createHash("sha256").update(readFileSync(path.join(dir, "certs/backup", b, "ca.crt.der"))).digest("hex"));
    expect(backedUp.sort()).toEqual([first.manifest.ca.sha256, second.manifest.ca.sha256].sort());
  });

  // Regression: OpenSSL 1.1's `genrsa -aes256` (the workshop's command) writes the
  // traditional "Proc-Type: 4,ENCRYPTED" PEM; it was called truncated or corrupted.
  it("signs with a CA made by the workshop's openssl commands, its key in the traditional encrypted PEM", () => {
    const dir = project();
    const c = (f: string) => path.join(dir, "certs", f);
    mkdirSync(path.join(dir, "certs"));
    openssl("genrsa", "-aes256", "-traditional", "-passout", `pass:${TEST_PASSPHRASE}`, "-out", c("ca.key.pem"), "2048");
    expect(readFileSync(c("ca.key.pem"), "utf8")).toContain("Proc-Type: 4,ENCRYPTED");
    openssl("req", "-new", "-x509", "-sha256", "-days", "3560", "-subj", "/C=GB/ST=DOR/L=Bournemouth/O=MOSQUITTO/CN=Mosquitto Root CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      "-passin", `pass:${TEST_PASSPHRASE}`, "-key", c("ca.key.pem"), "-out", c("ca.crt.pem"));
    const caBefore = readFileSync(c("ca.crt.pem"), "utf8");
    const r = runCli(["generate"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(c("ca.crt.pem"), "utf8")).toBe(caBefore);
    expect(openssl("verify", "-CAfile", c("ca.crt.pem"), "-purpose", "sslserver", c("server.crt.pem"))).toContain("OK");
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ host: "other.local" }));
    const wrong = runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "wrong" } });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/passphrase does not decrypt/);
  });

  it.skipIf(!requirePosix("umask"))("keeps the store's folders private whatever the umask", () => {
    const dir = project();
    const r = spawnSync("sh", ["-c", `umask 000; exec "${process.execPath}" "${cliPath}" generate`], {
      cwd: dir,
      env: { ...process.env, ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE },
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    for (const d of ["certs", "certs/clients"]) expect(statSync(path.join(dir, d)).mode & 0o777, d).toBe(0o700);
    for (const f of ["ca.key.pem", "server.key.pem", "clients/dev01.key.pem", "clients/dev01.key.der"]) {
      expect(statSync(path.join(dir, "certs", f)).mode & 0o777, f).toBe(0o600);
    }
  });

  // Regression: with the names swapped, the SAN set stayed the same and the broker kept a
  // CN that was no longer mqtt_host (docs/store.md: CN = mqtt_host).
  it("re-issues the broker certificate when mqtt_host changes to one of its other names", () => {
    const dir = project({ host: "a.local", extra: "server_names = b.local\n" });
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ host: "b.local", extra: "server_names = a.local\n" }));
    const r = runCli(["generate"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/reissued broker certificate.*its names changed/);
    expect(openssl("x509", "-in", path.join(dir, "certs/server.crt.pem"), "-noout", "-subject")).toMatch(/CN ?= ?b\.local\s*$/);
    expect(existsSync(path.join(dir, "certs/backup"))).toBe(false);
  });
});

describe("file system errors", () => {
  // Regression: these printed node's stack trace and exited 1.
  it("say which file and why, and exit 2, without a stack trace", () => {
    const dir = project();
    writeFileSync(path.join(dir, "certs"), "not a folder");
    const r = runCli(["generate"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^esp-certs: Cannot read the folder .*certs: .*is a file, not a folder\n\s+\S/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const hook = runCli(["hook", "--env", "d1"], { cwd: project({ env: "d1", extra: "cert_dir = platformio.ini/certs\n" }) });
    expect(hook.status).toBe(2);
    expect(hook.stderr).toMatch(/^esp-certs: Cannot .*platformio\.ini.*: .*is a file, not a folder/);
    expect(hook.stderr).not.toMatch(/\n\s+at /);
  });
});
