// Where a device's renewal stands, from its retained state and what push left (pure).
import { describe, expect, it } from "vitest";
import { fieldFindings } from "../../src/doctor/field.js";
import { fieldVerdict, parseState, sameSerial } from "../../src/renewal/field-state.js";

const now = new Date("2027-01-01T00:00:00Z");
const inDays = (d: number) => Math.floor(now.getTime() / 1000) + d * 86400;

describe("the field's state against the store", () => {
  it("reads the firmware's state message, and nothing else", () => {
    expect(parseState(Buffer.from('{"serial":"3FE9","until":1867778064,"cred":"flash"}'))).toEqual({ serial: "3FE9", until: 1867778064, cred: "flash" });
    expect(parseState(Buffer.from("online"))).toBeUndefined();
    expect(parseState(Buffer.from('{"serial":"xyz","until":1,"cred":"flash"}'))).toBeUndefined();
  });

  it("compares serials as numbers", () => {
    expect(sameSerial("00ABcd", "abcd")).toBe(true);
    expect(sameSerial("abce", "abcd")).toBe(false);
  });

  it("current / pushed and not taken / not pushed / no state", () => {
    const old = { serial: "AA", until: inDays(20), cred: "flash" };
    expect(fieldVerdict("aa", old, undefined, now)).toMatchObject({ kind: "current" });
    expect(fieldVerdict("bb", old, "BB", now)).toMatchObject({ kind: "pushed-not-taken", daysLeft: 20 });
    expect(fieldVerdict("bb", old, "AA", now)).toMatchObject({ kind: "field-ends", daysLeft: 20 });
    expect(fieldVerdict("bb", undefined, "BB", now)).toEqual({ kind: "no-state" });
  });

  it("doctor warns for a device inside renew_days that has not taken a renewal, with the step that gets it one", () => {
    const state = (d: number) => ({ serial: "AA", until: inDays(d), cred: "flash" });
    const findings = fieldFindings(
      [
        { id: "dev07", kind: "current", state: state(30) },
        { id: "dev08", kind: "pushed-not-taken", state: state(10), daysLeft: 10 },
        { id: "dev09", kind: "field-ends", state: state(5), daysLeft: 5 },
        { id: "dev10", kind: "current", state: state(300) },
        { id: "dev11", kind: "no-state" },
      ],
      { renewDays: 60, certDays: 825 },
      now,
    );
    expect(findings.map((f) => [f.level, f.text.split("'")[0], f.fix])).toEqual([
      ["warning", "dev07", "Renew it on its own key and deliver it: esp-certs generate --renew dev07, then esp-certs push --client dev07."],
      ["warning", "dev08", 'Bring dev08 online; its serial lines say why a renewal is refused ("cred renew fail reason=...").'],
      ["warning", "dev09", "Deliver the renewal: esp-certs push --client dev09."],
    ]);
  });

  it("uses generate's window: renew_days, or half of cert_days when shorter", () => {
    const device = { id: "dev07", kind: "current" as const, state: { serial: "AA", until: inDays(55), cred: "flash" } };
    expect(fieldFindings([device], { renewDays: 60, certDays: 825 }, now)).toHaveLength(1);
    // generate renews a 100-day certificate 50 days before its end: at 55 days nothing is due yet.
    expect(fieldFindings([device], { renewDays: 60, certDays: 100 }, now)).toEqual([]);
    expect(fieldFindings([{ ...device, state: { ...device.state, until: inDays(40) } }], { renewDays: 60, certDays: 100 }, now)[0].text).toContain("(renewal window 50 days)");
  });
});
