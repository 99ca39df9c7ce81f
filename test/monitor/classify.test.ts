import { describe, expect, it } from "vitest";
import { classifyLine, parseFields } from "../../src/monitor/classify.js";

describe("classifyLine", () => {
  it("reads every line of docs/serial-protocol.md", () => {
    expect(classifyLine("[esp-certs] boot client=dev01 host=win10.local port=8883 ca=EF8EC94449E9AB38")).toEqual({
      kind: "boot",
      client: "dev01",
      host: "win10.local",
      port: 8883,
      ca: "ef8ec94449e9ab38",
    });
    expect(classifyLine("[esp-certs] wifi ok ip=192.168.1.50")).toEqual({ kind: "wifi-ok", ip: "192.168.1.50" });
    expect(classifyLine("[esp-certs] wifi fail status=6")).toEqual({ kind: "wifi-fail", status: 6 });
    expect(classifyLine("[esp-certs] time ok epoch=1795760261 source=floor")).toEqual({ kind: "time", epoch: 1795760261, source: "floor" });
    expect(classifyLine("[esp-certs] tls ok host=win10.local port=8883 ms=1840 heap=21440 mfln=512 resumed=1")).toEqual({
      kind: "tls-ok",
      host: "win10.local",
      port: 8883,
      ms: 1840,
      heap: 21440,
      mfln: "512",
      resumed: true,
    });
    // Firmware older than session resumption says nothing about it.
    expect(classifyLine("[esp-certs] tls ok host=win10.local port=8883 ms=1840 heap=21440 mfln=none")).toMatchObject({ kind: "tls-ok", resumed: undefined });
    expect(classifyLine('[esp-certs] tls fail code=-1000 text="Unable to allocate memory for SSL structures and buffers."')).toEqual({
      kind: "tls-fail",
      code: -1000,
      text: "Unable to allocate memory for SSL structures and buffers.",
    });
    expect(classifyLine("[esp-certs] mqtt ok client=dev01")).toEqual({ kind: "mqtt-ok", client: "dev01" });
    expect(classifyLine("[esp-certs] mqtt fail state=-2")).toEqual({ kind: "mqtt-fail", state: -2 });
  });

  it("finds the firmware's line behind noise, and ignores lines it does not know", () => {
    expect(classifyLine("l\u0000l\uFFFD|\uFFFD[esp-certs] wifi fail status=1\r")).toEqual({ kind: "wifi-fail", status: 1 });
    expect(classifyLine("[esp-certs] dance ok")).toEqual({ kind: "other" });
    expect(classifyLine("[esp-certs] tls fail code=abc")).toEqual({ kind: "other" });
    expect(classifyLine("hello")).toEqual({ kind: "other" });
  });

  it("reads the workshop sketch's plain lines", () => {
    expect(classifyLine("WiFi Connected")).toEqual({ kind: "wifi-ok" });
    expect(classifyLine("Attempting MQTT connection...MQTT Connected")).toEqual({ kind: "mqtt-ok", plain: true });
    expect(classifyLine("MQTT Failed to connect! ... retrying")).toEqual({ kind: "mqtt-fail", plain: true });
    expect(classifyLine("Attempting MQTT connection...last SSL Error = 62 : Chain could not be linked to a trust anch")).toEqual({
      kind: "tls-fail",
      code: 62,
      text: "Chain could not be linked to a trust anch",
      plain: true,
    });
  });

  it("reads what the ROM and the core print on their own", () => {
    expect(classifyLine(" ets Jan  8 2013,rst cause:4, boot mode:(3,6)")).toEqual({ kind: "rom-reset", cause: 4 });
    expect(classifyLine("Exception (28):")).toMatchObject({ kind: "crash", crash: "exception", exception: 28 });
    expect(classifyLine("Fatal exception 29(StoreProhibitedCause):")).toMatchObject({ kind: "crash", exception: 29 });
    expect(classifyLine("Fatal exception:29 flag:2 (EXCEPTION) epc1:0x40201e5a")).toEqual({ kind: "other" });
    expect(classifyLine("Soft WDT reset")).toMatchObject({ kind: "crash", crash: "soft-wdt" });
    expect(classifyLine("Panic core_esp8266_main.cpp:137 __yield")).toMatchObject({ kind: "crash", crash: "panic", detail: "core_esp8266_main.cpp:137 __yield" });
    expect(classifyLine("Stack overflow detected.")).toMatchObject({ kind: "crash", crash: "stack-overflow" });
    expect(classifyLine("Unhandled C++ exception: OOM")).toMatchObject({ kind: "crash", crash: "cpp-exception", detail: "OOM" });
    expect(classifyLine(">>>stack>>>")).toMatchObject({ kind: "crash", crash: "stack-dump" });
    expect(classifyLine("ctx: bearssl")).toEqual({ kind: "stack-ctx", ctx: "bearssl" });
    expect(classifyLine("<<<stack<<<")).toEqual({ kind: "stack-end" });
    expect(classifyLine("--------------- CUT HERE FOR EXCEPTION DECODER ---------------")).toEqual({ kind: "cut-here" });
    expect(classifyLine("last failed alloc call: 4020B5C4(16709)")).toEqual({ kind: "alloc-fail", size: 16709 });
  });
});

describe("parseFields", () => {
  it("keeps everything inside a quoted last value, quotes and = included", () => {
    const f = parseFields('code=56 text="a "b" = c"');
    expect(f.get("code")).toBe("56");
    expect(f.get("text")).toBe('a "b" = c');
  });
});
