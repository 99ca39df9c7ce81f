// How revoke reaches the broker to reload it: the pid file of a local mosquitto (checked to be
// mosquitto still), or the Docker container by name; else the one command to run.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defaultReloadDeps, reloadBroker, type ReloadDeps } from "../../src/broker/reload.js";
import { requirePosix } from "../helpers/tools.js";
import { removeTmpDir, tmpDir } from "../helpers/tmp.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeTmpDir));
const folder = (pid?: string) => {
  const dir = tmpDir("esp-certs-reload-");
  dirs.push(dir);
  if (pid !== undefined) writeFileSync(path.join(dir, "mosquitto.pid"), pid);
  return dir;
};
const deps = (over: Partial<ReloadDeps> & { sent?: [number, string | number][] }): ReloadDeps => ({
  platform: "linux",
  kill: (pid, signal) => over.sent?.push([pid, signal]),
  programOf: () => "mosquitto",
  docker: () => undefined,
  ...over,
});

describe("reloading a local broker", () => {
  it("sends SIGHUP to the pid in mosquitto.pid when that process is mosquitto", () => {
    const sent: [number, string | number][] = [];
    expect(reloadBroker(folder("4242\n"), "local", deps({ sent }))).toEqual({ state: "reloaded", how: "SIGHUP to mosquitto (pid 4242)" });
    expect(sent).toEqual([[4242, 0], [4242, "SIGHUP"]]);
  });

  it("never signals another program that reuses a stale pid, nor a process that is gone", () => {
    const sent: [number, string | number][] = [];
    expect(reloadBroker(folder("4242"), "local", deps({ sent, programOf: () => "bash" })).state).toBe("not-running");
    expect(sent).toEqual([[4242, 0]]);
    const gone = reloadBroker(folder("4242"), "local", deps({ kill: () => { throw new Error("ESRCH"); } }));
    expect(gone).toMatchObject({ state: "not-running", why: expect.stringContaining("4242") });
  });

  it("prints the command when there is no pid file, and on Windows, whose mosquitto has no reload", () => {
    expect(reloadBroker(folder(), "local", deps({}))).toMatchObject({ state: "not-found", command: "kill -HUP <the pid of mosquitto>" });
    expect(reloadBroker(folder("1"), "local", deps({ platform: "win32" }))).toMatchObject({ state: "not-found", command: expect.stringContaining("net stop mosquitto") });
  });
});

describe.skipIf(!requirePosix("a fake docker script on PATH"))("reloading the Docker container", () => {
  const withDocker = (script: string) => {
    const bin = folder();
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, "docker"), `#!/bin/sh\necho "$@" >> "${bin}/calls"\n${script}\n`);
    chmodSync(path.join(bin, "docker"), 0o755);
    const before = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${before}`;
    try {
      return { outcome: reloadBroker(folder(), "docker", defaultReloadDeps), calls: () => readFileSync(path.join(bin, "calls"), "utf8") };
    } finally {
      process.env.PATH = before;
    }
  };

  it("runs docker kill --signal=HUP mosquitto when the container runs", () => {
    const r = withDocker('[ "$1" = inspect ] && echo true; exit 0');
    expect(r.outcome).toEqual({ state: "reloaded", how: "docker kill --signal=HUP mosquitto" });
    expect(r.calls()).toBe("inspect --format {{.State.Running}} mosquitto\nkill --signal=HUP mosquitto\n");
  });

  it("says the container is stopped, or missing (with the command), without signalling", () => {
    expect(withDocker('echo false').outcome.state).toBe("not-running");
    const missing = withDocker('echo "Error: No such object: mosquitto" >&2; exit 1');
    expect(missing.outcome).toMatchObject({ state: "not-found", command: "docker kill --signal=HUP mosquitto" });
    expect(missing.calls()).not.toContain("kill");
  });

  it("prints the command when docker is not on PATH", () => {
    const before = process.env.PATH;
    process.env.PATH = folder();
    try {
      expect(reloadBroker(folder(), "docker", defaultReloadDeps)).toMatchObject({ state: "not-found", why: "docker is not on PATH here", command: "docker kill --signal=HUP mosquitto" });
    } finally {
      process.env.PATH = before;
    }
  });
});
