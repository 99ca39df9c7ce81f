import { webcrypto, X509Certificate } from "node:crypto";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { BACKDATE_MS, issueCa, issueLeaf, newSerial, type IssueDeps } from "../../src/pki/issue.js";
import { generateKey } from "../../src/pki/keys.js";
import { planLeaf, type LeafWanted } from "../../src/store/plan.js";
import { renewalDue } from "../../src/pki/renewal-window.js";

const subject = { country: "GB", state: "DOR", locality: "Bournemouth", organization: "MOSQUITTO" };
const crypto = webcrypto as unknown as Crypto;
const FIXED = new Date("2026-01-01T00:00:00Z");
/** A deterministic "random" source: the bytes 1, 2, 3, ... */
const counting = (): IssueDeps["randomBytes"] => {
  let n = 0;
  return (len) => Uint8Array.from({ length: len }, () => ++n & 0xff);
};
const fixedDeps = (): IssueDeps => ({ crypto, now: () => FIXED, randomBytes: counting() });

describe("issuing with injected clock and randomness", () => {
  it("gives the same CA bytes for the same key, clock and random source (RSA)", async () => {
    const key = await generateKey("rsa2048", crypto);
    const a = await issueCa({ subject, days: 3650, key, usedSerials: new Set() }, fixedDeps());
    const b = await issueCa({ subject, days: 3650, key, usedSerials: new Set() }, fixedDeps());
    expect(a.der.equals(b.der)).toBe(true);
    const cert = new X509Certificate(a.der);
    expect(cert.serialNumber.toLowerCase()).toBe("0102030405060708090a0b0c0d0e0f10");
    expect(new Date(cert.validFrom).getTime()).toBe(FIXED.getTime() - BACKDATE_MS);
    expect(new Date(cert.validTo).getTime()).toBe(FIXED.getTime() + 3650 * 86_400_000);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
  });

  // Regression: a DN string was built and parsed again, so "#1 Team" was read as hex and threw.
  it("puts subject fields in as written, whatever DN syntax they hold", async () => {
    const key = await generateKey("ec-p256", crypto);
    const odd = { ...subject, organization: "#1 Team, CN=x", locality: ' "Zürich"+\\ ' };
    const ca = await issueCa({ subject: odd, days: 10, key, usedSerials: new Set() }, fixedDeps());
    expect(new x509.X509Certificate(new Uint8Array(ca.der)).subjectName.toJSON()).toEqual([
      { C: ["GB"] },
      { ST: ["DOR"] },
      { L: [' "Zürich"+\\ '] },
      { O: ["#1 Team, CN=x"] },
      { OU: ["esp-certs"] },
      { CN: ["esp-certs Root CA"] },
    ]);
  });

  it("never lets a leaf outlive its CA, and says it clamped", async () => {
    const caKey = await generateKey("ec-p256", crypto);
    const ca = await issueCa({ subject, days: 10, key: caKey, usedSerials: new Set() }, fixedDeps());
    const leafKey = await generateKey("ec-p256", crypto);
    const leaf = await issueLeaf(
      { role: "client", subject, commonName: "dev01", days: 825, publicKey: leafKey.publicKey, keyType: "ec-p256", usedSerials: new Set([ca.serial]) },
      { der: ca.der, key: caKey },
      { crypto, now: () => FIXED, randomBytes: counting() },
    );
    expect(leaf.clampedToCa).toBe(true);
    expect(leaf.notAfter.getTime()).toBe(ca.notAfter.getTime());
    expect(leaf.serial).not.toBe(ca.serial);
    const x = new X509Certificate(leaf.der);
    expect(x.checkIssued(new X509Certificate(ca.der))).toBe(true);
    expect(x.verify(new X509Certificate(ca.der).publicKey)).toBe(true);
  });

  it("makes serials positive, 128 bits long, and unique in the store", () => {
    const zeros = () => new Uint8Array(16).fill(0xff);
    const s = newSerial(zeros, new Set());
    expect(s).toHaveLength(32);
    expect(parseInt(s.slice(0, 2), 16)).toBeLessThan(0x80);
    let first = true;
    const taken = "11".repeat(16);
    const source = (n: number) => new Uint8Array(n).fill(first ? ((first = false), 0x11) : 0x22);
    expect(newSerial(source, new Set([taken]))).toBe("22".repeat(16));
  });
});

