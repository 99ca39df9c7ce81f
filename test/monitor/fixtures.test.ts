// Recorded device output, played through a pty pair into the built CLI as a board would
// send it: each log ends in the exit code and diagnosis it must produce.
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";
import { projectIni } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";
import { CASES, fixtureBytes, type Case } from "./cases.js";
import { monitorPlaying, ptyPair } from "./pty.js";

const hasSocat = requireTool("socat", "socat");

describe.skipIf(!hasSocat)("monitor reads recorded boards through a pty", () => {
  let project: string;
  let caId: string;

  beforeAll(() => {
    project = tmpProject();
    writeFileSync(path.join(project, "platformio.ini"), "[esp_certs]\nmqtt_host = win10.local\n\n[env:d1_mini]\nplatform = espressif8266\nboard = d1_mini\nframework = arduino\n");
    // The store's broker certificate names other.local, not the win10.local the boards dial:
    // the recorded 56 is then the certificate's fault (the case where the broker runs another
    // certificate is the last test).
    const gen = runCli(["generate", "--host", "other.local"], { cwd: project });
    expect(gen.status, gen.stderr).toBe(0);
    caId = createHash("sha256").update(readFileSync(path.join(project, "certs", "ca.crt.der"))).digest("hex").slice(0, 16);
  });

  const play = async (c: Case, json: boolean) => {
    const data = fixtureBytes(c.log, caId);
    const pty = await ptyPair();
    try {
      return await monitorPlaying(pty, data, [...(c.args ?? ["--timeout", "10"]), ...(json ? ["--json"] : [])], project);
    } finally {
      await pty.stop();
    }
  };

  for (const c of CASES) {
    it(`${c.log}: exit ${c.exit}, ${c.diagnosis}`, async () => {
      const r = await play(c, false);
      expect(r.status, r.stdout + r.stderr).toBe(c.exit);
      for (const words of c.says) expect(r.stdout).toContain(words);
    });
  }

  it("prints one JSON verdict and nothing else on stdout with --json", async () => {
    const r = await play(CASES.find((c) => c.log === "tls-56-bad-server-name.log")!, true);
    expect(r.status).toBe(1);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({ result: "failed", exitCode: 1, diagnosis: "tls-56", expected: { host: "win10.local", port: 8883, ca: caId } });
    expect(v.fix).toContain("esp-certs generate --host win10.local");
  });

  it("56 while this store's broker certificate names the host: says the broker runs another certificate", async () => {
    const named = tmpProject();
    try {
      writeFileSync(path.join(named, "platformio.ini"), projectIni());
      expect(runCli(["generate"], { cwd: named }).status).toBe(0);
      const caOf = createHash("sha256").update(readFileSync(path.join(named, "certs", "ca.crt.der"))).digest("hex").slice(0, 16);
      const pty = await ptyPair();
      try {
        const r = await monitorPlaying(pty, fixtureBytes("tls-56-bad-server-name.log", caOf), ["--timeout", "10"], named);
        expect(r.status).toBe(1);
        expect(r.stdout).toMatch(/server\.crt\.pem\) does name win10\.local, so Mosquitto presents another one/);
        expect(r.stdout).toMatch(/Run `esp-certs broker` \(it copies \S*server\.crt\.pem into the broker folder's certs\/\) and restart Mosquitto/);
        expect(r.stdout).not.toContain("esp-certs generate --host");
      } finally {
        await pty.stop();
      }
    } finally {
      rmSync(named, { recursive: true, force: true });
    }
  });

  it("says once that a pty cannot restart the board, and goes on", async () => {
    const r = await play(CASES[0], false);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/cannot restart the board through DTR\/RTS/g)).toHaveLength(1);
    expect(r.stderr).toContain("Inappropriate ioctl");
  });

  // Issue 11, items 10 and 11: line ends of any kind, and noise without a line end before a session.
  const crOnly = (data: Buffer) => Buffer.from(data.toString("latin1").replace(/\r?\n/g, "\r"), "latin1");
  for (const log of ["verified.log", "tls-62-broker-other-ca.log", "ca-mismatch.log"]) {
    const c = CASES.find((k) => k.log === log)!;
    it(`${log} with CR-only line ends: exit ${c.exit}, ${c.diagnosis}`, async () => {
      const r = await playBytes(crOnly(fixtureBytes(log, caId)), ["--timeout", "10", "--json"]);
      expect(r.status, r.stdout + r.stderr).toBe(c.exit);
      expect(JSON.parse(r.stdout).diagnosis).toBe(c.diagnosis);
    });
  }
  for (const noise of [1000, 2000, 3000]) {
    it(`a correct session after ${noise} bytes of noise without a line end: verified`, async () => {
      const session = fixtureBytes("verified.log", caId);
      const boot = session.indexOf("[esp-certs] boot");
      const r = await playBytes(Buffer.concat([Buffer.alloc(noise, 0xf8), session.subarray(boot)]), ["--timeout", "10", "--json"]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).diagnosis).toBe("verified");
    });
  }

  async function playBytes(data: Buffer, args: string[]) {
    const pty = await ptyPair();
    try {
      return await monitorPlaying(pty, data, args, project);
    } finally {
      await pty.stop();
    }
  }
});
