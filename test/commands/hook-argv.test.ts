// main.ts runs the hook without commander only for the exact form esp_certs_hook.py passes;
// anything else must go to commander (help, errors, other commands).
import { describe, expect, it } from "vitest";
import { hookArgv } from "../../src/commands/hook.js";

describe("hookArgv", () => {
  it("reads the forms the PlatformIO script passes", () => {
    expect(hookArgv(["--project-dir", "/p", "hook", "--env", "d1_mini"])).toEqual({ projectDir: "/p", env: "d1_mini", client: undefined });
    expect(hookArgv(["--project-dir", "/p", "hook", "--env", "d1_mini", "--client", "dev02"])).toEqual({ projectDir: "/p", env: "d1_mini", client: "dev02" });
    expect(hookArgv(["hook", "--client", "dev02", "--env", "e"])).toEqual({ projectDir: process.cwd(), env: "e", client: "dev02" });
    expect(hookArgv(["--project-dir", "/p", "hook", "--env", "e", "--stamp", "/p/.pio/build/e/esp-certs-hook.json"])).toEqual({
      projectDir: "/p",
      env: "e",
      stamp: "/p/.pio/build/e/esp-certs-hook.json",
    });
  });

  it("leaves everything else to commander", () => {
    for (const argv of [
      [],
      ["generate"],
      ["hook"],
      ["hook", "--help"],
      ["hook", "--env"],
      ["hook", "--env", "--client", "x"],
      ["hook", "--env", "a", "--env", "b"],
      ["hook", "--env", "a", "--json"],
      ["hook", "--env", "a", "--stamp"],
      ["hook", "--env", "a", "extra"],
      ["hook", "--env", "a", "--client", "x", "--client", "y"],
      ["hook", "-e", "a"],
      ["--json", "hook", "--env", "a"],
      ["header", "--client", "hook"],
    ]) {
      expect(hookArgv(argv), argv.join(" ")).toBeUndefined();
    }
  });
});
