// Certificates renewed in the field: `generate --renew` and `push` on one side, the rehearsal
// firmware on the other, through a real mosquitto with per-client access rules.
import { copyFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Broker } from "../helpers/mosquitto.js";
import { buildFirmware, generateProject, type Project, rehearsalTools, runFirmware, startFirmware } from "../firmware/rehearsal.js";
import { cli, mustCli, retained, startBrokerWithRules } from "./field.js";

const ready = rehearsalTools();

describe.skipIf(!ready)("a device takes its renewed certificate over MQTT", () => {
  let project: Project;
  let broker: Broker;
  let fleet: string;
  let dev07Record: string;
  const address = () => `127.0.0.1:${broker.port}`;
  const serialOf = (id: string) => /serial\s+(\S+)/.exec(mustCli(project, ["status"]).split(/^client /m).find((s) => s.startsWith(`${id} `)) ?? "")?.[1];

  beforeAll(async () => {
    project = generateProject("win10.local", "\n[env:d1_mini]\nboard = d1_mini\n");
    broker = await startBrokerWithRules(project);
    fleet = buildFirmware(project, broker.port, "none");
    dev07Record = path.join(project.dir, "dev07.bin");
    mustCli(project, ["provision", "--client", "dev07", "--out", dev07Record]);
  }, 300_000);

  afterAll(async () => {
    await broker?.stop();
    if (project) rmSync(project.dir, { recursive: true, force: true });
  });

  test("it takes the pushed renewal, reconnects with it, and boots with it from flash", async () => {
    const flash = path.join(project.dir, "dev07-flash.bin");
    copyFileSync(dev07Record, flash);
    const before = serialOf("dev07")!;
    const device = startFirmware(fleet, { ESP_CERTS_FLASH: flash });
    try {
      await device.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/);
      mustCli(project, ["generate", "--renew", "dev07"]);
      const renewed = serialOf("dev07")!;
      expect(renewed).not.toBe(before);
      const push = cli(project, ["push", "--client", "dev07", "--broker-address", address()]);
      expect(push.status, push.stdout + push.stderr).toBe(0);
      expect(push.stdout).toMatch(new RegExp(`published\\s+dev07\\s+certificate ${renewed}`));
      const took = await device.waitFor(/ cred renewed /);
      expect(took).toMatch(new RegExp(`^\\[esp-certs\\] cred renewed serial=${renewed.toUpperCase().replace(/^(00)+/, "")} until=\\d+$`, "i"));
      const at = device.lines().indexOf(took);
      // A full handshake with the new certificate: a resumed session would show the old one.
      await device.waitFor(/ tls ok .* resumed=0$/, at);
      await device.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/, at);
      expect(device.lines().filter((l) => / mqtt fail | cred renew fail /.test(l))).toEqual([]);
    } finally {
      await device.stop();
    }
    const state = JSON.parse((await retained(project, broker.port, "dev07/esp-certs/state"))!.toString()) as { serial: string; until: number; cred: string };
    expect(state.serial.toLowerCase()).toBe(serialOf("dev07")!.replace(/^(00)+/, ""));
    expect(state.cred).toBe("flash");

    const reboot = await runFirmware(fleet, { ESP_CERTS_FLASH: flash });
    expect(reboot.lines).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev07 .* cred=flash$/), "[esp-certs] mqtt ok client=dev07"]));
    // The retained certificate is the one in use now: passed over without a line.
    expect(reboot.lines.filter((l) => l.includes(" cred "))).toEqual([]);
  }, 120_000);
});
