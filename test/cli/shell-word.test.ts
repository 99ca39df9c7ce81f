// The one quoting rule for paths and ports in the commands esp-certs suggests (src/ui.ts shellWord).
import { describe, expect, it } from "vitest";
import { shellWord } from "../../src/ui.js";

describe("shellWord", () => {
  it("leaves a plain path or port plain", () => {
    expect(shellWord("/dev/ttyUSB0", "linux")).toBe("/dev/ttyUSB0");
    expect(shellWord("COM3", "win32")).toBe("COM3");
    expect(shellWord("/home/ann/esp-proj/broker/mosquitto.conf", "darwin")).toBe("/home/ann/esp-proj/broker/mosquitto.conf");
    expect(shellWord("C:\\Users\\ann\\proj\\broker", "win32")).toBe("C:\\Users\\ann\\proj\\broker");
  });

  it("double-quotes a path with a space or a character a shell acts on, in every shell's style", () => {
    expect(shellWord("/home/ana/my boards/ttyBoard", "linux")).toBe('"/home/ana/my boards/ttyBoard"');
    expect(shellWord("C:\\Users\\Ann Lee\\proj", "win32")).toBe('"C:\\Users\\Ann Lee\\proj"');
    expect(shellWord("/home/ann/a&b", "linux")).toBe('"/home/ann/a&b"');
    expect(shellWord("/home/ann/it's", "linux")).toBe(`"/home/ann/it's"`);
    // A backslash escapes on POSIX: not plain there.
    expect(shellWord("/tmp/a\\b", "linux")).toBe('"/tmp/a\\b"');
  });

  it("single-quotes what double quotes would expand: $, a backtick, !, or a double quote", () => {
    expect(shellWord("/home/ann/$HOME dir", "linux")).toBe("'/home/ann/$HOME dir'");
    expect(shellWord("/home/ann/wow!", "darwin")).toBe("'/home/ann/wow!'");
    expect(shellWord("/home/ann/it's $5", "linux")).toBe("'/home/ann/it'\\''s $5'");
    expect(shellWord("C:\\it's $5", "win32")).toBe("'C:\\it''s $5'");
  });
});
