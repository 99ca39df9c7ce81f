import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, runCli, tmpProject, TEST_PASSPHRASE } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { requirePosix, requireTool } from "../helpers/tools.js";

requireTool("openssl", "openssl");

function generate(dir: string, ...args: string[]) {
  const r = runCli(["generate", ...args], { cwd: dir });
  if (r.status !== 0) throw new Error(`generate failed (${r.status}): ${r.stderr}`);
  return r;
}

function openssl(...args: string[]): string {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Every file of the store with its bytes and mtime. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else out.set(path.relative(path.join(dir, "certs"), f), `${statSync(f).mtimeMs} ${readFileSync(f).toString("base64")}`);
    }
  };
  walk(path.join(dir, "certs"));
  return out;
}

const changedFiles = (a: Map<string, string>, b: Map<string, string>) =>
  [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();

describe("generate: the store of docs/store.md", () => {
  it("issues certificates that openssl verifies for their purpose, with the profiles of docs/store.md", () => {
    const dir = project();
    generate(dir);
    const c = (f: string) => path.join(dir, "certs", f);
    expect(openssl("verify", "-CAfile", c("ca.crt.pem"), "-purpose", "sslserver", c("server.crt.pem"))).toContain("OK");
    for (const id of ["dev01", "dev02"]) {
      expect(openssl("verify", "-CAfile", c("ca.crt.pem"), "-purpose", "sslclient", c(`clients/${id}.crt.pem`))).toContain("OK");
      // A client certificate is not a server certificate.
      expect(spawnSync("openssl", ["verify", "-CAfile", c("ca.crt.pem"), "-purpose", "sslserver", c(`clients/${id}.crt.pem`)]).status).not.toBe(0);
    }
    const ca = openssl("x509", "-in", c("ca.crt.pem"), "-noout", "-text");
    expect(ca).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(ca).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(ca).toMatch(/Subject Key Identifier/);
    const server = openssl("x509", "-in", c("server.crt.pem"), "-noout", "-text");
    expect(server).toMatch(/Subject: .*CN = win10\.local/);
    expect(server).toMatch(/DNS:win10\.local, DNS:localhost, DNS:mosquitto/);
    expect(server).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(server).toMatch(/Extended Key Usage: \n\s+TLS Web Server Authentication/);
    expect(server).toMatch(/Authority Key Identifier/);
    const client = openssl("x509", "-in", c("clients/dev01.crt.pem"), "-noout", "-text");
    expect(client).toMatch(/CN = dev01/);
    expect(client).toMatch(/ASN1 OID: prime256v1/);
    expect(client).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication/);
    // No EKU is critical: BearSSL rejects unknown critical extensions.
    expect(`${server}${client}`).not.toMatch(/Extended Key Usage: critical/);
    const serials = ["ca.crt.pem", "server.crt.pem", "clients/dev01.crt.pem", "clients/dev02.crt.pem"].map((f) =>
      openssl("x509", "-in", c(f), "-noout", "-serial").trim(),
    );
    expect(new Set(serials).size).toBe(4);
    for (const s of serials) expect(s.replace("serial=", "").length).toBeGreaterThanOrEqual(16);
  });

  it("encrypts the CA key with the passphrase, and writes keys 0600", () => {
    const dir = project();
    generate(dir);
    const key = readFileSync(path.join(dir, "certs/ca.key.pem"), "utf8");
    expect(key).toContain("BEGIN ENCRYPTED PRIVATE KEY");
    expect(openssl("pkey", "-in", path.join(dir, "certs/ca.key.pem"), "-passin", `pass:${TEST_PASSPHRASE}`, "-noout", "-text_pub")).toContain("2048 bit");
    expect(spawnSync("openssl", ["pkey", "-in", path.join(dir, "certs/ca.key.pem"), "-passin", "pass:wrong", "-noout"]).status).not.toBe(0);
    for (const f of ["ca.key.pem", "server.key.pem", "clients/dev01.key.pem", "clients/dev01.key.der"].filter(() => requirePosix("0600 keys"))) {
      expect(statSync(path.join(dir, "certs", f)).mode & 0o777).toBe(0o600);
    }
    expect(readFileSync(path.join(dir, "certs/server.key.pem"), "utf8")).toContain("BEGIN PRIVATE KEY");
  });

  it("is idempotent: a second run changes no byte and no mtime, and needs no passphrase", async () => {
    const dir = project();
    generate(dir);
    const before = snapshot(dir);
    await new Promise((r) => setTimeout(r, 20));
    const r = runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/kept\s+CA/);
    expect(changedFiles(before, snapshot(dir))).toEqual([]);
  });

  it("re-issues only the broker certificate when its names change", () => {
    const dir = project();
    generate(dir);
    const before = snapshot(dir);
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = pc2.local\nserver_names = localhost\n");
    const r = generate(dir);
    expect(r.stdout).toMatch(/reissued broker certificate\s+\S+ \(until [\d-]+\): its names changed/);
    expect(changedFiles(before, snapshot(dir))).toEqual(["manifest.json", "server.crt.der", "server.crt.pem"]);
    expect(openssl("x509", "-in", path.join(dir, "certs/server.crt.pem"), "-noout", "-ext", "subjectAltName")).toMatch(/DNS:pc2\.local, DNS:localhost\s*$/);
  });

  it("keeps a broker certificate with IPv6 addresses: '::1' and the certificate's spelling are one address", () => {
    const dir = project({ extra: "server_ips = 192.168.1.10, ::1, FE80:0::1\n" });
    generate(dir);
    const before = snapshot(dir);
    expect(generate(dir).stdout).toMatch(/kept\s+broker certificate/);
    expect(changedFiles(before, snapshot(dir))).toEqual([]);
  });

  it("keeps a broker certificate for an IPv6 mqtt_host however it is spelled (--allow-ip)", () => {
    const dir = project({ host: "FE80:0::1", extra: "allow_ip = true\n" });
    generate(dir);
    const before = snapshot(dir);
    generate(dir);
    expect(changedFiles(before, snapshot(dir))).toEqual([]);
  });

  it("issues only the new client when a client is added", () => {
    const dir = project();
    generate(dir);
    const before = snapshot(dir);
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = win10.local\nclients = dev01, dev02, dev03\n");
    generate(dir);
    expect(changedFiles(before, snapshot(dir))).toEqual([
      "clients/dev03.crt.der",
      "clients/dev03.crt.pem",
      "clients/dev03.key.der",
      "clients/dev03.key.pem",
      "manifest.json",
    ]);
  });

  it("--new-ca moves the old CA into certs/backup/<time>/ and re-issues every leaf", () => {
    const dir = project();
    generate(dir);
    const oldCa = readFileSync(path.join(dir, "certs/ca.crt.pem"), "utf8");
    const oldKey = readFileSync(path.join(dir, "certs/ca.key.pem"), "utf8");
    const r = generate(dir, "--new-ca");
    expect(r.stdout).toMatch(/moved\s+old ca/);
    const backups = readdirSync(path.join(dir, "certs/backup"));
    expect(backups).toHaveLength(1);
    expect(readFileSync(path.join(dir, "certs/backup", backups[0], "ca.crt.pem"), "utf8")).toBe(oldCa);
    expect(readFileSync(path.join(dir, "certs/backup", backups[0], "ca.key.pem"), "utf8")).toBe(oldKey);
    expect(readFileSync(path.join(dir, "certs/ca.crt.pem"), "utf8")).not.toBe(oldCa);
    expect(r.stdout).toMatch(/reissued broker certificate.*the CA changed/);
    expect(r.stdout).toMatch(/reissued client dev01.*the CA changed/);
    expect(openssl("verify", "-CAfile", path.join(dir, "certs/ca.crt.pem"), path.join(dir, "certs/clients/dev01.crt.pem"))).toContain("OK");
  });

  // Each kill is triggered by what the run has written so far, not by a delay, so that it
  // lands inside the run however loaded the machine is.
  const killPoints: [string, (files: string[]) => boolean][] = [
    ["a temp file mid-write", (f) => f.some((n) => n.endsWith(".esp-certs-tmp"))],
    ["the CA key written", (f) => f.includes("ca.key.pem")],
    ["the CA certificate written", (f) => f.includes("ca.crt.pem")],
    ["the broker key written", (f) => f.includes("server.key.pem")],
    ["the broker certificate written", (f) => f.includes("server.crt.pem")],
    ["a client key written", (f) => f.includes("clients/dev01.key.pem")],
    // Not later: after the last certificate the run ends within milliseconds.
    ["the last client's key written", (f) => f.includes("clients/dev02.key.pem")],
  ];

  it.each(killPoints)("survives kill -9 at %s: the next run completes a store that verifies", async (_when, reached) => {
    const dir = project();
    const store = path.join(dir, "certs");
    const listing = () => {
      const top = existsSync(store) ? readdirSync(store) : [];
      const clients = existsSync(path.join(store, "clients")) ? readdirSync(path.join(store, "clients")).map((f) => `clients/${f}`) : [];
      return [...top, ...clients];
    };
    const child = spawn(process.execPath, [cliPath, "generate"], {
      cwd: dir,
      env: { ...process.env, ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE },
      stdio: "ignore",
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    let running = true;
    void exited.then(() => (running = false));
    while (running && !reached(listing())) await new Promise((r) => setImmediate(r));
    child.kill("SIGKILL");
    await exited;
    // The kill must have landed inside the run for this test to mean anything.
    expect(existsSync(path.join(store, "manifest.json"))).toBe(false);

    generate(dir);
    const c = (f: string) => path.join(store, f);
    expect(openssl("verify", "-CAfile", c("ca.crt.pem"), "-purpose", "sslserver", c("server.crt.pem"))).toContain("OK");
    for (const id of ["dev01", "dev02"]) {
      const certPub = openssl("x509", "-in", c(`clients/${id}.crt.pem`), "-noout", "-pubkey");
      expect(openssl("pkey", "-in", c(`clients/${id}.key.pem`), "-pubout")).toBe(certPub);
    }
    expect(openssl("x509", "-in", c("server.crt.pem"), "-noout", "-pubkey")).toBe(openssl("pkey", "-in", c("server.key.pem"), "-pubout"));
    // Nothing left half-written.
    expect(listing().filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("generate: bad input exits 2, says what and how, writes nothing", () => {
  const refused = (dir: string, args: string[], message: RegExp, env: NodeJS.ProcessEnv = {}) => {
    const before = existsSync(path.join(dir, "certs")) ? snapshot(dir) : undefined;
    const r = runCli(["generate", ...args], { cwd: dir, env });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^esp-certs: /);
    expect(r.stderr).toMatch(message);
    if (before) expect(changedFiles(before, snapshot(dir))).toEqual([]);
    else expect(existsSync(path.join(dir, "certs"))).toBe(false);
  };

  it("an IP address as the host, unless --allow-ip", () => {
    refused(project(), ["--host", "192.168.1.50"], /BearSSL[\s\S]*--allow-ip/);
    const dir = project();
    const r = runCli(["generate", "--host", "192.168.1.50", "--allow-ip"], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: .*IP address/);
    expect(openssl("x509", "-in", path.join(dir, "certs/server.crt.pem"), "-noout", "-ext", "subjectAltName")).toMatch(/IP Address:192\.168\.1\.50/);
  });

  it("invalid names and settings in platformio.ini", () => {
    refused(project({ host: "-bad.local" }), [], /hyphen/);
    refused(project({ extra: "country = England\n" }), [], /two-letter/);
    refused(project({ extra: "clients = dev01, dev01\n" }), [], /twice/);
    refused(project({ extra: "key_type = dsa\n" }), [], /key_type/);
  });

  it("--new-ca without a passphrase for the new CA, leaving the old CA where it was", () => {
    const dir = project();
    generate(dir);
    refused(dir, ["--new-ca"], /passphrase/, { ESP_CERTS_CA_PASSPHRASE: "" });
    expect(existsSync(path.join(dir, "certs/backup"))).toBe(false);
  });

  it("no passphrase, or a wrong one", () => {
    refused(project(), [], /passphrase[\s\S]*ESP_CERTS_CA_PASSPHRASE/, { ESP_CERTS_CA_PASSPHRASE: "" });
    const dir = project();
    generate(dir);
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = other.local\n");
    refused(dir, [], /passphrase does not decrypt/, { ESP_CERTS_CA_PASSPHRASE: "wrong" });
  });

  it("a CA key that does not match the CA certificate", () => {
    const dir = project();
    generate(dir);
    const other = project();
    generate(other);
    writeFileSync(path.join(dir, "certs/ca.key.pem"), readFileSync(path.join(other, "certs/ca.key.pem")), { mode: 0o600 });
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = other.local\n");
    refused(dir, [], /is not the key of/);
  });

  it("a truncated or corrupted PEM in the store", () => {
    const dir = project();
    generate(dir);
    const ca = path.join(dir, "certs/ca.crt.pem");
    writeFileSync(ca, readFileSync(ca, "utf8").slice(0, 300));
    refused(dir, [], /ca\.crt\.pem[\s\S]*truncated or corrupted[\s\S]*never replaces a CA/);
    const dir2 = project();
    generate(dir2);
    const key = path.join(dir2, "certs/clients/dev02.key.pem");
    writeFileSync(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", { mode: 0o600 });
    refused(dir2, [], /dev02\.key\.pem[\s\S]*not a valid private key/);
  });

  it("a CA near its end, or a short cert_days, does not re-issue on every run", () => {
    for (const ini of ["ca_days = 20\n", "cert_days = 10\n"]) {
      const dir = project({ extra: ini });
      generate(dir);
      const before = snapshot(dir);
      const again = runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
      expect(again.status, again.stderr).toBe(0);
      expect(changedFiles(before, snapshot(dir))).toEqual([]);
    }
  });

  it("cert_days beyond the CA's remaining life is clamped to the CA, with a warning", () => {
    const dir = project({ extra: "ca_days = 100\ncert_days = 825\n" });
    const r = generate(dir);
    expect(r.stderr).toMatch(/ends with the CA on .*--new-ca/);
    const caEnd = openssl("x509", "-in", path.join(dir, "certs/ca.crt.pem"), "-noout", "-enddate");
    expect(openssl("x509", "-in", path.join(dir, "certs/server.crt.pem"), "-noout", "-enddate")).toBe(caEnd);
  });
});

describe("generate in a plain PlatformIO project, without init", () => {
  const git = (dir: string, ...args: string[]) => spawnSync("git", args, { cwd: dir, encoding: "utf8" });
  const hasGit = requireTool("git", "git");

  it.skipIf(!hasGit)("writes the header into PlatformIO's include/, and git ignores it and the store", () => {
    const dir = project({ env: true });
    expect(git(dir, "init", "-q").status).toBe(0);
    writeFileSync(path.join(dir, ".gitignore"), ".pio\n# mine\n");
    const r = generate(dir);
    expect(existsSync(path.join(dir, "include", "esp_certs.h"))).toBe(true);
    expect(existsSync(path.join(dir, "firmware"))).toBe(false);
    expect(git(dir, "check-ignore", "-q", "include/esp_certs.h").status).toBe(0);
    // The user's lines stay as written; the run says what it added.
    // The store's keys too: without init nothing else keeps them out of a `git add .`.
    for (const f of ["certs/ca.key.pem", "certs/clients/dev01.key.pem"]) expect(git(dir, "check-ignore", "-q", f).status, f).toBe(0);
    expect(git(dir, "status", "--porcelain", "--untracked-files=all").stdout).not.toMatch(/key\.pem|esp_certs\.h/);
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toBe(
      ".pio\n# mine\n\n# esp-certs: the certificate store holds the CA's and the clients' private keys\n/certs/\n\n# esp-certs: the firmware header holds a device's private key, and so does its temp file while it is written\ninclude/esp_certs.h\n*.esp-certs-tmp\n",
    );
    // A run killed while writing the header leaves the key in a temp file beside it (fs/atomic.ts's names).
    expect(git(dir, "check-ignore", "-q", "include/.esp_certs.h.4242.0123abcd.esp-certs-tmp").status).toBe(0);
    expect(r.stdout).toMatch(/^wrote\s+git-ignored store\s+\.gitignore/m);
    expect(r.stdout).toMatch(/^wrote\s+git-ignored header\s+\.gitignore/m);
    // And the broker folder, with the broker's key.
    const b = runCli(["broker", "--paths", "local"], { cwd: dir });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toContain("Git-ignored it in .gitignore (the folder holds the broker's private key).");
    expect(git(dir, "check-ignore", "-q", "broker/certs/server.key.pem").status).toBe(0);
    // Ignored already (here by a pattern of the user's): left alone, also when the header changes.
    writeFileSync(path.join(dir, ".gitignore"), "*.h\n");
    generate(dir, "--rekey", "dev01");
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toBe("*.h\n");
    // A "!" rule of the user's keeps it tracked on purpose: no line of ours overrides it.
    writeFileSync(path.join(dir, ".gitignore"), "*.h\n!include/esp_certs.h\n");
    generate(dir, "--rekey", "dev01");
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toBe("*.h\n!include/esp_certs.h\n");
  });

  it.skipIf(!hasGit)("header --out into another work tree: that tree's top .gitignore; outside git: none", () => {
    const dir = project({ env: true, generate: true });
    const sketch = tmpProject("esp-certs-sketch-");
    expect(git(sketch, "init", "-q").status).toBe(0);
    const r = runCli(["header", "--out", path.join(sketch, "MySketch") + path.sep], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path.join(sketch, ".gitignore"), "utf8")).toContain("\nMySketch/esp_certs.h\n");
    expect(git(sketch, "check-ignore", "-q", "MySketch/esp_certs.h").status).toBe(0);
    expect(existsSync(path.join(dir, ".gitignore"))).toBe(false);
  });
});
