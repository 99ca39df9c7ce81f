// A replaced certificate never keeps working (docs/revocation.md, "Replaced certificates"): a new
// key revokes the old certificate as superseded in the same run, `revoke --all` / `--serial`
// reach every certificate still valid, and a CRL that forgets a revocation the manifest records
// is never signed nor copied into broker/. Checked against a real mosquitto where the old
// certificate connected before.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { project, projectIni } from "../helpers/project.js";
import { publishes, startMosquitto } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";
import { webcrypto } from "node:crypto";
import { buildCrl, readCrl } from "../../src/pki/crl.js";
import { generateKey } from "../../src/pki/keys.js";

/** A project with its store and a broker folder for a local mosquitto. */
const STORE = { prefix: "esp-certs-superseded-", broker: true };

const ready = requireTool("mosquitto", "mosquitto") && requireTool("mosquitto_pub", "mosquitto-clients") && requireTool("openssl", "openssl");

function cli(dir: string, ...args: string[]) {
  const r = runCli(args, { cwd: dir });
  return { ...r, out: r.stdout + r.stderr };
}


/** A copy of a client's current certificate and key, as the board holding them has. */
function keep(dir: string, id: string, as: string): { cert: string; key: string } {
  const out = path.join(dir, "kept", as);
  mkdirSync(out, { recursive: true });
  const files = { cert: path.join(out, "c.pem"), key: path.join(out, "k.pem") };
  copyFileSync(path.join(dir, "certs", "clients", `${id}.crt.pem`), files.cert);
  copyFileSync(path.join(dir, "certs", "clients", `${id}.key.pem`), files.key);
  return files;
}

const serialOf = (pem: string) => spawnSync("openssl", ["x509", "-in", pem, "-noout", "-serial"], { encoding: "utf8" }).stdout.trim().split("=")[1].toLowerCase().replace(/^(00)+/, "");
const crlSerials = (file: string) => readCrl(readFileSync(file, "utf8")).revoked.map((r) => r.serial);
const storeCrl = (dir: string) => path.join(dir, "certs", "ca.crl.pem");
const brokerCrl = (dir: string) => path.join(dir, "broker", "certs", "ca.crl.pem");

async function connects(dir: string, files: { cert: string; key: string }): Promise<boolean> {
  const broker = await startMosquitto({ config: readFileSync(path.join(dir, "broker", "mosquitto.conf"), "utf8") });
  try {
    return publishes(broker, path.join(dir, "certs", "ca.crt.pem"), files);
  } finally {
    await broker.stop();
  }
}

describe.skipIf(!ready)("a certificate replaced by a new key", () => {
  it("generate --rekey revokes the old one (superseded) in the same run, and mosquitto shuts it out", async () => {
    const dir = project(STORE);
    const old = keep(dir, "dev01", "old");
    expect(await connects(dir, old)).toBe(true);
    const r = cli(dir, "generate", "--rekey", "dev01");
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/revoked\s+client dev01.*superseded/);
    expect(r.out).toMatch(/shut out until it is flashed|until .*reflash/i);
    expect(crlSerials(storeCrl(dir))).toContain(serialOf(old.cert));
    expect(crlSerials(brokerCrl(dir))).toContain(serialOf(old.cert));
    const entry = readCrl(readFileSync(storeCrl(dir), "utf8")).revoked.find((e) => e.serial === serialOf(old.cert));
    expect(entry?.reason).toBe("superseded");
    expect(await connects(dir, old)).toBe(false);
    expect(await connects(dir, keep(dir, "dev01", "new"))).toBe(true);
  });

  it("--rekey then revoke: both of dev02's certificates are refused", async () => {
    const dir = project(STORE);
    const first = keep(dir, "dev02", "first");
    expect(cli(dir, "generate", "--rekey", "dev02").status).toBe(0);
    const second = keep(dir, "dev02", "second");
    expect(cli(dir, "revoke", "dev02").status).toBe(0);
    expect(crlSerials(storeCrl(dir))).toEqual(expect.arrayContaining([serialOf(first.cert), serialOf(second.cert)]));
    expect(await connects(dir, first)).toBe(false);
    expect(await connects(dir, second)).toBe(false);
  });

  it("a renewal on the same key stays valid; status lists it; revoke --serial and --all reach it", async () => {
    const dir = project(STORE);
    const old = keep(dir, "dev01", "old");
    // A new organization re-issues every leaf on its own key.
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ extra: "organization = ACME\n" }));
    expect(cli(dir, "generate").status).toBe(0);
    const status = JSON.parse(cli(dir, "status", "--json").stdout);
    expect(status.superseded).toEqual(expect.arrayContaining([expect.objectContaining({ name: "dev01", serial: serialOf(old.cert) })]));
    expect(cli(dir, "status").out).toMatch(/superseded.*dev01|dev01.*superseded/);
    expect(await connects(dir, old)).toBe(true);

    const bySerial = cli(dir, "revoke", "--serial", serialOf(old.cert));
    expect(bySerial.status, bySerial.out).toBe(0);
    expect(crlSerials(storeCrl(dir))).toContain(serialOf(old.cert));
    // dev01's current certificate is untouched.
    expect(existsSync(path.join(dir, "certs", "clients", "dev01.crt.pem"))).toBe(true);
    expect(await connects(dir, old)).toBe(false);

    const old2 = keep(dir, "dev02", "old2");
    const cur2 = serialOf(path.join(dir, "certs", "clients", "dev02.crt.pem"));
    const all = cli(dir, "revoke", "dev02", "--all");
    expect(all.status, all.out).toBe(0);
    expect(crlSerials(storeCrl(dir))).toEqual(expect.arrayContaining([serialOf(old2.cert), cur2]));
    expect(cli(dir, "revoke", "--serial", "abcdef").status).toBe(2);
  });
});

