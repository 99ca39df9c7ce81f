// The credential record's serial lines (docs/credential-record.md), read by the classifier and
// judged by the verdict, for `monitor` and for `provision`'s stricter expectation.
import { describe, expect, it } from "vitest";
import { classifyLine } from "../../src/monitor/classify.js";
import { feedLine } from "../../src/monitor/feed.js";
import { initialState, type Expected, type MonitorState } from "../../src/monitor/verdict.js";

const CA = "ef8ec94449e9ab38";
const EXPECTED: Expected = { host: "win10.local", port: 8883, ca: CA, certDir: "/p/certs", serial: "COM3" };
const boot = (client: string, cred?: string) => `[esp-certs] boot client=${client} host=win10.local port=8883 ca=${CA}${cred ? ` cred=${cred}` : ""}`;
const CONNECTED = [
  "[esp-certs] wifi ok ip=192.168.1.50",
  "[esp-certs] time ok epoch=1795760300 source=ntp",
  "[esp-certs] tls ok host=win10.local port=8883 ms=1840 heap=21440 mfln=512 resumed=0",
];

function play(lines: string[], expected: Expected = EXPECTED): MonitorState {
  let s = initialState(expected);
  for (const line of lines) s = feedLine(s, line).state;
  return s;
}

describe("the cred lines", () => {
  it("are classified", () => {
    expect(classifyLine(boot("dev07", "flash"))).toMatchObject({ kind: "boot", client: "dev07", cred: "flash" });
    expect(classifyLine("[esp-certs] cred fail reason=checksum")).toEqual({ kind: "cred-fail", reason: "checksum" });
    expect(classifyLine('[esp-certs] cred none hint="unprovisioned: esp-certs provision"')).toEqual({ kind: "cred-none", hint: "unprovisioned: esp-certs provision" });
  });

  it("field renewal: classified, and neither a failure nor the connection's verdict", () => {
    expect(classifyLine("[esp-certs] cred renewed serial=3FE94941E9368D53 until=1867778064")).toEqual({ kind: "cred-renewed", serial: "3FE94941E9368D53", until: 1867778064 });
    expect(classifyLine("[esp-certs] cred renew fail reason=older")).toEqual({ kind: "cred-renew-fail", reason: "older" });
    const refused = play([boot("dev07", "flash"), ...CONNECTED, "[esp-certs] cred renew fail reason=issuer", "[esp-certs] mqtt ok client=dev07"]);
    expect(refused.verdict).toMatchObject({ result: "verified" });
    const taken = play([boot("dev07", "flash"), ...CONNECTED, "[esp-certs] cred renewed serial=3F until=1867778064", ...CONNECTED.slice(2), "[esp-certs] mqtt ok client=dev07"]);
    expect(taken.verdict).toMatchObject({ result: "verified" });
  });

  it("monitor: an unprovisioned device fails with the provision command; a record's failure before it is named", () => {
    const none = play([boot("", "none"), '[esp-certs] cred none hint="unprovisioned"']);
    expect(none.verdict).toMatchObject({ id: "unprovisioned", exitCode: 1, fix: "Write its identity: `esp-certs provision --port COM3 --client <id>`." });
    const rejected = play(["[esp-certs] cred fail reason=issuer", boot("", "none")]);
    expect(rejected.verdict).toMatchObject({ id: "cred-rejected", title: "The device rejected its credential record (reason: issuer)" });
  });

  it("monitor: a header identity after a rejected record still verifies (the sketch may use EEPROM)", () => {
    const s = play(["[esp-certs] cred fail reason=magic", boot("dev01", "header"), ...CONNECTED, "[esp-certs] mqtt ok client=dev01"]);
    expect(s.verdict).toMatchObject({ result: "verified" });
  });

  describe("provision: verified only as the provisioned client, from flash", () => {
    const want = { ...EXPECTED, client: "dev07" };
    it("verifies dev07 cred=flash and says where the identity came from", () => {
      const s = play([boot("dev07", "flash"), ...CONNECTED, "[esp-certs] mqtt ok client=dev07"], want);
      expect(s.verdict).toMatchObject({ result: "verified", title: expect.stringContaining("dev07 (identity from its credential record) connected") });
    });
    it("fails firmware without cred=, a header identity, a rejected record and another client", () => {
      expect(play([boot("dev01")], want).verdict?.id).toBe("no-cred");
      expect(play([boot("dev01", "header")], want).verdict?.id).toBe("cred-not-flash");
      expect(play(["[esp-certs] cred fail reason=checksum", boot("dev01", "header")], want).verdict).toMatchObject({ id: "cred-rejected", fix: expect.stringContaining("--client dev07") });
      expect(play([boot("dev06", "flash")], want).verdict).toMatchObject({ id: "cred-other-client", title: "The device booted as dev06, not dev07" });
    });
  });
});
