import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";
import { project } from "../helpers/project.js";

// docs/commands.md: "Global flags: --project-dir DIR, --json where a command reports something."
// A global flag goes before the command as well as after it.


describe("global flags", () => {
  it("--json before the command is the command's --json", () => {
    const dir = project({ env: true });
    const gen = runCli(["--json", "generate"], { cwd: dir });
    expect(gen.status, gen.stderr).toBe(0);
    expect(JSON.parse(gen.stdout)).toHaveProperty("actions");

    const before = runCli(["--json", "status"], { cwd: dir });
    expect(before.status, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual(JSON.parse(runCli(["status", "--json"], { cwd: dir }).stdout));

    const elsewhere = tmpProject();
    const doctor = runCli(["--json", "--project-dir", dir, "doctor"], { cwd: elsewhere });
    expect(JSON.parse(doctor.stdout)).toHaveProperty("checks");
  });

  it("header --json reports what it wrote, and that nothing changed the second time", () => {
    const dir = project({ env: true });
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    const out = path.join(dir, "other.h");
    const first = runCli(["--json", "header", "--client", "dev02", "--out", out], { cwd: dir });
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ path: out, client: "dev02", host: "win10.local", port: 8883, changed: true });
    const again = runCli(["header", "--client", "dev02", "--out", out, "--json"], { cwd: dir });
    expect(JSON.parse(again.stdout)).toMatchObject({ path: out, changed: false });
  });

  it("--json with a command that reports nothing is refused (exit 2), and nothing is written", () => {
    const dir = project({ env: true });
    const r = runCli(["--json", "hook", "--env", "d1_mini"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/esp-certs: Cannot use --json with "hook"/);
    expect(JSON.parse(r.stdout).error.what).toBe('Cannot use --json with "hook"');
    expect(existsSync(path.join(dir, "certs"))).toBe(false);
    expect(readdirSync(dir)).toEqual(["platformio.ini"]);
  });

  // Regression: with --json an error was plain text on stderr and stdout was empty, so a script
  // parsing stdout failed on "Unexpected end of JSON input".
  it.each([
    [["--json", "generate", "--host", "192.168.1.5"], "Cannot use the IP address 192.168.1.5 as mqtt_host"],
    [["status", "--json", "--project-dir", "does-not-exist"], "Cannot open project"],
    [["nodered", "--client", "nobody", "--json"], 'Cannot use client "nobody"'],
    [["doctor", "--json", "--broker-address", "a:b:c"], "Cannot use --broker-address"],
    [["--json", "generate", "--no-such-flag"], "Cannot read the command line"],
  ])("an error with --json is a JSON object on stdout, exit code unchanged: %j", (args, what) => {
    const r = runCli(args, { cwd: project({ env: true }) });
    expect(r.status).toBe(2);
    const { error } = JSON.parse(r.stdout);
    expect(error.what).toContain(what);
    expect(error).toMatchObject({ exitCode: 2, why: expect.any(String), fix: expect.any(String) });
  });

  it("a refused command line points to the help of its command, and its JSON why is one line", () => {
    const dir = project();
    const option = runCli(["provision", "--out", "dev08.bin"], { cwd: dir });
    expect(option.status).toBe(2);
    expect(option.stderr).toContain('(run "esp-certs provision --help" for usage)');
    const typo = runCli(["--json", "stauts"], { cwd: dir });
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('(run "esp-certs --help" for usage)');
    expect(JSON.parse(typo.stdout).error).toMatchObject({ why: "unknown command 'stauts' (Did you mean status?)", fix: 'Run "esp-certs --help" for usage.' });
    const flag = JSON.parse(runCli(["status", "--jsn", "--json"], { cwd: dir }).stdout).error;
    expect(flag).toMatchObject({ why: "unknown option '--jsn' (Did you mean --json?)", fix: 'Run "esp-certs status --help" for usage.' });
    expect(readdirSync(dir)).toEqual(["platformio.ini"]);
  });
});
