// The device-free rehearsal (docs/rehearsal.md) as the board: the firmware built for this machine
// prints into one end of a pty pair, `esp-certs monitor` reads the other, real mosquitto
// is the broker. A working broker must be verified; one whose certificate lacks the host
// must be diagnosed as BearSSL's 56, with the command that fixes it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, type Project, rehearsalTools, reissuedFor } from "../firmware/rehearsal.js";
import { monitorBoard } from "./pty.js";

const ready = rehearsalTools({ pty: true });

describe.skipIf(!ready)("monitor reads the firmware rehearsal through a pty", () => {
  let project: Project;
  const brokers: Broker[] = [];

  beforeAll(() => {
    project = generateProject("win10.local");
  });

  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
  });

  /** Builds the firmware for `broker`, runs it as the board on a pty, and monitors it. */
  const monitorRehearsal = (broker: Broker) => monitorBoard(buildFirmware(project, broker.port), { cwd: project.dir, hosts: "win10.local=127.0.0.1" });

  it("verifies the board against a broker with this project's certificates (exit 0)", async () => {
    const broker = await startMosquitto({ tls: { cafile: project.caCert, certfile: project.serverCert, keyfile: project.serverKey } });
    brokers.push(broker);
    const r = await monitorRehearsal(broker);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`verified: dev01 connected to win10.local:${broker.port}`);
    // A board that has just restarted has no session to resume.
    expect(r.stdout).toMatch(/\(full handshake \d+ ms, \d+ bytes free heap\)/);
  }, BUILD_TIMEOUT_MS);

  it("diagnoses a broker certificate without the host as BearSSL 56 (exit 1), and names the fix", async () => {
    // Same CA, but the broker runs a certificate that names other.local only, while this
    // project's store has one naming win10.local: the broker runs another certificate.
    const other = reissuedFor(project, "other.local");
    const broker = await startMosquitto({ tls: { cafile: other.caCert, certfile: other.serverCert, keyfile: other.serverKey } });
    brokers.push(broker);
    const r = await monitorRehearsal(broker);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain("[esp-certs] tls fail code=56");
    expect(r.stdout).toContain("The broker's certificate does not name win10.local");
    expect(r.stdout).toContain("does name win10.local, so Mosquitto presents another one");
    expect(r.stdout).toMatch(/Run `esp-certs broker` \(it copies \S*server\.crt\.pem into the broker folder's certs\/\) and restart Mosquitto/);
  }, BUILD_TIMEOUT_MS);
});
