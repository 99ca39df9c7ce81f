// Certificates renewed in the field: `generate --renew` and `push` on one side, the rehearsal
// firmware on the other, through a real mosquitto with per-client access rules.
import { randomBytes } from "node:crypto";
import { copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Broker } from "../helpers/mosquitto.js";
import { buildFirmware, generateProject, type Project, rehearsalTools, startFirmware } from "../firmware/rehearsal.js";
import { decodeRecord, SECTOR_SIZE } from "../../src/provision/record.js";
import { cli, cutAtEveryWrite, deviceSerial, mustCli, retained, sequences, signedFor, startBrokerWithRules, statusSerial, storeClient, storeSerial } from "./field.js";

const ready = rehearsalTools();
/** Not a certificate: refused with reason=cert (the library keeps its topic from the sketch's handler). */
const MARKER = "not a certificate";

describe.skipIf(!ready)("a device takes its renewed certificate over MQTT", () => {
  let project: Project;
  let broker: Broker;
  let fleet: string;
  let dev07Record: string;
  let otherCa: Project;
  const clientFile = (id: string, ext: string) => path.join(project.dir, "certs", "clients", `${id}.${ext}`);
  const address = () => `127.0.0.1:${broker.port}`;

  beforeAll(async () => {
    project = generateProject("win10.local", "\n[env:d1_mini]\nboard = d1_mini\n");
    broker = await startBrokerWithRules(project);
    fleet = buildFirmware(project, broker.port, "none");
    dev07Record = path.join(project.dir, "dev07.bin");
    mustCli(project, ["provision", "--client", "dev07", "--out", dev07Record]);
    mustCli(project, ["provision", "--client", "dev08", "--out", path.join(project.dir, "dev08.bin")]);
    otherCa = generateProject("win10.local");
  }, 300_000);

  afterAll(async () => {
    await broker?.stop();
  });

  test("it takes the pushed renewal, reconnects with it, and boots with it from flash", async () => {
    const flash = path.join(project.dir, "dev07-flash.bin");
    copyFileSync(dev07Record, flash);
    const before = statusSerial(project, "dev07");
    const device = startFirmware(fleet, { ESP_CERTS_FLASH: flash });
    try {
      await device.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/);
      mustCli(project, ["generate", "--renew", "dev07"]);
      const renewed = statusSerial(project, "dev07");
      expect(renewed).not.toBe(before);
      const mark = broker.mark();
      const push = cli(project, ["push", "--client", "dev07", "--broker-address", address()]);
      expect(push.status, push.stdout + push.stderr).toBe(0);
      expect(push.stdout).toMatch(new RegExp(`published\\s+dev07\\s+certificate ${renewed}`));
      const took = await device.waitFor(/ cred renewed /);
      expect(took).toMatch(new RegExp(`^\\[esp-certs\\] cred renewed serial=${deviceSerial(renewed)} until=\\d+$`, "i"));
      const at = device.lines().indexOf(took);
      // A full handshake with the new certificate: a resumed session would show the old one.
      await device.waitFor(/ tls ok .* resumed=0$/, at);
      await device.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/, at);
      // The device publishes its state after it prints "mqtt ok": the run may end once the broker has it.
      const reconnect = broker.log(mark).lastIndexOf(" as dev07 ");
      expect(reconnect, broker.log(mark)).toBeGreaterThanOrEqual(0);
      await broker.logged("Received PUBLISH from dev07 (d0, q0, r1, m0, 'dev07/esp-certs/state'", undefined, mark + reconnect);
      expect(device.lines().filter((l) => / mqtt fail | cred renew fail /.test(l))).toEqual([]);
    } finally {
      await device.stop();
    }
    const state = JSON.parse((await retained(project, broker.port, "dev07/esp-certs/state"))!.toString()) as { serial: string; until: number; cred: string };
    expect(state.serial.toUpperCase()).toBe(storeSerial(project, "dev07"));
    expect(state.cred).toBe("flash");

    const mark = broker.mark();
    const reboot = startFirmware(fleet, { ESP_CERTS_FLASH: flash });
    let lines: string[];
    try {
      await reboot.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/, 0, 60_000);
      await broker.logged("Sending SUBACK to dev07", undefined, mark);
      // A marker the device does print, which it reads after the retained certificate.
      const app = await storeClient(project, broker.port, "esp-certs");
      await app.publishAsync("dev07/esp-certs/cert", MARKER, { qos: 1 });
      await app.endAsync(true);
      await reboot.waitFor(/ cred renew fail /, 0, 60_000);
      lines = reboot.lines();
    } finally {
      await reboot.stop();
    }
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev07 .* cred=flash$/), "[esp-certs] mqtt ok client=dev07"]));
    // The retained certificate is the one in use now: passed over without a line, and kept from
    // the sketch's message handler (the example prints every message it gets).
    expect(lines.filter((l) => l.includes(" cred ") || l.includes("esp-certs/cert"))).toEqual(["[esp-certs] cred renew fail reason=cert"]);

    const live = cli(project, ["status", "--live", "--broker-address", address()]);
    expect(live.status, live.stderr).toBe(0);
    expect(live.stdout).toContain("dev07: holds the store's current certificate");
    const json = JSON.parse(cli(project, ["status", "--live", "--json", "--broker-address", address()]).stdout) as { devices: { id: string; kind: string }[] };
    expect(json.devices).toEqual(expect.arrayContaining([{ id: "dev07", kind: "current", state: expect.objectContaining({ cred: "flash" }) }, { id: "dev08", kind: "no-state" }]));
  }, 120_000);

  describe("anything but its own newer certificate is refused with a reason, and it stays connected", () => {
    const dev07Key = () => clientFile("dev07", "key.pem");
    const DAY = 24 * 60 * 60 * 1000;
    const cases: [string, string, () => Promise<Buffer>][] = [
      ["another device's certificate", "id", async () => readFileSync(clientFile("dev08", "crt.der"))],
      ["a certificate of another CA", "issuer", () => signedFor(project, { cn: "dev07", keyPem: dev07Key(), ca: otherCa })],
      ["one for another key", "key", () => signedFor(project, { cn: "dev07", keyPem: path.join(otherCa.dir, "certs", "clients", "dev01.key.pem") })],
      ["an older one", "older", () => signedFor(project, { cn: "dev07", keyPem: dev07Key(), days: 400 })],
      ["an expired one", "expired", () => signedFor(project, { cn: "dev07", keyPem: dev07Key(), issuedAt: new Date(Date.now() - 900 * DAY), days: 825 })],
      ["a truncated one", "cert", async () => readFileSync(clientFile("dev07", "crt.der")).subarray(0, 300)],
      ["an oversized payload", "size", async () => randomBytes(1900)],
      ["random bytes", "cert", async () => randomBytes(500)],
    ];

    test("each case, one connection", async () => {
      const flash = path.join(project.dir, "dev07-refusals.bin");
      // The record and the broker's retained message hold the store's current certificate: nothing to take.
      mustCli(project, ["provision", "--client", "dev07", "--out", flash]);
      mustCli(project, ["push", "--client", "dev07", "--broker-address", address()]);
      const mark = broker.mark();
      const device = startFirmware(fleet, { ESP_CERTS_FLASH: flash, ESP_CERTS_RUN_SECONDS: "300" });
      const app = await storeClient(project, broker.port, "esp-certs");
      try {
        await device.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/);
        // It subscribes after printing "mqtt ok": a message sent before the broker took that would reach nobody.
        await broker.logged("Sending SUBACK to dev07", undefined, mark);
        const flashBefore = readFileSync(flash);
        for (const [what, reason, make] of cases) {
          const from = device.lines().length;
          // Not retained: a retained one would come back at every later connect of this run.
          await app.publishAsync("dev07/esp-certs/cert", await make(), { qos: 1 });
          const line = await device.waitFor(/ cred renew fail /, from);
          expect(line, what).toBe(`[esp-certs] cred renew fail reason=${reason}`);
        }
        // Larger than PubSubClient's buffer: dropped by the library itself, unseen, the connection kept.
        const from = device.lines().length;
        await app.publishAsync("dev07/esp-certs/cert", randomBytes(4000), { qos: 1 });
        // The marker: a refusal the device prints, read after the dropped one.
        await app.publishAsync("dev07/esp-certs/cert", MARKER, { qos: 1 });
        await device.waitFor(/ cred renew fail /, from);
        expect(device.lines().slice(from)).toEqual(["[esp-certs] cred renew fail reason=cert"]);
        expect(device.lines().filter((l) => / mqtt fail /.test(l))).toEqual([]);
        expect(device.lines().filter((l) => / boot /.test(l)).length).toBe(1);
        expect(readFileSync(flash).equals(flashBefore)).toBe(true);
      } finally {
        await app.endAsync(true);
        await device.stop();
      }
    }, 120_000);
  });

  test("a device cannot publish into another device's certificate topic (access rules)", async () => {
    const before = await retained(project, broker.port, "dev07/esp-certs/cert");
    const dev08 = await storeClient(project, broker.port, "dev08");
    try {
      // MQTT 5: the broker answers a publish it may not accept with "not authorized" (0x87).
      await expect(dev08.publishAsync("dev07/esp-certs/cert", randomBytes(300), { qos: 1, retain: true })).rejects.toThrow(/authori/i);
    } finally {
      await dev08.endAsync(true);
    }
    expect(await retained(project, broker.port, "dev07/esp-certs/cert")).toEqual(before);
  });

  const dev07 = () => ({ project, broker, image: fleet, id: "dev07" });
  /** The sequence numbers of the records in a core layout's image (-1: none sound): the spare sector's, the EEPROM sector's. */
  const spareAndEeprom = (file: string) => {
    const [spare, eeprom] = sequences(file);
    return { spare, eeprom };
  };

  test("a power cut at every erase and write of a renewal leaves an identity that connects, the old or the new", async () => {
    // Provisioned: the record in the spare sector; the renewal goes to the EEPROM sector.
    expect(spareAndEeprom(dev07Record)).toEqual({ spare: 0, eeprom: -1 });
    // The image's sectors in address order: the spare one at offset 0, the EEPROM sector at 4096.
    await cutAtEveryWrite(dev07(), dev07Record, 0, storeSerial(project, "dev07"), [0, 1]);
    expect(statSync(dev07Record).size).toBeGreaterThan(0);
  }, 300_000);

  test("the other direction: a second renewal, written into the spare sector while the first is in use in the EEPROM sector", async () => {
    // The first renewal, taken whole: the EEPROM sector holds it now, the spare sector the provisioned record.
    const afterFirst = path.join(project.dir, "dev07-first-renewal.bin");
    copyFileSync(dev07Record, afterFirst);
    const first = startFirmware(fleet, { ESP_CERTS_FLASH: afterFirst });
    try {
      await first.waitFor(/^\[esp-certs\] cred renewed /, 0, 60_000);
      await first.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/, first.lines().findIndex((l) => l.startsWith("[esp-certs] cred renewed ")), 60_000);
    } finally {
      await first.stop();
    }
    expect(first.lines().filter((l) => l.startsWith("[esp-certs] cred renewed ")).length).toBe(1);
    expect(spareAndEeprom(afterFirst)).toEqual({ spare: 0, eeprom: 1 });

    mustCli(project, ["generate", "--renew", "dev07"]);
    const second = statusSerial(project, "dev07");
    mustCli(project, ["push", "--client", "dev07", "--broker-address", address()]);
    // Taken whole, the second renewal is in the spare sector, above the first.
    await cutAtEveryWrite(dev07(), afterFirst, 1, deviceSerial(second), [2, 1]);
  }, 300_000);

  test("a device whose identity came from the header takes a renewal too: its record then holds the header's key", async () => {
    const image = buildFirmware(project, broker.port, "dev01");
    const flash = path.join(project.dir, "dev01-flash.bin");
    writeFileSync(flash, Buffer.alloc(2 * SECTOR_SIZE, 0xff));
    mustCli(project, ["generate", "--renew", "dev01"]);
    const renewed = storeSerial(project, "dev01");
    mustCli(project, ["push", "--client", "dev01", "--broker-address", address()]);
    const first = startFirmware(image, { ESP_CERTS_FLASH: flash });
    try {
      await first.waitFor(/ boot client=dev01 .* cred=header$/);
      const took = await first.waitFor(/ cred renewed /);
      expect(took).toMatch(new RegExp(`^\\[esp-certs\\] cred renewed serial=${renewed} until=\\d+$`, "i"));
      await first.waitFor(/^\[esp-certs\] mqtt ok client=dev01$/, first.lines().indexOf(took));
    } finally {
      await first.stop();
    }
    const records = [0, 1].flatMap((i) => {
      try {
        return [decodeRecord(readFileSync(flash).subarray(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE))];
      } catch {
        return [];
      }
    });
    expect(records.map((r) => [r.clientId, r.keyDer.equals(readFileSync(clientFile("dev01", "key.der")))])).toEqual([["dev01", true]]);
    expect(records[0].certDer.equals(readFileSync(clientFile("dev01", "crt.der")))).toBe(true);

    const reboot = startFirmware(image, { ESP_CERTS_FLASH: flash });
    try {
      await reboot.waitFor(/ boot client=dev01 .* cred=flash$/);
      await reboot.waitFor(/^\[esp-certs\] mqtt ok client=dev01$/);
    } finally {
      await reboot.stop();
    }
  }, 300_000);
});