describe("re-issue rules (planLeaf)", () => {
  const now = new Date("2026-06-01T00:00:00Z");
  const renewal = { certDays: 825, caNotAfter: new Date("2036-01-01T00:00:00Z") };
  const wanted: LeafWanted = { commonName: "win10.local", dns: ["win10.local", "localhost"], ips: [], keyType: "rsa2048", rekey: false, followKeyType: true, renewal };
  let server: X509Certificate;
  const signedBy = (ok: boolean) => () => ok;

  it("keeps a certificate that is right, and says why it re-issues one that is not", async () => {
    const caKey = await generateKey("rsa2048", crypto);
    const deps = { crypto, now: () => now, randomBytes: counting() };
    const ca = await issueCa({ subject, days: 3650, key: caKey, usedSerials: new Set() }, deps);
    const key = await generateKey("rsa2048", crypto);
    const issued = await issueLeaf(
      { role: "server", subject, commonName: "win10.local", dns: ["win10.local", "localhost"], ips: [], days: 825, publicKey: key.publicKey, keyType: "rsa2048", usedSerials: new Set() },
      { der: ca.der, key: caKey },
      deps,
    );
    server = new X509Certificate(issued.der);
    const ok = { cert: server, keyType: "rsa2048" as const, keyMatches: true };

    expect(planLeaf(ok, wanted, signedBy(true), now)).toEqual({ action: "keep" });
    expect(planLeaf(ok, { ...wanted, dns: ["other.local", "localhost"] }, signedBy(true), now)).toMatchObject({ action: "issue", reason: "its names changed", newKey: false });
    expect(planLeaf(ok, { ...wanted, commonName: "localhost" }, signedBy(true), now)).toMatchObject({ action: "issue", reason: "its names changed" });
    expect(planLeaf(ok, wanted, signedBy(false), now)).toMatchObject({ reason: "the CA changed", newKey: false });
    expect(planLeaf({ ...ok, keyMatches: false }, wanted, signedBy(true), now)).toMatchObject({ reason: "it does not match its key" });
    expect(planLeaf({ ...ok, keyType: undefined }, wanted, signedBy(true), now)).toMatchObject({ reason: "its key is missing", newKey: true });
    expect(planLeaf({ keyMatches: false }, wanted, signedBy(true), now)).toMatchObject({ reason: "it is new", newKey: true });
    expect(planLeaf({ cert: server, keyUnsupported: true, keyMatches: false }, wanted, signedBy(true), now)).toMatchObject({
      reason: "its key is neither RSA-2048 nor EC P-256",
      newKey: true,
    });
    const late = new Date(new Date(server.validTo).getTime() - 29 * 86_400_000);
    expect(planLeaf(ok, wanted, signedBy(true), late)).toMatchObject({ action: "issue", reason: expect.stringMatching(/^it expires/) });
    const earlier = new Date(new Date(server.validTo).getTime() - 31 * 86_400_000);
    expect(planLeaf(ok, wanted, signedBy(true), earlier)).toEqual({ action: "keep" });
    // A client keeps its key when client_key_type changes; the broker follows key_type.
    expect(planLeaf(ok, { ...wanted, keyType: "ec-p256", followKeyType: false }, signedBy(true), now)).toEqual({ action: "keep" });
    expect(planLeaf(ok, { ...wanted, keyType: "ec-p256" }, signedBy(true), now)).toMatchObject({ newKey: true, keyType: "ec-p256" });
    // --rekey replaces a key even of the same type (a key thought compromised).
    expect(planLeaf(ok, { ...wanted, rekey: true }, signedBy(true), now)).toMatchObject({ newKey: true, keyType: "rsa2048", reason: "new rsa2048 key (--rekey)" });
  });
});

describe("renewal (renewalDue)", () => {
  const day = 86_400_000;
  const now = new Date("2026-06-01T00:00:00Z");
  const at = (days: number) => new Date(now.getTime() + days * day);

  it("renews within 30 days of the end, when a new certificate would end later", () => {
    expect(renewalDue(at(29), now, 825, at(3000))).toBe(true);
    expect(renewalDue(at(31), now, 825, at(3000))).toBe(false);
    expect(renewalDue(at(-5), now, 825, at(3000))).toBe(true);
  });

  // Regression: these were re-issued on every run, so every build asked for the CA passphrase.
  it("does not renew a certificate already cut to its CA's end", () => {
    expect(renewalDue(at(20), now, 825, at(20))).toBe(false);
  });

  it("renews a short cert_days in the last half of its life, not on every run", () => {
    expect(renewalDue(at(9), now, 10, at(3000))).toBe(false);
    expect(renewalDue(at(4), now, 10, at(3000))).toBe(true);
  });
});
