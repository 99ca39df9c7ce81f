// The CA module as provision and revoke call it: open once, unlock once, issue one client,
// sign a CRL; and a store whose CA key is another CA's, found without the passphrase.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { checkStore } from "../../src/doctor/checks.js";
import { loadContext } from "../../src/doctor/context.js";
import { CertificateAuthority } from "../../src/pki/ca.js";
import { defaultDeps, ensureStore } from "../../src/store/ensure.js";
import { issueClient } from "../../src/store/issue-client.js";
import { readManifest } from "../../src/store/manifest.js";
import { storePaths } from "../../src/store/paths.js";
import { repoRoot, runCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { headerOf, project, projectIni } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";

requireTool("openssl", "openssl");

const INI = projectIni();
const passphrase = { env: TEST_PASSPHRASE };

const openssl = (...args: string[]) => {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout + r.stderr;
};

describe("the CA module", () => {
  it("issues one client into the store: new key, certificate, DER copies, and the manifest's history", async () => {
    const dir = project({ prefix: "esp-certs-ca-" });
    const config = resolveConfig(dir, INI);
    const first = await ensureStore(config, { passphrase });
    const p = storePaths(config.certDir);
    const dev03 = await issueClient(config, "dev03", { passphrase });
    expect(dev03.action).toMatchObject({ action: "created", cert: { role: "client", id: "dev03" } });
    expect(openssl("verify", "-CAfile", p.caCertPem, "-purpose", "sslclient", p.client("dev03").certPem)).toContain("OK");
    expect(openssl("pkey", "-in", p.client("dev03").keyDer, "-inform", "DER", "-pubout")).toBe(openssl("x509", "-in", p.client("dev03").certPem, "-noout", "-pubkey"));
    expect(statSync(p.client("dev03").keyPem).mode & 0o777).toBe(0o600);
    expect(statSync(p.client("dev03").keyDer).mode & 0o777).toBe(0o600);

    const again = await issueClient(config, "dev01", { passphrase });
    expect(again.action).toMatchObject({ action: "reissued", reason: "new ec-p256 key" });
    const m = readManifest(p.manifest)!;
    const dev01 = m.history.filter((r) => r.role === "client" && r.id === "dev01");
    expect(dev01).toHaveLength(2);
    expect(dev01[0]).toMatchObject({ serial: first.manifest.clients.dev01.serial, replacedBy: dev01[1].serial });
    expect(dev01[1].replacedBy).toBeUndefined();
    expect(m.clients.dev01.serial).toBe(dev01[1].serial);
    expect(m.clients.dev03.sha256).toBe(m.history.find((r) => r.role === "client" && r.id === "dev03")!.sha256);
    expect(new Set(m.history.map((r) => r.serial)).size).toBe(m.history.length);
  });

  it("hands a CRL signer what it needs: the certificate, the private key and the algorithm", async () => {
    const dir = project({ prefix: "esp-certs-ca-" });
    const config = resolveConfig(dir, INI);
    const store = await ensureStore(config, { passphrase });
    const p = storePaths(config.certDir);
    const deps = defaultDeps();
    const signer = await CertificateAuthority.open(p, { passphrase, manifest: store.manifest, deps })!.signer();
    const crl = await x509.X509CrlGenerator.create(
      {
        issuer: new x509.X509Certificate(new Uint8Array(signer.cert.der)).subjectName,
        thisUpdate: new Date(),
        nextUpdate: new Date(Date.now() + 86_400_000),
        entries: [{ serialNumber: store.manifest.clients.dev02.serial, revocationDate: new Date(), reason: x509.X509CrlReason.keyCompromise }],
        signingKey: signer.key.privateKey,
        signingAlgorithm: signer.signingAlgorithm,
      },
      signer.crypto,
    );
    const crlFile = path.join(dir, "crl.pem");
    // OpenSSL reads only the "X509 CRL" PEM label; @peculiar/x509's toString("pem") writes "CRL".
    writeFileSync(crlFile, x509.PemConverter.encode(crl.rawData, "X509 CRL"));
    expect(openssl("crl", "-in", crlFile, "-CAfile", p.caCertPem, "-noout")).toMatch(/verify OK/);
    const r = spawnSync("openssl", ["verify", "-crl_check", "-CAfile", p.caCertPem, "-CRLfile", crlFile, p.client("dev02").certPem], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toMatch(/certificate revoked/);
  });

  it("unlocks the key once, however many certificates it signs", async () => {
    const dir = project({ prefix: "esp-certs-ca-" });
    const config = resolveConfig(dir, INI);
    await ensureStore(config, { passphrase });
    let asked = 0;
    const prompt = async () => (asked++, TEST_PASSPHRASE);
    const ca = CertificateAuthority.open(storePaths(config.certDir), { passphrase: { prompt }, deps: defaultDeps() })!;
    const [a, b] = await Promise.all([ca.signer(), ca.signer()]);
    expect(a).toBe(b);
    expect(asked).toBe(1);
  });
});

// Regression (concurrent runs left this): ca.key.pem of one CA beside ca.crt.pem of another
// was missed by generate, status and doctor until something had to be signed.
describe("a CA key of another CA", () => {
  it("is refused by generate with nothing to sign (exit 2), and is a failing doctor check", async () => {
    const [a, b] = [project({ prefix: "esp-certs-ca-" }), project({ prefix: "esp-certs-ca-" })];
    for (const d of [a, b]) expect(runCli(["generate"], { cwd: d }).status).toBe(0);
    copyFileSync(path.join(a, "certs/ca.key.pem"), path.join(b, "certs/ca.key.pem"));
    const generate = runCli(["generate"], { cwd: b, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    // Nothing to sign, no passphrase: the key check needs neither.
    expect(generate.status, generate.stdout).toBe(2);
    expect(generate.stderr).toMatch(/^esp-certs: Cannot use the CA: .*ca\.key\.pem is not the key of .*ca\.crt\.pem/);
    expect(generate.stderr).toMatch(/restore the CA's files from your backup/);
    const config = resolveConfig(b, INI);
    const store = checkStore(await loadContext(config, {}));
    expect(store).toContainEqual(expect.objectContaining({ level: "problem", text: expect.stringMatching(/^CA: .*ca\.key\.pem is not the key of .*ca\.crt\.pem/) }));
  });

  it("named as the key of the replaced CA when the manifest recorded it", () => {
    const dir = project({ prefix: "esp-certs-ca-" });
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    const oldKey = readFileSync(path.join(dir, "certs/ca.key.pem"));
    expect(runCli(["generate", "--new-ca"], { cwd: dir }).status).toBe(0);
    writeFileSync(path.join(dir, "certs/ca.key.pem"), oldKey);
    const r = runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ca\.key\.pem is the key of another CA \(serial [0-9a-f]+\)/);
    expect(r.stderr).toMatch(/restore the CA's files from your backup/);
  });
});

describe("a store from the release with manifest version 1 (test/fixtures/store-v1)", () => {
  const fixture = path.join(repoRoot, "test/fixtures/store-v1");
  const v1 = JSON.parse(readFileSync(path.join(fixture, "certs/manifest.json"), "utf8"));

  it("loads, keeps its CA and certificates, and gains the history it can reconstruct", () => {
    const dir = project({ prefix: "esp-certs-ca-" });
    cpSync(path.join(fixture, "certs"), path.join(dir, "certs"), { recursive: true });
    copyFileSync(path.join(fixture, "platformio.ini"), path.join(dir, "platformio.ini"));
    const caBefore = readFileSync(path.join(dir, "certs/ca.crt.der"));
    // Nothing to sign: no passphrase is needed to migrate.
    const r = runCli(["generate", "--json"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).actions.map((a: { action: string }) => a.action)).toEqual(["kept", "kept", "kept", "kept"]);
    expect(readFileSync(path.join(dir, "certs/ca.crt.der"))).toEqual(caBefore);
    const m = JSON.parse(readFileSync(path.join(dir, "certs/manifest.json"), "utf8"));
    expect(m.version).toBe(2);
    expect(m.ca.sha256).toBe(v1.ca.sha256);
    for (const id of ["dev01", "dev02"]) expect(m.clients[id].sha256).toBe(v1.clients[id].sha256);
    expect(m.history).toEqual([
      expect.objectContaining({ role: "ca", serial: v1.ca.serial, sha256: v1.ca.sha256, keySha256: v1.ca.keySha256 }),
      expect.objectContaining({ role: "server", serial: v1.server.serial }),
      expect.objectContaining({ role: "client", id: "dev01", serial: v1.clients.dev01.serial }),
      expect.objectContaining({ role: "client", id: "dev02", serial: v1.clients.dev02.serial }),
    ]);
    // dev01's first certificate, replaced by --rekey: only its serial was kept.
    expect(m.legacySerials).toEqual(v1.serials.filter((s: string) => !m.history.some((h: { serial: string }) => h.serial === s)));
    expect(m.legacySerials).toHaveLength(1);

    // And it signs with the CA it kept.
    const rekey = runCli(["generate", "--rekey", "dev02"], { cwd: dir });
    expect(rekey.status, rekey.stderr).toBe(0);
    expect(openssl("verify", "-CAfile", path.join(dir, "certs/ca.crt.pem"), path.join(dir, "certs/clients/dev02.crt.pem"))).toContain("OK");
    const after = readManifest(path.join(dir, "certs/manifest.json"))!;
    expect(after.history.find((h) => h.serial === v1.clients.dev02.serial)?.replacedBy).toBe(after.clients.dev02.serial);
  });

  it("renders a header from it as it is, without generate", () => {
    const dir = project({ prefix: "esp-certs-ca-" });
    cpSync(path.join(fixture, "certs"), path.join(dir, "certs"), { recursive: true });
    copyFileSync(path.join(fixture, "platformio.ini"), path.join(dir, "platformio.ini"));
    const r = runCli(["header"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(headerOf(dir), "utf8")).toContain(`#define ESP_CERTS_CA_SHA256 "${v1.ca.sha256}"`);
    expect(JSON.parse(readFileSync(path.join(dir, "certs/manifest.json"), "utf8")).version).toBe(1);
  });
});
