import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LineSplitter, MAX_LINE_BYTES, isNoise, printable, splitAtMarker } from "../../src/serial/lines.js";
import { RUN_RESET, resetBoard, type ControlLines } from "../../src/serial/reset.js";
import { guessChip } from "../../src/serial/chips.js";
import { repoRoot } from "../helpers/cli.js";
import { requirePython } from "../helpers/tools.js";

describe("LineSplitter", () => {
  it("splits on \\n and \\r\\n, across chunks", () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from("one\r\ntw"))).toEqual(["one"]);
    expect(s.push(Buffer.from("o\nthree\r"))).toEqual(["two", "three"]);
    expect(s.push(Buffer.from("\n"))).toEqual([]);
    expect(s.flush()).toEqual([]);
  });

  it("survives bytes that are not UTF-8 and keeps what follows them", () => {
    const s = new LineSplitter();
    const lines = s.push(Buffer.concat([Buffer.from([0xe0, 0x10, 0x8c, 0xff, 0x00]), Buffer.from("ok\n")]));
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith("ok")).toBe(true);
  });

  it("cuts a line that never ends, so noise cannot grow without bound, and loses no byte", () => {
    const s = new LineSplitter();
    const out = [...s.push(Buffer.alloc(MAX_LINE_BYTES * 2 + 5, 0x80)), ...s.flush()];
    expect(out.map((l) => l.length)).toEqual([MAX_LINE_BYTES + 5, MAX_LINE_BYTES]);
  });

  it("ends lines at CR alone, as some adapters and terminals send them, in any chunking", () => {
    const text = "one\rtwo\r\nthree\nfour\r\rfive\r";
    for (const size of [1, 2, 3, 5, text.length]) {
      const s = new LineSplitter();
      const got: string[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...s.push(Buffer.from(text.slice(i, i + size))));
      got.push(...s.flush());
      expect(got, `chunks of ${size}`).toEqual(["one", "two", "three", "four", "", "five"]);
    }
  });

  // Issue 11, item 10: 1000-3000 bytes of noise without a line end before a correct line cut into it.
  it("keeps a line whole after any amount of noise without a line end, in any chunking", () => {
    const line = "[esp-certs] boot client=dev01 host=win10.local port=8883 ca=0123456789abcdef";
    for (const noiseBytes of [1, 500, 1000, 1010, 1023, 1024, 1025, 1500, 2047, 2048, 2049, 3000, 5000]) {
      for (const chunk of [1, 7, 64, 4096]) {
        const data = Buffer.concat([Buffer.alloc(noiseBytes, 0xf8), Buffer.from(`${line}\r\n[esp-certs] wifi ok ip=10.0.0.2\n`)]);
        const s = new LineSplitter();
        const got: string[] = [];
        for (let i = 0; i < data.length; i += chunk) got.push(...s.push(data.subarray(i, i + chunk)));
        got.push(...s.flush());
        expect(got.some((l) => l.endsWith(line) && l.includes("[esp-certs] boot")), `${noiseBytes} bytes of noise, chunks of ${chunk}`).toBe(true);
        expect(got.at(-1)).toBe("[esp-certs] wifi ok ip=10.0.0.2");
      }
    }
  });
});

describe("noise", () => {
  const python = requirePython();

  it.skipIf(python === undefined)("recognises the ROM's 74880-baud boot text read at 115200", () => {
    const noise = execFileSync(python!, [path.join(repoRoot, "test", "fixtures", "serial", "rom-noise.py"), "2"]);
    const line = new LineSplitter().push(Buffer.concat([noise, Buffer.from("\n")]))[0];
    expect(isNoise(line)).toBe(true);
    expect(isNoise("[esp-certs] wifi ok ip=192.168.1.50")).toBe(false);
    expect(isNoise("")).toBe(false);
  });

  it("makes control characters harmless for the terminal, and splits noise off the firmware's line", () => {
    expect(printable("a\u001b[2Jb\tc")).toBe("a\uFFFD[2Jb\tc");
    expect(splitAtMarker("\uFFFDl\u0000[esp-certs] boot", "[esp-certs] ")).toEqual(["\uFFFDl\u0000", "[esp-certs] boot"]);
    expect(splitAtMarker("[esp-certs] boot", "[esp-certs] ")).toEqual(["[esp-certs] boot"]);
  });
});

describe("resetBoard", () => {
  // A stand-in for serialport's SerialPort that records what the reset asks of the lines.
  function fakePort(failSet?: string): ControlLines & { calls: string[]; times: number[] } {
    const calls: string[] = [];
    const times: number[] = [];
    return {
      calls,
      times,
      set: (o, cb) => {
        calls.push(`set dtr=${o.dtr} rts=${o.rts}`);
        times.push(performance.now());
        cb(failSet ? new Error(failSet) : null);
      },
      flush: (cb) => {
        calls.push("flush");
        cb(null);
      },
    };
  }

  it("holds EN low through RTS for 100 ms with GPIO0 high, as esptool's HardReset", async () => {
    const port = fakePort();
    expect(await resetBoard(port)).toBeUndefined();
    expect(port.calls).toEqual(["set dtr=false rts=true", "flush", "set dtr=false rts=false"]);
    expect(port.times[1] - port.times[0]).toBeGreaterThanOrEqual(99);
    expect(RUN_RESET.every((s) => s.dtr === false)).toBe(true);
  });

  it("returns why when the port cannot set the lines, after one try", async () => {
    const port = fakePort("Error: Inappropriate ioctl for device, cannot set");
    expect(await resetBoard(port)).toBe("Inappropriate ioctl for device, cannot set");
    expect(port.calls).toHaveLength(1);
  });
});

describe("guessChip", () => {
  it("knows the bridges of ESP8266 boards, in any letter case", () => {
    expect(guessChip("10C4", "EA60")?.chip).toContain("CP210x");
    expect(guessChip("1a86", "7523")?.chip).toBe("CH340");
    expect(guessChip("0403", "6001")?.chip).toContain("FT232R");
    expect(guessChip("303a", "1001")?.boards).toContain("not an ESP8266");
    expect(guessChip("1a86", "ffff")).toBeUndefined();
    expect(guessChip(undefined, undefined)).toBeUndefined();
  });
});
