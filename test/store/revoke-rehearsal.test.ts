// The rehearsal firmware (firmware/host: the sketch's sources, real BearSSL) as a board whose
// client certificate was revoked: the broker's alert reaches it as 256 + 44, and `esp-certs
// monitor`, reading it through a pty, says the certificate was revoked and what to run next.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { buildFirmware, generateProject, rehearsalTools } from "../firmware/rehearsal.js";
import { monitorBoard } from "../monitor/pty.js";

const ready = rehearsalTools({ pty: true });

describe.skipIf(!ready)("a revoked board, rehearsed", () => {
  const brokers: Broker[] = [];
  let dir: string | undefined;
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
  });

  it("is refused by the broker with certificate_revoked, and the monitor says revoked, or not trusted, then esp-certs status", async () => {
    const project = generateProject("win10.local");
    dir = project.dir;
    expect(runCli(["broker", "--paths", "local"], { cwd: dir }).status).toBe(0);
    const conf = () => readFileSync(path.join(dir!, "broker", "mosquitto.conf"), "utf8");
    const first = await startMosquitto({ config: conf() });
    brokers.push(first);
    // The board is flashed with dev01's certificate before it is lost.
    const firmware = buildFirmware(project, first.port);
    const revoke = runCli(["revoke", "dev01"], { cwd: dir });
    expect(revoke.status, revoke.stderr).toBe(0);
    await first.stop();
    const broker = await startMosquitto({ config: conf(), port: first.port });
    brokers.push(broker);

    const r = await monitorBoard(firmware, { cwd: dir, hosts: "win10.local=127.0.0.1" });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("[esp-certs] tls fail code=300");
    expect(r.stdout).toContain("revoked, or not trusted");
    expect(r.stdout).toContain("esp-certs status");
  }, 240_000); // the firmware build and the handshake are slow on a busy 2-core machine
});
