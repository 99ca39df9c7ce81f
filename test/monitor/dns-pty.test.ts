// The monitor's `dns fail` diagnosis, end to end: the firmware rehearsal as the board, its
// broker name unresolvable, printing into a pty that `esp-certs monitor` reads.
import { beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/mosquitto.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, type Project, rehearsalTools } from "../firmware/rehearsal.js";
import { monitorBoard } from "./pty.js";

const ready = rehearsalTools({ pty: true });

describe.skipIf(!ready)("monitor on a board whose broker name does not resolve", () => {
  let project: Project;

  beforeAll(() => {
    project = generateProject("win10.local");
  });


  it("says the name is the cause, not TLS, with the fixes in order (exit 1)", async () => {
    const firmware = buildFirmware(project, await freePort());
    const r = await monitorBoard(firmware, { cwd: project.dir, hosts: "win10.local=" });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/\[esp-certs\] dns fail host=win10\.local ms=\d+/);
    expect(r.stdout).not.toContain("tls fail");
    expect(r.stdout).toContain("The device cannot resolve win10.local, so it never tried TLS");
    expect(r.stdout).toContain("The certificates are not the problem");
    const fix = r.stdout.slice(r.stdout.indexOf("In this order"));
    const at = ["esp-certs doctor", "Private", "multicast filtering", "mqtt_address"].map((s) => fix.indexOf(s));
    expect(at.every((i) => i >= 0), r.stdout).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  }, BUILD_TIMEOUT_MS);
});
