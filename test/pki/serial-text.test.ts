import { describe, expect, it } from "vitest";
import { parseSerial } from "../../src/pki/serial-text.js";
import { runCli } from "../helpers/cli.js";
import { project } from "../helpers/project.js";

describe("a serial as the user gives it to revoke --serial", () => {
  it("takes status's hex, openssl's upper case, -text's colons and 0x, as one lower-case form", () => {
    for (const s of ["5bd6ed28c6be52f2", "5BD6ED28C6BE52F2", "5b:d6:ed:28:c6:be:52:f2", " 0x5bd6ed28c6be52f2 "]) expect(parseSerial(s), s).toBe("5bd6ed28c6be52f2");
  });

  it("refuses what is not hex with how to find one, before anything is read or signed (exit 2)", () => {
    expect(() => parseSerial("dev02")).toThrow(/hexadecimal digits/);
    expect(() => parseSerial(":")).toThrow(/hexadecimal digits/);
    const r = runCli(["revoke", "--serial", "zz"], { cwd: project() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Cannot use --serial zz: a serial is hexadecimal digits");
  });
});
