// One firmware image, many identities: `provision --out` writes a credential record, the
// rehearsal reads it as its flash sector (ESP_CERTS_FLASH), a real mosquitto names the client.
import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { decodeRecord, encodeRecord, encodeSector, SECTOR_SIZE } from "../../src/provision/record.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, type Project, rehearsalTools, runFirmware, startFirmware } from "./rehearsal.js";

const ready = rehearsalTools();

describe.skipIf(!ready)("the credential record on the rehearsal", () => {
  let project: Project;
  let otherCa: Project;
  let broker: Broker;
  let withHeader: string;
  let fleet: string;
  const records: Record<string, string> = {};

  // Each run ends once the lines it is about are there, not after a fixed time a loaded machine may need more than.
  const OUTCOME = /^\[esp-certs\] (tls fail|mqtt (ok|fail))/;
  const BOOT = /^\[esp-certs\] boot /;
  const connections = () => [...broker.log().matchAll(/New client connected from \S+ as (\S+)/g)].map((m) => m[1]);

  function provisionOut(id: string): string {
    const file = path.join(project.dir, `${id}.bin`);
    const r = runCli(["provision", "--client", id, "--out", file], { cwd: project.dir });
    if (r.status !== 0) throw new Error(`provision ${id} failed:\n${r.stdout}${r.stderr}`);
    return file;
  }

  function recordFile(name: string, bytes: Buffer): string {
    const file = path.join(project.dir, `${name}.bin`);
    writeFileSync(file, bytes);
    return file;
  }

  beforeAll(async () => {
    project = generateProject("win10.local", "\n[env:d1_mini]\nboard = d1_mini\n");
    otherCa = generateProject("win10.local");
    broker = await startMosquitto({ tls: { cafile: project.caCert, certfile: project.serverCert, keyfile: project.serverKey } });
    withHeader = buildFirmware(project, broker.port);
    fleet = buildFirmware(project, broker.port, "none");
    records.dev07 = provisionOut("dev07");
    // dev08 with an RSA key: the record carries either type.
    writeFileSync(path.join(project.dir, "platformio.ini"), readFileSync(path.join(project.dir, "platformio.ini"), "utf8").replace("[esp_certs]\n", "[esp_certs]\nclient_key_type = rsa2048\n"));
    records.dev08 = provisionOut("dev08");
    // Two projects, two builds and two provisions on a shared two-core machine.
  }, BUILD_TIMEOUT_MS * 2);

  afterAll(async () => {
    await broker?.stop();
  });

  test("provision --out writes a 0600 sector image whose record names the client", () => {
    const sector = readFileSync(records.dev07);
    // d1_mini (4m1m) has the spare sector: the record there, the EEPROM sector after it erased.
    expect(sector.length).toBe(2 * SECTOR_SIZE);
    expect(sector.subarray(SECTOR_SIZE).every((b) => b === 0xff)).toBe(true);
    expect(decodeRecord(sector)).toMatchObject({ clientId: "dev07", keyType: "ec" });
    expect(decodeRecord(readFileSync(records.dev08))).toMatchObject({ clientId: "dev08", keyType: "rsa" });
    expect(statSync(records.dev07).mode & 0o777).toBe(0o600);
  });

  test("one image built once connects as dev07 with one record, as dev08 (RSA) with another", async () => {
    const a = await runFirmware(fleet, { ESP_CERTS_FLASH: records.dev07 }, OUTCOME);
    expect(a.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^\[esp-certs\] boot client=dev07 host=win10\.local port=\d+ ca=[0-9a-f]{16} cred=flash$/)]));
    expect(a.lines).toContain("[esp-certs] mqtt ok client=dev07");
    const b = await runFirmware(fleet, { ESP_CERTS_FLASH: records.dev08 }, OUTCOME);
    expect(b.lines).toContain("[esp-certs] mqtt ok client=dev08");
    await broker.logged(" as dev07");
    await broker.logged(" as dev08");
    expect(connections()).toEqual(expect.arrayContaining(["dev07", "dev08"]));
  });

  test("a version 1 record, as provision wrote before renewal (in the EEPROM sector), still boots and connects", async () => {
    const r = decodeRecord(readFileSync(records.dev07));
    const header = Buffer.alloc(16);
    header.write("ECR1", 0, "latin1");
    header.writeUInt16LE(1, 4);
    header.writeUInt8(1, 6); // EC
    header.writeUInt8(r.clientId.length, 7);
    header.writeUInt16LE(r.certDer.length, 8);
    header.writeUInt16LE(r.keyDer.length, 10);
    header.writeUInt32LE(r.notBefore, 12);
    const body = Buffer.concat([header, Buffer.from(r.clientId), r.certDer, r.keyDer]);
    const v1 = Buffer.concat([body, createHash("sha256").update(body).digest()]);
    // The spare sector erased, the EEPROM sector holding the record: the one place provision wrote then.
    const image = Buffer.alloc(2 * SECTOR_SIZE, 0xff);
    v1.copy(image, SECTOR_SIZE);
    const device = startFirmware(fleet, { ESP_CERTS_FLASH: recordFile("v1", image) });
    try {
      await device.waitFor(/^\[esp-certs\] mqtt ok client=dev07$/);
      expect(device.lines()).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev07 .* cred=flash$/)]));
      expect(device.lines().some((l) => l.includes("cred fail"))).toBe(false);
    } finally {
      await device.stop();
    }
  });

  test("a record wins over the header's client; without one the header's client connects", async () => {
    const withRecord = await runFirmware(withHeader, { ESP_CERTS_FLASH: records.dev07 }, OUTCOME);
    expect(withRecord.lines).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev07 .* cred=flash$/)]));
    const erased = await runFirmware(withHeader, {}, OUTCOME);
    expect(erased.lines).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client=dev01 .* cred=header$/)]));
    expect(erased.lines).toContain("[esp-certs] mqtt ok client=dev01");
    expect(erased.lines.some((l) => l.includes("cred fail"))).toBe(false);
    // The record is read once into a buffer that is freed: with the same key type and certificate
    // size (dev07 and dev01 are both EC), the heap left at the handshake is the same.
    const heap = (lines: string[]) => /heap=(\d+)/.exec(lines.find((l) => l.includes(" tls ok ")) ?? "")?.[1];
    expect(heap(withRecord.lines)).toBeDefined();
    expect(heap(withRecord.lines)).toBe(heap(erased.lines));
  });

  test("built with no identity and never provisioned, it says so and never dials", async () => {
    const before = connections().length;
    // Once it has said so, two more seconds in which it must not dial.
    let saidAt: number | undefined;
    const run = await runFirmware(fleet, {}, (lines) => {
      if (saidAt === undefined && lines.some((l) => l.startsWith("[esp-certs] cred none "))) saidAt = Date.now();
      return saidAt !== undefined && Date.now() - saidAt >= 2000;
    });
    expect(run.status).toBe(0);
    expect(run.lines).toEqual(expect.arrayContaining([expect.stringMatching(/ boot client= host=win10\.local .* cred=none$/)]));
    expect(run.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^\[esp-certs\] cred none hint="unprovisioned/)]));
    expect(run.lines.some((l) => /wifi|tls|mqtt/.test(l))).toBe(false);
    expect(connections().length).toBe(before);
  });

  describe("a record that cannot be used gives its reason and never a connection with it", () => {
    const good = () => readFileSync(records.dev07);
    const dev07 = () => decodeRecord(good());
    const cases: [string, () => Buffer][] = [
      ["checksum", () => {
        const b = good();
        b[200] ^= 0x01; // one bit inside the certificate
        return b;
      }],
      ["magic", () => Buffer.concat([Buffer.from("XCR1"), good().subarray(4)])],
      ["version", () => {
        const b = good();
        b.writeUInt16LE(3, 4);
        return b;
      }],
      ["issuer", () => {
        const c = (file: string) => readFileSync(path.join(otherCa.dir, "certs", "clients", file));
        return encodeSector({ ...dev07(), clientId: "dev01", certDer: c("dev01.crt.der"), keyDer: c("dev01.key.der") });
      }],
      ["key", () => {
        const r = dev07();
        return encodeRecord({ ...r, keyDer: r.keyDer.subarray(0, r.keyDer.length - 20) });
      }],
      // An id the CLI refuses (it ends in "."), checked before the certificate's CN is.
      ["id", () => encodeSector({ ...dev07(), clientId: "dev07." })],
      // dev07's certificate and key under dev01's id: the broker would see client id dev01 with dev07's certificate.
      ["cn", () => encodeSector({ ...dev07(), clientId: "dev01" })],
      ["mismatch", () => {
        const other = readFileSync(path.join(project.dir, "certs", "clients", "dev01.key.der"));
        return encodeSector({ ...dev07(), keyDer: other });
      }],
    ];

    test.each(cases)("%s", async (reason, make) => {
      const file = recordFile(`bad-${reason}`, make());
      const before = connections().length;
      const run = await runFirmware(fleet, { ESP_CERTS_FLASH: file }, BOOT);
      const failAt = run.lines.indexOf(`[esp-certs] cred fail reason=${reason}`);
      const bootAt = run.lines.findIndex((l) => / boot client= .* cred=none$/.test(l));
      expect(failAt, run.lines.join("\n")).toBeGreaterThanOrEqual(0);
      expect(bootAt).toBeGreaterThan(failAt);
      expect(connections().length).toBe(before);
    });

    test("with an identity in the header, the device falls back to it", async () => {
      const file = recordFile("bad-fallback", Buffer.concat([Buffer.from("XCR1"), good().subarray(4)]));
      const run = await runFirmware(withHeader, { ESP_CERTS_FLASH: file }, OUTCOME);
      expect(run.lines).toContain("[esp-certs] cred fail reason=magic");
      expect(run.lines).toContain("[esp-certs] mqtt ok client=dev01");
    });
  });
});
