import { spawnSync } from "node:child_process";
import { randomBytes, webcrypto } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCrl, crlSignedBy, readCrl, type Revoked } from "../../src/pki/crl.js";
import { crlNextUpdate, crlNextUpdateOf, crlRenewalDue } from "../../src/pki/crl-dates.js";
import { BACKDATE_MS, issueCa, issueLeaf, type IssueDeps, type Issued } from "../../src/pki/issue.js";
import { generateKey, type KeyMaterial } from "../../src/pki/keys.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";

const subject = { country: "GB", state: "DOR", locality: "Bournemouth", organization: "MOSQUITTO" };
const crypto = webcrypto as unknown as Crypto;
const DAY = 86_400_000;
const NOW = new Date();
const deps = (now = NOW): IssueDeps => ({ crypto, now: () => now, randomBytes: (n) => randomBytes(n) });

describe("CRL lifetime", () => {
  const t0 = new Date("2026-01-01T00:00:00Z");
  const caEnd = new Date(t0.getTime() + 3650 * DAY);

  it("lasts cert_days, so it outlives the broker certificate in use, and never passes the CA", () => {
    expect(crlNextUpdate(t0, 825, caEnd).getTime()).toBe(t0.getTime() + 825 * DAY);
    const shortCa = new Date(t0.getTime() + 100 * DAY);
    expect(crlNextUpdate(t0, 825, shortCa)).toEqual(shortCa);
  });

  it("is re-signed within 30 days of its end, not before, and not when it is cut to the CA's end", () => {
    const next = new Date(t0.getTime() + 825 * DAY);
    expect(crlRenewalDue(next, new Date(next.getTime() - 31 * DAY), 825, caEnd)).toBe(false);
    expect(crlRenewalDue(next, new Date(next.getTime() - 29 * DAY), 825, caEnd)).toBe(true);
    expect(crlRenewalDue(next, new Date(next.getTime() + DAY), 825, caEnd)).toBe(true);
    // Cut to the CA's end: a new one would end there too.
    expect(crlRenewalDue(caEnd, new Date(caEnd.getTime() - 10 * DAY), 825, caEnd)).toBe(false);
    // A short cert_days renews at half its length.
    const short = new Date(t0.getTime() + 10 * DAY);
    expect(crlRenewalDue(short, new Date(t0.getTime() + 4 * DAY), 10, caEnd)).toBe(false);
    expect(crlRenewalDue(short, new Date(t0.getTime() + 6 * DAY), 10, caEnd)).toBe(true);
  });
});

const hasOpenssl = requireTool("openssl", "openssl");

