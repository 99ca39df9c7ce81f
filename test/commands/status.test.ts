import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, runCli } from "../helpers/cli.js";
import { project, projectIni } from "../helpers/project.js";
import { requirePosix, requireTool } from "../helpers/tools.js";

requireTool("openssl", "openssl");


describe("esp-certs status", () => {
  it("lists each certificate with its names, serial, fingerprint and expiry, as openssl sees them", () => {
    const dir = project();
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    const r = runCli(["status", "--json"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const { certificates } = JSON.parse(r.stdout);
    expect(certificates.map((c: { name: string }) => c.name)).toEqual(["ca", "server", "dev01", "dev02", "esp-certs"]);
    const server = certificates[1];
    expect(server.dns).toEqual(["win10.local", "localhost", "mosquitto"]);
    expect(server.signedByCa).toBe(true);
    expect(server.daysLeft).toBeGreaterThanOrEqual(824);
    const fp = spawnSync("openssl", ["x509", "-in", path.join(dir, "certs/server.crt.pem"), "-noout", "-fingerprint", "-sha256", "-serial"], { encoding: "utf8" }).stdout;
    expect(fp.replace(/:/g, "").toLowerCase()).toContain(server.sha256);
    expect(fp.toLowerCase()).toContain(`serial=${server.serial}`);
    expect(certificates[2].keyType).toBe("ec-p256");

    const text = runCli(["status"], { cwd: dir });
    expect(text.stdout).toMatch(/^broker\s+\S*server\.crt\.pem\n\s+subject\s+.*CN=win10\.local/m);
    expect(text.stdout).toMatch(/sha256\s+([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(text.stdout).toMatch(/expires\s+\d{4}-\d\d-\d\d \(\d+ days left\)/);
  });

  it("says how to begin when the store is empty", () => {
    const r = runCli(["status"], { cwd: project() });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/No certificates in .*Run "esp-certs generate"/);
  });
});

describe("CA passphrase and key-type flags", () => {
  it("--no-ca-passphrase stores the CA key unencrypted, and warns", () => {
    const dir = project();
    const r = runCli(["generate", "--no-ca-passphrase"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: The CA key .* unencrypted/);
    expect(readFileSync(path.join(dir, "certs/ca.key.pem"), "utf8")).toContain("BEGIN PRIVATE KEY");
    // And it is usable without a passphrase afterwards.
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ host: "other.local" }));
    expect(runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } }).status).toBe(0);
  });

  it("--ca-passphrase-file is read, and a missing file is refused", () => {
    const dir = project();
    const file = path.join(dir, "pass.txt");
    writeFileSync(file, "from-a-file\n");
    expect(runCli(["generate", "--ca-passphrase-file", file], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } }).status).toBe(0);
    const ok = spawnSync("openssl", ["pkey", "-in", path.join(dir, "certs/ca.key.pem"), "-passin", "pass:from-a-file", "-noout"]);
    expect(ok.status).toBe(0);
    const missing = runCli(["generate", "--new-ca", "--ca-passphrase-file", path.join(dir, "nope.txt")], { cwd: dir });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/Cannot read --ca-passphrase-file/);
  });

  it("--key-type and --client-key-type choose the keys, for one run with a warning, or kept by init", () => {
    const dir = project();
    const r = runCli(["generate", "--key-type", "ec-p256", "--client-key-type", "rsa2048"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--key-type ec-p256 is for this run only.*esp-certs init --key-type ec-p256/);
    const { certificates } = JSON.parse(runCli(["status", "--json"], { cwd: dir }).stdout);
    expect(certificates.map((c: { keyType: string }) => c.keyType)).toEqual(["ec-p256", "ec-p256", "rsa2048", "rsa2048", "rsa2048"]);

    const bad = runCli(["generate", "--key-type", "rsa1024"], { cwd: dir });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/rsa2048, ec-p256/);

    const kept = project({ ini: "" });
    expect(runCli(["init", "--host", "win10.local", "--key-type", "ec-p256", "--yes"], { cwd: kept }).status).toBe(0);
    expect(readFileSync(path.join(kept, "platformio.ini"), "utf8")).toMatch(/^key_type = ec-p256$/m);
  });
});

describe("colour", () => {
  // Regression: red was decided by stderr's terminal, so `esp-certs status > file` run in a
  // terminal wrote escape codes into the file.
  it.skipIf(!requirePosix("a pseudo-terminal (Python's pty module)"))("goes only to a terminal: stdout piped while stderr is a terminal gets none", () => {
    requireTool("python3", "python3");
    const dir = project();
    const other = project();
    for (const d of [dir, other]) expect(runCli(["generate"], { cwd: d }).status).toBe(0);
    // A broker certificate of another store: status marks it in red.
    writeFileSync(path.join(dir, "certs/server.crt.pem"), readFileSync(path.join(other, "certs/server.crt.pem")));
    const driver = `
import os, pty, subprocess, sys
master, slave = pty.openpty()
env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
env["TERM"] = "xterm"
p = subprocess.run([sys.argv[1], sys.argv[2], "status"], stdout=subprocess.PIPE, stderr=slave, env=env)
sys.stdout.write(p.stdout.decode())
`;
    const r = spawnSync("python3", ["-c", driver, process.execPath, cliPath], { cwd: dir, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("not signed by this store's CA");
    expect(r.stdout).not.toContain("\x1b[");
  });
});
