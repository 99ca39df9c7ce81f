// The store object on a store the previous release wrote (test/fixtures/store-v2, made by its
// make.sh): it opens, its clients come out as typed records, and a run of this release keeps
// its CA byte for byte. And the manifest's room for a key the device holds.
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { checkManifest } from "../../src/store/manifest-check.js";
import { CertificateStore } from "../../src/store/store.js";
import { repoRoot, runCli, tmpProject } from "../helpers/cli.js";
import { project } from "../helpers/project.js";

const fixture = path.join(repoRoot, "test/fixtures/store-v2");
const CA_FILES = ["ca.crt.pem", "ca.crt.der", "ca.key.pem"];

function copyOfFixture(): string {
  const dir = tmpProject();
  cpSync(path.join(fixture, "certs"), path.join(dir, "certs"), { recursive: true });
  cpSync(path.join(fixture, "platformio.ini"), path.join(dir, "platformio.ini"));
  return dir;
}

describe("the store object on the previous release's store", () => {
  it("reads every client as a typed record: origin, role, key holder, state, history", () => {
    const store = CertificateStore.open(loadConfig(copyOfFixture()));
    const manifest = store.manifest()!;
    // Inside the window of the fixture's certificates, whenever the test runs.
    const now = new Date(Date.parse(manifest.ca.notBefore) + 86_400_000);
    const byId = Object.fromEntries(store.clients(now).map((c) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual(["dev01", "dev02", "dev03", "dev04"]);
    expect(byId.dev01).toMatchObject({ role: "device", origin: "configured", keyHolder: "store", state: "active" });
    expect(byId.dev01.current?.serial).toBe(manifest.clients.dev01.serial);
    expect(byId.dev01.history.map((r) => r.replacedBy === undefined)).toEqual([false, true]);
    // No `apps` line: Node-RED's client (the first no environment builds in) is the app.
    expect(byId.dev02.role).toBe("app");
    expect(byId.dev03).toMatchObject({ origin: "configured", state: "revoked", current: undefined });
    expect(byId.dev03.revoked?.reason).toBe("cessationOfOperation");
    expect(byId.dev04).toMatchObject({ origin: "provisioned", keyHolder: "store", state: "active" });
    const late = new Date(Date.parse(manifest.clients.dev02.notAfter) - 86_400_000);
    expect(store.client("dev02", late).state).toBe("expiring");
  });

  it("a run of this release keeps its CA, byte for byte, and its revocation", () => {
    const dir = copyOfFixture();
    const before = CA_FILES.map((f) => readFileSync(path.join(dir, "certs", f)));
    const r = runCli(["generate", "--json"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(CA_FILES.map((f) => readFileSync(path.join(dir, "certs", f)))).toEqual(before);
    const status = JSON.parse(runCli(["status", "--json"], { cwd: dir }).stdout);
    expect(status.crl.revoked).toBe(1);
    // The first generate with the passphrase also issues esp-certs' own app client (docs/renewal.md).
    expect(status.certificates.map((c: { name: string }) => c.name)).toEqual(["ca", "server", "dev01", "dev02", "dev04", "esp-certs", "dev03"]);
  });
});

describe("an unreadable CRL", () => {
  it("stops a question about revocations (exit 2), but status still lists the certificates", () => {
    const dir = copyOfFixture();
    writeFileSync(path.join(dir, "certs/ca.crl.pem"), "not a CRL\n");
    const store = CertificateStore.open(loadConfig(dir));
    expect(() => store.clients()).toThrow(/Cannot read .*ca\.crl\.pem/);
    expect(store.clients(new Date(), () => store.readCrl().crl).map((c) => c.id)).toContain("dev01");
    const status = runCli(["status", "--json"], { cwd: dir });
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout).certificates.length).toBeGreaterThan(2);
  });
});

describe("an earlier CA's revocations", () => {
  it("an unreadable backup CRL is said, not dropped in silence", () => {
    const dir = copyOfFixture();
    expect(runCli(["generate", "--new-ca"], { cwd: dir }).status).toBe(0);
    const backup = path.join(dir, "certs", "backup");
    const [folder] = readdirSync(backup);
    const crl = path.join(backup, folder, "ca.crl.pem");
    expect(existsSync(crl)).toBe(true);
    expect(runCli(["status"], { cwd: dir }).stderr).toBe("");
    writeFileSync(crl, "-----BEGIN X509 CRL-----\ntruncated\n");
    const r = runCli(["status"], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${crl} is not a readable CRL: the revocations of that earlier CA are not counted`);
  });
});

describe("one CA a run", () => {
  it("a store made and a client issued in one run ask the passphrase once (provision on a new project)", async () => {
    const dir = project({ extra: "clients = dev01\n" });
    const asked: string[] = [];
    const passphrase = { prompt: async (q: string) => (asked.push(q), "a passphrase of the test") };
    const store = CertificateStore.open(loadConfig(dir));
    await store.ensure({ passphrase });
    await store.issueClient("dev07", passphrase);
    expect(asked).toEqual(["New CA key passphrase: ", "Repeat the passphrase: "]);
    expect(store.client("dev07")).toMatchObject({ origin: "provisioned", state: "active" });
  });
});

describe("the manifest's clients", () => {
  const manifest = () => JSON.parse(readFileSync(path.join(fixture, "certs/manifest.json"), "utf8"));

  it("allows a client whose key the device holds: no key file, so no key hash", () => {
    const m = manifest();
    const { keySha256: _k, keyDerSha256: _d, ...rest } = m.clients.dev04;
    m.clients.dev04 = { ...rest, keyHolder: "device" };
    expect(checkManifest(m)).toBeUndefined();
  });

  it("refuses a key hash for a key the device holds, and a key holder it does not know", () => {
    const m = manifest();
    m.clients.dev04.keyHolder = "device";
    expect(checkManifest(m)).toMatch(/manifest\.clients\.dev04\.keySha256 is there, but the key is the device's/);
    m.clients.dev04.keyHolder = "cloud";
    expect(checkManifest(m)).toMatch(/manifest\.clients\.dev04\.keyHolder is "cloud", not "store" or "device"/);
  });
});