describe.skipIf(!hasOpenssl)("CRLs that OpenSSL (and so Mosquitto) accepts", () => {
  let dir: string;
  let caKey: KeyMaterial;
  let ca: Issued;
  const leaves: Issued[] = [];
  const file = (name: string, data: string | Buffer) => {
    const f = path.join(dir, name);
    writeFileSync(f, data);
    return f;
  };
  const openssl = (...args: string[]) => spawnSync("openssl", args, { encoding: "utf8" });

  beforeAll(async () => {
    dir = tmpDir("esp-certs-crl-");
    caKey = await generateKey("ec-p256", crypto);
    ca = await issueCa({ subject, days: 3650, key: caKey, usedSerials: new Set() }, deps());
    for (const id of ["dev01", "dev02", "dev03"]) {
      const k = await generateKey("ec-p256", crypto);
      leaves.push(await issueLeaf({ role: "client", subject, commonName: id, days: 825, publicKey: k.publicKey, keyType: "ec-p256", usedSerials: new Set() }, { der: ca.der, key: caKey }, deps()));
    }
    file("ca.crt.pem", ca.pem);
    leaves.forEach((l, i) => file(`dev0${i + 1}.crt.pem`, l.pem));
  });

  const sign = (revoked: Revoked[], number: bigint, now = NOW) =>
    buildCrl({ revoked, number, thisUpdate: now, nextUpdate: crlNextUpdate(now, 825, ca.notAfter) }, { der: ca.der, key: caKey }, crypto);

  it("writes a v2 CRL with reason codes, dates, authorityKeyIdentifier and CRL number, verified by openssl crl -verify", async () => {
    const at = new Date("2026-11-30T12:00:00Z");
    const crl = await sign([{ serial: leaves[1].serial, at, reason: "keyCompromise" }, { serial: leaves[2].serial, at, reason: "cessationOfOperation" }], 7n);
    const f = file("ca.crl.pem", crl.pem);
    const v = openssl("crl", "-in", f, "-noout", "-verify", "-CAfile", path.join(dir, "ca.crt.pem"));
    expect(v.stderr).toContain("verify OK");
    expect(v.status).toBe(0);
    const text = openssl("crl", "-in", f, "-noout", "-text").stdout;
    expect(text).toContain("Version 2 (0x1)");
    expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*7/);
    expect(text).toContain("X509v3 Authority Key Identifier");
    expect(text).toMatch(/Key Compromise/);
    expect(text).toMatch(/Cessation Of Operation/);
    expect(text).toContain("Nov 30 12:00:00 2026 GMT");
    // The DER is the same CRL.
    const der = file("ca.crl.der", crl.der);
    expect(openssl("crl", "-inform", "DER", "-in", der, "-noout", "-verify", "-CAfile", path.join(dir, "ca.crt.pem")).status).toBe(0);
  });

  it("makes openssl verify -crl_check reject the revoked certificate and accept the rest", async () => {
    const crl = await sign([{ serial: leaves[1].serial, at: NOW }], 1n);
    const crlFile = file("one.crl.pem", crl.pem);
    const verify = (i: number) => openssl("verify", "-crl_check", "-CAfile", path.join(dir, "ca.crt.pem"), "-CRLfile", crlFile, path.join(dir, `dev0${i + 1}.crt.pem`));
    expect(verify(0).status).toBe(0);
    const revoked = verify(1);
    expect(revoked.status).not.toBe(0);
    expect(revoked.stdout + revoked.stderr).toContain("certificate revoked");
    expect(verify(2).status).toBe(0);
  });

  it("an empty CRL lets every certificate through; a stale one lets none", async () => {
    const empty = file("empty.crl.pem", (await sign([], 1n)).pem);
    const ok = openssl("verify", "-crl_check", "-CAfile", path.join(dir, "ca.crt.pem"), "-CRLfile", empty, path.join(dir, "dev01.crt.pem"));
    expect(ok.status).toBe(0);
    const longAgo = new Date(NOW.getTime() - 900 * DAY);
    const stale = await buildCrl({ revoked: [], number: 2n, thisUpdate: longAgo, nextUpdate: crlNextUpdate(longAgo, 825, ca.notAfter) }, { der: ca.der, key: caKey }, crypto);
    const r = openssl("verify", "-crl_check", "-CAfile", path.join(dir, "ca.crt.pem"), "-CRLfile", file("stale.crl.pem", stale.pem), path.join(dir, "dev01.crt.pem"));
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("CRL has expired");
  });

  it("reads back CRL numbers of every length up to RFC 5280's 20 octets, none rounded", async () => {
    for (const number of [0n, 127n, 128n, 2n ** 31n, 2n ** 53n + 1n, 2n ** 159n - 1n]) {
      expect(readCrl((await sign([], number)).der).number).toBe(number);
    }
  });

  it("reads back what it wrote: serials, dates, reasons (keyCompromise when none is given), number, and who signed it", async () => {
    const at = new Date("2026-06-01T00:00:00Z");
    const crl = await sign([{ serial: leaves[0].serial, at, reason: "superseded" }, { serial: leaves[2].serial, at }], 12345678901234567890n);
    const read = readCrl(crl.pem);
    expect(read.number).toBe(12345678901234567890n);
    expect(read.revoked).toEqual([
      { serial: leaves[0].serial, at, reason: "superseded" },
      { serial: leaves[2].serial, at, reason: "keyCompromise" },
    ]);
    expect(read.thisUpdate.getTime()).toBe(Math.floor((NOW.getTime() - BACKDATE_MS) / 1000) * 1000);
    expect(await crlSignedBy(read, ca.der, crypto)).toBe(true);
    expect(readCrl(crl.der).number).toBe(12345678901234567890n);
    // The hook's own reader, without the X.509 library, finds the same nextUpdate.
    expect(crlNextUpdateOf(crl.pem)).toEqual(read.nextUpdate);
    expect(crlNextUpdateOf("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")).toBeUndefined();
    const otherKey = await generateKey("ec-p256", crypto);
    const other = await issueCa({ subject, days: 10, key: otherKey, usedSerials: new Set() }, deps());
    expect(await crlSignedBy(read, other.der, crypto)).toBe(false);
  });
});
