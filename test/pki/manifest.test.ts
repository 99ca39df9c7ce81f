// certs/manifest.json: checked on read (exit 2 naming the field, never a TypeError), the
// history's bookkeeping, and the version 1 migration as a pure function.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkManifest } from "../../src/store/manifest-check.js";
import { migrateV1, parseManifest, usedSerials, withCurrent, withRevoked, type IssuedRecord } from "../../src/store/manifest.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { generatedProject } from "../render/helpers.js";

const v1Text = readFileSync(path.join(repoRoot, "test/fixtures/store-v1/certs/manifest.json"), "utf8");

describe("the manifest's shape", () => {
  const v2 = () => migrateV1(JSON.parse(v1Text));
  it.each<[string, (m: Record<string, unknown>) => void, RegExp]>([
    ["serials a number", (m) => ((m.version = 1), (m.serials = 5)), /manifest\.serials is 5, not a list of hex serials/],
    ["clients null", (m) => (m.clients = null), /manifest\.clients is null, not an object/],
    ["no clients", (m) => delete m.clients, /manifest\.clients is missing, not an object/],
    ["a client's serial a number", (m) => ((m.clients as Record<string, Record<string, unknown>>).dev01.serial = 7), /manifest\.clients\.dev01\.serial is 7, not lower-case hex/],
    ["history not a list", (m) => (m.history = {}), /manifest\.history is \{\}, not a list/],
    ["a record without its role", (m) => delete (m.history as Record<string, unknown>[])[1].role, /manifest\.history\[1\]\.role is missing/],
    ["a client record without its id", (m) => delete (m.history as Record<string, unknown>[])[2].id, /manifest\.history\[2\]\.id is missing, not a string/],
    ["a revocation without a date", (m) => ((m.history as Record<string, unknown>[])[2].revoked = { reason: "lost" }), /manifest\.history\[2\]\.revoked\.at is missing, not an ISO date/],
    ["an unknown version", (m) => (m.version = "two"), /manifest\.version is "two", not 1 or 2/],
    ["a newer version", (m) => (m.version = 3), /version 3 is from a newer esp-certs/],
  ])("%s: says which field and what it should be", (_what, damage, message) => {
    const m = v2() as unknown as Record<string, unknown>;
    damage(m);
    expect(checkManifest(JSON.parse(JSON.stringify(m)))).toMatch(message);
  });

  it("accepts what this release writes and what the last one wrote", () => {
    expect(checkManifest(JSON.parse(v1Text))).toBeUndefined();
    expect(checkManifest(JSON.parse(JSON.stringify(v2())))).toBeUndefined();
  });

  it("is JSON, or an error that says how to repair it", () => {
    expect(() => parseManifest('{"version": 1, "ca"', "certs/manifest.json")).toThrow(/Cannot read certs\/manifest\.json: it is not JSON/);
  });
});

describe("the history", () => {
  const rec = (serial: string, extra: Partial<IssuedRecord> = {}): IssuedRecord => ({
    role: "client", id: "dev01", serial, sha256: "0".repeat(64), notBefore: "2026-01-01T00:00:00.000Z", notAfter: "2027-01-01T00:00:00.000Z", keyType: "ec-p256", issuedAt: 0, ...extra,
  } as IssuedRecord);

  it("marks the certificate a new one replaces, and only that one", () => {
    let h = withCurrent([], rec("01"));
    h = withCurrent(h, rec("02", { id: "dev02" } as Partial<IssuedRecord>));
    h = withCurrent(h, rec("03"));
    expect(h.map((r) => [r.serial, r.replacedBy])).toEqual([["01", "03"], ["02", undefined], ["03", undefined]]);
    expect(withCurrent(h, rec("03"))).toBe(h);
  });

  it("records a revocation on the certificate's own record, and only a serial the store issued", () => {
    const m = migrateV1(JSON.parse(v1Text));
    const serial = m.clients.dev02.serial;
    const revoked = withRevoked(m, serial, { at: "2026-12-01T21:00:00.000Z", reason: "keyCompromise" })!;
    expect(revoked.history.filter((r) => r.revoked).map((r) => r.serial)).toEqual([serial]);
    expect(checkManifest(JSON.parse(JSON.stringify(revoked)))).toBeUndefined();
    expect(withRevoked(m, "0badc0de", { at: "2026-12-01T21:00:00.000Z", reason: "lost" })).toBeUndefined();
  });

  it("version 1's serials with no certificate stay used", () => {
    const m = migrateV1(JSON.parse(v1Text));
    expect([...usedSerials(m)].sort()).toEqual([...JSON.parse(v1Text).serials].sort());
  });
});

// Issue 11 item 8: a manifest with wrong types crashed generate, hook and header with a TypeError.
describe("generate, hook and header with a damaged manifest", () => {
  let dir: string;
  let manifest: string;
  let good: string;
  beforeAll(() => {
    dir = generatedProject();
    manifest = path.join(dir, "certs/manifest.json");
    good = readFileSync(manifest, "utf8");
  });

  const damaged: [string, (m: Record<string, unknown>) => string][] = [
    ['"serials": 5', (m) => JSON.stringify({ ...m, version: 1, serials: 5 })],
    ['"clients": null', (m) => JSON.stringify({ ...m, clients: null })],
    ["no clients", (m) => JSON.stringify({ ...m, clients: undefined })],
    ["junk", () => "\u0000\u0001junk"],
  ];
  it.each(damaged)("%s: exit 2 with what is wrong and how to repair it", (_what, damage) => {
    writeFileSync(manifest, damage(JSON.parse(good)));
    for (const args of [["generate"], ["hook", "--env", "d1_mini"], ["header"]]) {
      const r = runCli(args, { cwd: dir });
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^esp-certs: Cannot read .*manifest\.json: (it is not JSON|manifest\.\w+ is)/);
      expect(r.stderr).toMatch(/move it away: "esp-certs generate" writes it again/);
      expect(r.stderr).not.toMatch(/TypeError| {4}at /);
    }
    writeFileSync(manifest, good);
  });
});
