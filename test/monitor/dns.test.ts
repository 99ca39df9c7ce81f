import { describe, expect, it } from "vitest";
import { classifyLine } from "../../src/monitor/classify.js";
import { feedLine } from "../../src/monitor/feed.js";
import { finish, initialState, type Expected, type MonitorState } from "../../src/monitor/verdict.js";

// The firmware's dns lines (docs/serial-protocol.md, docs/windows.md) and what the monitor concludes.
const CA = "ef8ec94449e9ab38";
const EXPECTED: Expected = { host: "win10.local", port: 8883, ca: CA, certDir: "/p/certs", serial: "COM3" };

function play(lines: string[]): MonitorState {
  let s = initialState(EXPECTED);
  for (const line of lines) s = feedLine(s, line).state;
  return s;
}

const UP = [
  `[esp-certs] boot client=dev01 host=win10.local port=8883 ca=${CA} cred=header`,
  "[esp-certs] wifi ok ip=192.168.1.50",
  "[esp-certs] time ok epoch=1795760300 source=ntp",
];
const DNS_FAIL = "[esp-certs] dns fail host=win10.local ms=7012";
const TLS_OK = "[esp-certs] tls ok host=win10.local port=8883 ms=1840 heap=21440 mfln=512 resumed=0";
const MQTT_OK = "[esp-certs] mqtt ok client=dev01";

describe("the dns lines", () => {
  it("are read with every field", () => {
    expect(classifyLine("[esp-certs] dns ok host=win10.local ip=192.168.1.20 ms=35")).toEqual({ kind: "dns-ok", host: "win10.local", ip: "192.168.1.20", ms: 35 });
    expect(classifyLine(DNS_FAIL)).toEqual({ kind: "dns-fail", host: "win10.local", ms: 7012 });
    expect(classifyLine("[esp-certs] dns fallback host=win10.local ip=192.168.1.20 from=last")).toEqual({
      kind: "dns-fallback",
      host: "win10.local",
      ip: "192.168.1.20",
      from: "last",
    });
  });

  it("a name that resolves changes nothing: verified", () => {
    const s = play([...UP, "[esp-certs] dns ok host=win10.local ip=192.168.1.20 ms=35", TLS_OK, MQTT_OK]);
    expect(s.verdict?.id).toBe("verified");
    expect(s.verdict?.title).not.toContain("did not resolve");
  });

  it("dns fail without a fallback is its own diagnosis, with the fixes in order, at the next line or when reading stops", () => {
    expect(play([...UP, DNS_FAIL]).verdict).toBeUndefined();
    const v = play([...UP, DNS_FAIL, DNS_FAIL]).verdict!;
    expect(v).toMatchObject({ result: "failed", exitCode: 1, id: "dns-fail" });
    expect(v.title).toBe("The device cannot resolve win10.local, so it never tried TLS");
    expect(v.cause).toContain("after 7012 ms");
    expect(v.cause).toContain("The certificates are not the problem");
    const order = ["esp-certs doctor", "Private", "multicast filtering", "mqtt_address"].map((s) => v.fix!.indexOf(s));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(finish(play([...UP, DNS_FAIL]), 30)).toMatchObject({ id: "dns-fail", exitCode: 1 });
  });

  it("a fallback that connects is verified, and the title says the name did not resolve", () => {
    const s = play([...UP, DNS_FAIL, "[esp-certs] dns fallback host=win10.local ip=192.168.1.20 from=mqtt_address", TLS_OK, MQTT_OK]);
    expect(s.verdict?.id).toBe("verified");
    expect(s.verdict?.title).toContain("win10.local did not resolve: it dialled 192.168.1.20 (mqtt_address)");
  });

  it("a fallback where nothing answers names the address and where it came from", () => {
    const v = play([
      ...UP,
      DNS_FAIL,
      "[esp-certs] dns fallback host=win10.local ip=192.168.1.20 from=last",
      '[esp-certs] tls fail code=0 text="no TLS from win10.local:8883 at 192.168.1.20 (no broker listening, or it hung up)"',
    ]).verdict!;
    expect(v.id).toBe("dns-fallback-dead");
    expect(v.title).toContain("192.168.1.20");
    expect(v.cause).toContain("the last address that worked");
  });

  it("a fallback to a broker whose certificate lacks the name is the usual error 56", () => {
    const v = play([
      ...UP,
      DNS_FAIL,
      "[esp-certs] dns fallback host=win10.local ip=192.168.1.20 from=mqtt_address",
      '[esp-certs] tls fail code=56 text="Expected server name was not found in the chain."',
    ]).verdict!;
    expect(v.id).toBe("tls-56");
  });
});