describe.skipIf(!ready)("a CRL that forgets a revocation is never signed nor installed", () => {
  it("deleted: generate rebuilds it from the manifest's history, dev02 stays out", async () => {
    const dir = project(STORE);
    const dev02 = keep(dir, "dev02", "old");
    expect(cli(dir, "revoke", "dev02").status).toBe(0);
    rmSync(storeCrl(dir));
    rmSync(path.join(dir, "certs", "ca.crl.der"));
    const d = runCli(["doctor", "--json"], { cwd: dir });
    expect(JSON.parse(d.stdout).checks).toEqual(expect.arrayContaining([expect.objectContaining({ check: "crl", level: "problem", text: expect.stringMatching(/manifest's history/) })]));
    const g = cli(dir, "generate");
    expect(g.status, g.out).toBe(0);
    expect(g.out).toMatch(/manifest's history/);
    expect(existsSync(path.join(dir, "certs", "clients", "dev02.crt.pem"))).toBe(false);
    expect(cli(dir, "revoke", "dev01").status).toBe(0);
    expect(crlSerials(storeCrl(dir))).toEqual(expect.arrayContaining([serialOf(dev02.cert)]));
    expect(crlSerials(brokerCrl(dir))).toEqual(expect.arrayContaining([serialOf(dev02.cert)]));
    expect(await connects(dir, dev02)).toBe(false);
  });

  it("rolled back: revoke and generate put back what the older CRL forgot", () => {
    const dir = project(STORE);
    const dev02 = serialOf(path.join(dir, "certs", "clients", "dev02.crt.pem"));
    expect(cli(dir, "revoke", "dev02").status).toBe(0);
    const before = readFileSync(storeCrl(dir));
    const dev01 = serialOf(path.join(dir, "certs", "clients", "dev01.crt.pem"));
    expect(cli(dir, "revoke", "dev01").status).toBe(0);
    // An older CRL of this CA (a restore, a sync tool): signed, but without dev01.
    writeFileSync(storeCrl(dir), before);
    const g = cli(dir, "generate");
    expect(g.status, g.out).toBe(1); // the store is right; the header's client, dev01, is revoked
    expect(crlSerials(storeCrl(dir))).toEqual(expect.arrayContaining([dev01, dev02]));
    expect(crlSerials(brokerCrl(dir))).toEqual(expect.arrayContaining([dev01, dev02]));
  });

  const verifiesWithCa = (dir: string, file: string) =>
    spawnSync("openssl", ["crl", "-in", file, "-noout", "-verify", "-CAfile", path.join(dir, "certs", "ca.crt.pem")], { encoding: "utf8" }).stderr.includes("verify OK");

  it("another CA's: revoke refuses it (exit 2, no stack trace), generate moves it aside and rebuilds", () => {
    const dir = project(STORE);
    const other = project({ ...STORE, extra: "key_type = ec-p256\n" });
    const dev02 = serialOf(path.join(dir, "certs", "clients", "dev02.crt.pem"));
    expect(cli(dir, "revoke", "dev02").status).toBe(0);
    expect(cli(other, "revoke", "dev01").status).toBe(0);
    writeFileSync(storeCrl(dir), readFileSync(storeCrl(other)));
    const r = cli(dir, "revoke", "dev01");
    expect(r.status, r.out).toBe(2);
    expect(r.out).not.toMatch(/DOMException|at .*\.cjs/);
    expect(r.out).toContain("esp-certs generate");
    const g = cli(dir, "generate");
    expect(g.status, g.out).toBe(0);
    expect(crlSerials(storeCrl(dir))).toContain(dev02);
    expect(verifiesWithCa(dir, brokerCrl(dir))).toBe(true);
  });

  it("forged with this CA's name and key id, signed by a key of another type: rebuilt, never installed, no DOMException", async () => {
    const dir = project(STORE);
    const dev02 = serialOf(path.join(dir, "certs", "clients", "dev02.crt.pem"));
    expect(cli(dir, "revoke", "dev02").status).toBe(0);
    const caDer = readFileSync(path.join(dir, "certs", "ca.crt.der"));
    const crypto = webcrypto as unknown as Crypto;
    // Lists nothing: a forgery that would let dev02 in again.
    const forged = await buildCrl({ revoked: [], number: 9n, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000) }, { der: caDer, key: await generateKey("ec-p256", crypto) }, crypto);
    writeFileSync(storeCrl(dir), forged.pem);
    const good = readFileSync(brokerCrl(dir));
    // broker alone cannot sign: it keeps the folder's CRL and says why.
    const b = cli(dir, "broker");
    expect(b.out).toMatch(/keeps its CRL.*does not verify/s);
    expect(readFileSync(brokerCrl(dir)).equals(good)).toBe(true);
    const r = cli(dir, "revoke", "dev01");
    expect(r.out).not.toMatch(/DOMException|at .*\.cjs/);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/does not verify.*rebuilt from the manifest's history/s);
    expect(crlSerials(storeCrl(dir))).toEqual(expect.arrayContaining([dev02]));
    expect(existsSync(`${storeCrl(dir)}.rejected`)).toBe(true);
    expect(verifiesWithCa(dir, brokerCrl(dir))).toBe(true);
    expect(crlSerials(brokerCrl(dir))).toContain(dev02);

    // A damaged signature, found by generate.
    const bytes = Buffer.from(readCrl(readFileSync(storeCrl(dir), "utf8")).crl.rawData);
    bytes[bytes.length - 5] ^= 0x55;
    writeFileSync(storeCrl(dir), `-----BEGIN X509 CRL-----\n${bytes.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END X509 CRL-----\n`);
    const g = cli(dir, "generate");
    expect(g.status, g.out).toBe(1); // the store is right; the header's client, dev01, is revoked
    expect(g.out).toMatch(/does not verify/);
    expect(verifiesWithCa(dir, storeCrl(dir))).toBe(true);
    expect(verifiesWithCa(dir, brokerCrl(dir))).toBe(true);
  });
});

describe.skipIf(!ready)("revoke and provision refuse before they write", () => {
  it("revoke with certs/revoked a file: exit 2, nothing signed", () => {
    const dir = project(STORE);
    writeFileSync(path.join(dir, "certs", "revoked"), "not a folder");
    const r = cli(dir, "revoke", "dev01");
    expect(r.status, r.out).toBe(2);
    expect(r.out).toContain(path.join("certs", "revoked"));
    expect(existsSync(storeCrl(dir))).toBe(false);
    expect(existsSync(brokerCrl(dir))).toBe(false);
    expect(existsSync(path.join(dir, "certs", "clients", "dev01.crt.pem"))).toBe(true);
  });

  it("ids that cannot be revoked, and ids that differ only in case, are never issued", () => {
    const dir = project({ ...STORE, after: "[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = none\n" });
    for (const id of ["server", "ca", "broker", "win10.local", "Server", "DEV01"]) {
      const r = cli(dir, "provision", "--client", id, "--out", path.join(dir, `${id}.bin`));
      expect(r.status, `${id}: ${r.out}`).toBe(2);
      expect(existsSync(path.join(dir, "certs", "clients", `${id}.crt.pem`))).toBe(false);
    }
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ extra: "clients = dev01, broker\n" }));
    const g = cli(dir, "generate");
    expect(g.status).toBe(2);
    expect(g.out).toContain("broker");
  });

  it("provision never writes a record whose key is not its certificate's (a rekey half seen)", () => {
    const dir = project({ ...STORE, after: "[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = none\n" });
    expect(cli(dir, "provision", "--client", "dev07", "--out", path.join(dir, "a.bin")).status).toBe(0);
    // What a run reading between another's key and certificate writes would see.
    copyFileSync(path.join(dir, "certs", "clients", "dev01.key.der"), path.join(dir, "certs", "clients", "dev07.key.der"));
    const r = cli(dir, "provision", "--client", "dev07", "--out", path.join(dir, "b.bin"));
    expect(r.status, r.out).toBe(2);
    expect(r.out).toContain("is not the key of");
    expect(existsSync(path.join(dir, "b.bin"))).toBe(false);
  });

  it("provision of a revoked id with a new key revokes its earlier certificates that are still valid", () => {
    const dir = project({ ...STORE, after: "[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = none\n" });
    expect(cli(dir, "provision", "--client", "dev07", "--out", path.join(dir, "a.bin")).status).toBe(0);
    const first = serialOf(path.join(dir, "certs", "clients", "dev07.crt.pem"));
    // Renewed on the same key (a new organization): the first stays valid beside it.
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = win10.local\norganization = ACME\n\n[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = none\n");
    expect(cli(dir, "generate").status).toBe(0);
    expect(cli(dir, "revoke", "dev07").status).toBe(0);
    expect(crlSerials(storeCrl(dir))).not.toContain(first);
    const p = cli(dir, "provision", "--client", "dev07", "--out", path.join(dir, "b.bin"));
    expect(p.status, p.out).toBe(0);
    expect(p.out).toMatch(/superseded/);
    expect(crlSerials(storeCrl(dir))).toContain(first);
  });
});
