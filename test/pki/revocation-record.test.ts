// The manifest's side of the two records of a revocation (src/store/revocation-record.ts): pure.
import { describe, expect, it } from "vitest";
import type { IssuedRecord, Manifest } from "../../src/store/manifest.js";
import { forgotten, recordedRevocations, stillValid, supersede, supersededValid, withRecorded } from "../../src/store/revocation-record.js";

const now = new Date("2026-12-05T00:00:00Z");
const base = { sha256: "00", notBefore: "2026-01-01T00:00:00.000Z", keyType: "ec-p256" as const };
const rec = (serial: string, id: string | undefined, extra: Partial<IssuedRecord> = {}): IssuedRecord =>
  ({ ...(id ? { role: "client", id } : { role: "ca" }), serial, ...base, notAfter: "2028-01-01T00:00:00.000Z", issuedAt: 2000, ...extra }) as IssuedRecord;

function manifest(history: IssuedRecord[]): Manifest {
  return { ca: { issuedAt: 1000 }, history } as unknown as Manifest;
}

describe("revocation-record", () => {
  const m = manifest([
    rec("0a", undefined, { issuedAt: 1000 }),
    rec("01", "dev01", { replacedBy: "02" }),
    rec("02", "dev01", { replacedBy: "03" }),
    rec("03", "dev01"),
    rec("04", "dev02", { revoked: { at: "2026-06-01T00:00:00.000Z", reason: "keyCompromise" } }),
    rec("05", "dev03", { notAfter: "2026-01-02T00:00:00.000Z" }),
    // Issued under an earlier CA: not this CA's CRL's business.
    rec("06", "dev04", { issuedAt: 10, revoked: { at: "2025-01-01T00:00:00.000Z", reason: "keyCompromise" } }),
    rec("07", "dev05", { revoked: { at: "2026-06-01T00:00:00.000Z", reason: "unspecified" } }),
  ]);

  it("lists this CA's recorded revocations, an unknown reason as none", () => {
    expect(recordedRevocations(m)).toEqual([
      { serial: "04", at: new Date("2026-06-01T00:00:00.000Z"), reason: "keyCompromise" },
      { serial: "07", at: new Date("2026-06-01T00:00:00.000Z"), reason: undefined },
    ]);
    expect(recordedRevocations(undefined)).toEqual([]);
  });

  it("finds what a CRL forgets, and adds it", () => {
    const crl = [{ serial: "04", at: now, reason: "keyCompromise" as const }];
    expect(forgotten(crl, m).map((r) => r.serial)).toEqual(["07"]);
    expect(withRecorded(crl, m).map((r) => r.serial)).toEqual(["04", "07"]);
    expect(forgotten([], m).map((r) => r.serial)).toEqual(["04", "07"]);
  });

  it("still valid: not revoked, not expired, this CA's; superseded ones have replacedBy", () => {
    expect(stillValid(m, now).map((r) => r.serial)).toEqual(["01", "02", "03"]);
    expect(supersededValid(m, now).map((r) => r.serial)).toEqual(["01", "02"]);
  });

  it("supersede revokes every other still-valid certificate of the id, and only those", () => {
    const s = supersede(m, "dev01", "03", now);
    expect(s.revoked.map((r) => [r.serial, r.reason])).toEqual([["01", "superseded"], ["02", "superseded"]]);
    expect(stillValid(s.manifest, now).map((r) => r.serial)).toEqual(["03"]);
    expect(s.manifest.history.find((r) => r.serial === "02")?.revoked).toEqual({ at: now.toISOString(), reason: "superseded" });
    // Nothing to supersede: the same manifest back.
    expect(supersede(m, "dev02", "09", now).manifest).toBe(m);
  });
});
