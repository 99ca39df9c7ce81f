// esp-certs' own flash layouts (esp-certs.flash.<layout>.ld): the credential record in two sectors
// of its own below the EEPROM sector, from the linker's _ESP_CERTS_CRED_start. The rehearsal built
// with LAYOUT=own maps ESP_CERTS_FLASH there (offset 0: the first sector, 4096: the second) and
// reads ESP_CERTS_EEPROM as the EEPROM sector (read only) and refuses every other address. A real
// mosquitto with the generated access rules.
import { randomBytes, X509Certificate } from "node:crypto";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Broker } from "../helpers/mosquitto.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, type Project, rehearsalTools, startFirmware } from "../firmware/rehearsal.js";
import { decodeRecord, encodeSector, SECTOR_SIZE, type Credential } from "../../src/provision/record.js";
import { clearRetained, cli, cutAtEveryWrite, deviceSerial, type FieldDevice, mustCli, retained, sequences, startBrokerWithRules, storeSerial } from "./field.js";

const ready = rehearsalTools();
const ERASED = Buffer.alloc(SECTOR_SIZE, 0xff);

describe.skipIf(!ready)("the own flash layout: the record's two sectors below the EEPROM sector", () => {
  let project: Project;
  let broker: Broker;
  let fleet: string;
  let dev07: Credential;
  /** dev07 as `provision --out` writes it for the own layout: the record in the first sector, the second erased. */
  let inFirst: string;
  /**
   * A device provisioned on the core's 4m1m layout, then flashed with the own layout: the record
   * in the core's spare sector (0x3FA000), the own layout's second; in its first, what the core
   * layout's filesystem left in its last block.
   */
  let inSecond: string;
  const device = (): FieldDevice => ({ project, broker, image: fleet, id: "dev07" });
  const address = () => `127.0.0.1:${broker.port}`;

  /** The retained state's serial, as the device published it. */
  async function stateSerial(id: string): Promise<string | undefined> {
    const held = await retained(project, broker.port, `${id}/esp-certs/state`);
    return held === undefined || held.length === 0 ? undefined : (JSON.parse(held.toString()) as { serial: string }).serial.toUpperCase();
  }

  /** Polls until the retained state names `serial` (the device publishes it after connecting), or a deadline. */
  async function waitForState(serial: string): Promise<string | undefined> {
    let state: string | undefined;
    for (const end = Date.now() + 60_000; state !== serial && Date.now() < end; await new Promise((r) => setTimeout(r, 200))) state = await stateSerial("dev07");
    return state;
  }

  /** Runs the fleet image with `env` until it is connected and its retained state names `serial` (or a deadline); the stopped run and that state. */
  async function runUntilState(env: Record<string, string>, serial: string) {
    const run = startFirmware(fleet, env);
    try {
      await run.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/);
      // The state it publishes after connecting names the certificate it connected with.
      return { run, state: await waitForState(serial) };
    } finally {
      await run.stop();
    }
  }

  beforeAll(async () => {
    project = generateProject("win10.local", `\n[env:own]\nboard = d1_mini\nboard_build.ldscript = esp-certs.flash.4m1m.ld\n\n[env:core]\nboard = d1_mini\n`);
    broker = await startBrokerWithRules(project);
    fleet = buildFirmware(project, broker.port, "none", undefined, "own");
    inFirst = path.join(project.dir, "dev07-own.bin");
    const out = mustCli(project, ["provision", "--client", "dev07", "--env", "own", "--out", inFirst]);
    expect(out).toContain("write_flash 0x3F9000 ");
    dev07 = decodeRecord(readFileSync(inFirst));
    expect(readFileSync(inFirst).equals(Buffer.concat([encodeSector(dev07), ERASED]))).toBe(true);
    const core = path.join(project.dir, "dev07-core.bin");
    expect(mustCli(project, ["provision", "--client", "dev07", "--env", "core", "--out", core])).toContain("write_flash 0x3FA000 ");
    inSecond = path.join(project.dir, "dev07-moved.bin");
    writeFileSync(inSecond, Buffer.concat([randomBytes(SECTOR_SIZE), readFileSync(core).subarray(0, SECTOR_SIZE)]));
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await broker?.stop();
  });

  test.each([
    ["its first sector", () => inFirst],
    ["its second sector only (a device provisioned on the core's 4m1m layout before)", () => inSecond],
  ])("a record in %s boots cred=flash and connects", async (_where, base) => {
    const flash = path.join(project.dir, `boot-${path.basename(base())}`);
    copyFileSync(base(), flash);
    const run = startFirmware(fleet, { ESP_CERTS_FLASH: flash });
    try {
      await run.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/);
    } finally {
      await run.stop();
    }
    expect(run.lines()).toEqual(expect.arrayContaining([expect.stringMatching(/^\[esp-certs\] boot client=dev07 .* cred=flash$/)]));
    expect(run.lines().filter((l) => / cred (renew )?fail /.test(l))).toEqual([]);
    // Nothing pushed yet: nothing written.
    expect(readFileSync(flash).equals(readFileSync(base()))).toBe(true);
  });

  test("a pushed renewal is stored in the second sector; a restart boots with the new serial", async () => {
    const flash = path.join(project.dir, "dev07-renewal.bin");
    copyFileSync(inFirst, flash);
    const run = startFirmware(fleet, { ESP_CERTS_FLASH: flash });
    let renewed: string;
    try {
      await run.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/);
      mustCli(project, ["generate", "--renew", "dev07"]);
      renewed = storeSerial(project, "dev07");
      const push = cli(project, ["push", "--client", "dev07", "--broker-address", address()]);
      expect(push.status, push.stdout + push.stderr).toBe(0);
      const took = await run.waitFor(/ cred renewed /);
      expect(took).toMatch(new RegExp(`^\\[esp-certs\\] cred renewed serial=${renewed} until=\\d+$`, "i"));
      await run.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/, run.lines().indexOf(took));
    } finally {
      await run.stop();
    }
    expect(run.lines().filter((l) => / cred renew fail /.test(l))).toEqual([]);
    // The first sector as provisioned, the renewal (sequence 1) in the second, the image no longer than the two.
    const bytes = readFileSync(flash);
    expect(bytes.length).toBe(2 * SECTOR_SIZE);
    expect(bytes.subarray(0, SECTOR_SIZE).equals(encodeSector(dev07))).toBe(true);
    expect(sequences(flash)).toEqual([0, 1]);
    const second = decodeRecord(bytes.subarray(SECTOR_SIZE));
    expect(second.certDer.equals(readFileSync(path.join(project.dir, "certs", "clients", "dev07.crt.der")))).toBe(true);
    expect(second.keyDer.equals(dev07.keyDer)).toBe(true);

    const { run: reboot, state } = await runUntilState({ ESP_CERTS_FLASH: flash }, renewed);
    expect(reboot.lines()).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev07 .* cred=flash$/)]));
    expect(state).toBe(renewed);
    // The retained renewal is the one in use now: nothing written again.
    expect(sequences(flash)).toEqual([0, 1]);
  }, 180_000);

  // Each needs the renewal above retained on the broker (the store's current certificate).
  test("a power cut at every erase and write of a renewal into the second sector leaves an identity that connects", async () => {
    await cutAtEveryWrite(device(), inFirst, 0, storeSerial(project, "dev07"), [0, 1]);
  }, 600_000);

  test("and of one into the first sector, by a device whose record is in the second", async () => {
    await cutAtEveryWrite(device(), inSecond, 1, storeSerial(project, "dev07"), [1, 0]);
  }, 600_000);

  test("a device whose identity came from the header stores its renewal too: on an own layout there is always a sector for it", async () => {
    const image = buildFirmware(project, broker.port, "dev01", undefined, "own");
    const flash = path.join(project.dir, "dev01-flash.bin");
    writeFileSync(flash, Buffer.concat([ERASED, ERASED]));
    mustCli(project, ["generate", "--renew", "dev01"]);
    const renewed = storeSerial(project, "dev01");
    mustCli(project, ["push", "--client", "dev01", "--broker-address", address()]);
    const run = startFirmware(image, { ESP_CERTS_FLASH: flash });
    try {
      await run.waitFor(/ boot client=dev01 .* cred=header$/);
      const took = await run.waitFor(/ cred renewed /);
      expect(took).toMatch(new RegExp(`^\\[esp-certs\\] cred renewed serial=${renewed} until=\\d+$`, "i"));
    } finally {
      await run.stop();
    }
    expect(run.lines().filter((l) => / cred renew fail /.test(l))).toEqual([]);
    // The second sector first, as on a core layout with a spare sector; the header's key in it.
    expect(sequences(flash)).toEqual([-1, 1]);
    expect(decodeRecord(readFileSync(flash).subarray(SECTOR_SIZE)).keyDer.equals(readFileSync(path.join(project.dir, "certs", "clients", "dev01.key.der")))).toBe(true);

    const reboot = startFirmware(image, { ESP_CERTS_FLASH: flash });
    try {
      await reboot.waitFor(/^\[esp-certs\] mqtt ok client=dev01$/);
    } finally {
      await reboot.stop();
    }
    expect(reboot.lines()).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev01 .* cred=flash$/)]));
  }, BUILD_TIMEOUT_MS);

  // docs/flash-layout.md, "Moving a provisioned board to esp-certs' layout".
  describe("a board renewed on the core's layout, then moved: its newest record in the EEPROM sector", () => {
    let renewed: string;
    /** The EEPROM sector as the core layout's renewal left it: dev07's renewed certificate, sequence 1. */
    let renewedSector: Buffer;
    let eeprom: string;

    /** Boots from a copy of `inSecond` (the provisioned record, sequence 0, in the second sector) with `eepromFile`. */
    function bootMoved(flash: string, eepromFile: string, extra: Record<string, string> = {}) {
      copyFileSync(inSecond, flash);
      return startFirmware(fleet, { ESP_CERTS_FLASH: flash, ESP_CERTS_EEPROM: eepromFile, ...extra });
    }

    /** The moved board (as bootMoved starts it) until its retained state names `serial`. */
    function bootUntilState(flash: string, eepromFile: string, serial: string) {
      copyFileSync(inSecond, flash);
      return runUntilState({ ESP_CERTS_FLASH: flash, ESP_CERTS_EEPROM: eepromFile }, serial);
    }

    beforeAll(() => {
      // The renewal the broker holds is the one in the EEPROM sector: a device using it writes nothing more.
      mustCli(project, ["generate", "--renew", "dev07"]);
      renewed = storeSerial(project, "dev07");
      mustCli(project, ["push", "--client", "dev07", "--broker-address", address()]);
      const certDer = readFileSync(path.join(project.dir, "certs", "clients", "dev07.crt.der"));
      const notBefore = Math.floor(Date.parse(new X509Certificate(certDer).validFrom) / 1000);
      renewedSector = encodeSector({ ...dev07, certDer, notBefore, sequence: 1 });
      eeprom = path.join(project.dir, "eeprom-renewed.bin");
      writeFileSync(eeprom, renewedSector);
    });

    test("the first boot copies it into the own first sector and connects with the renewed certificate; the next writes nothing", async () => {
      const flash = path.join(project.dir, "moved-copy.bin");
      await clearRetained(project, broker.port, "dev07/esp-certs/state");
      const { run, state } = await bootUntilState(flash, eeprom, renewed);
      expect(run.lines()).toEqual(expect.arrayContaining([expect.stringMatching(/^\[esp-certs\] boot client=dev07 .* cred=flash$/)]));
      expect(run.lines().filter((l) => / cred (renew )?fail | cred renewed /.test(l))).toEqual([]);
      expect(state).toBe(renewed);
      // The first sector (the filesystem's leftovers: no record) holds the EEPROM sector's record, byte for byte.
      const bytes = readFileSync(flash);
      expect(bytes.subarray(0, SECTOR_SIZE).equals(renewedSector)).toBe(true);
      expect(bytes.subarray(SECTOR_SIZE).equals(readFileSync(inSecond).subarray(SECTOR_SIZE))).toBe(true);
      expect(readFileSync(eeprom).equals(renewedSector)).toBe(true);

      // The copy wins over the EEPROM sector's record of the same sequence number: not copied again.
      const again = startFirmware(fleet, { ESP_CERTS_FLASH: flash, ESP_CERTS_EEPROM: eeprom });
      try {
        await again.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/);
      } finally {
        await again.stop();
      }
      expect(again.lines()).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev07 .* cred=flash$/)]));
      expect(readFileSync(flash).equals(bytes)).toBe(true);
      rmSync(flash);
    }, 180_000);

    test.each([
      ["the sketch's EEPROM data", () => Buffer.concat([Buffer.from("\x01\x00config v3 ssid=home"), Buffer.alloc(SECTOR_SIZE - 21, 0)])],
      ["a record cut short (its checksum fails)", () => Buffer.concat([renewedSector.subarray(0, 256), Buffer.alloc(SECTOR_SIZE - 256, 0xff)])],
    ])("with %s in the EEPROM sector, it boots from the second sector with no cred fail line", async (what, content) => {
      // No renewal offered: the identity it connects with is the one it booted.
      await clearRetained(project, broker.port, "dev07/esp-certs/cert");
      await clearRetained(project, broker.port, "dev07/esp-certs/state");
      const flash = path.join(project.dir, "moved-data.bin");
      const data = path.join(project.dir, "eeprom-data.bin");
      writeFileSync(data, content());
      const provisioned = deviceSerial(new X509Certificate(decodeRecord(readFileSync(inSecond).subarray(SECTOR_SIZE)).certDer).serialNumber);
      const { run, state } = await bootUntilState(flash, data, provisioned);
      expect(run.lines()).toEqual(expect.arrayContaining([expect.stringMatching(/^\[esp-certs\] boot client=dev07 .* cred=flash$/)]));
      expect(run.lines().filter((l) => / cred (renew )?fail /.test(l)), what).toEqual([]);
      expect(state).toBe(provisioned);
      expect(readFileSync(flash).equals(readFileSync(inSecond))).toBe(true);
      expect(readFileSync(data).equals(content())).toBe(true);
      rmSync(flash);
      rmSync(data);
    }, 180_000);

    test("a power cut at every erase and write of the copy: every next boot comes up with the renewed certificate and connects", async () => {
      const outcomes: string[] = [];
      for (let cut = 1; cut < 50; cut++) {
        const flash = path.join(project.dir, `moved-cut-${cut}.bin`);
        const first = bootMoved(flash, eeprom, { ESP_CERTS_FLASH_CUT: String(cut) });
        // The copy comes before the boot line: a cut run ends without one.
        const completed = await first.waitFor(/ boot client=dev07 /).then(
          () => true,
          () => false,
        );
        await first.stop();
        expect(readFileSync(flash).subarray(SECTOR_SIZE).equals(readFileSync(inSecond).subarray(SECTOR_SIZE)), `cut ${cut}: the second sector was written`).toBe(true);
        expect(readFileSync(eeprom).equals(renewedSector), `cut ${cut}`).toBe(true);
        await clearRetained(project, broker.port, "dev07/esp-certs/state");
        const { run: next, state } = await runUntilState({ ESP_CERTS_FLASH: flash, ESP_CERTS_EEPROM: eeprom }, renewed);
        expect(next.lines(), `cut ${cut}`).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev07 .* cred=flash$/)]));
        expect(next.lines().filter((l) => / cred (renew )?fail | cred renewed /.test(l)), `cut ${cut}`).toEqual([]);
        expect(state, `cut ${cut}`).toBe(renewed);
        expect(readFileSync(flash).subarray(0, SECTOR_SIZE).equals(renewedSector), `cut ${cut}`).toBe(true);
        outcomes.push(`${cut}:${completed ? "done" : "cut"}`);
        rmSync(flash);
        if (completed) break;
      }
      // One erase and a few page writes, each cut once, then a run that is not cut.
      expect(outcomes.length).toBeGreaterThanOrEqual(3);
      expect(outcomes.at(-1)).toMatch(/done$/);
    }, 900_000);
  });
});
