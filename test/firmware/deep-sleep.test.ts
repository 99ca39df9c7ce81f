import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { freePort, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { tmpDir } from "../helpers/tmp.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, headerDefine, type Project, rehearsalTools, runFirmware } from "./rehearsal.js";

// Battery sensors (docs/deep-sleep.md): the library's deep-sleep example on the rehearsal, each
// run one wake, ESP_CERTS_RTC the RTC memory deep sleep keeps, against a real mosquitto.
const ready = rehearsalTools();

const SKETCH = path.join(repoRoot, "firmware", "lib", "esp-certs", "examples", "deep-sleep-sensor");
const TLS_OK = /^\[esp-certs\] tls ok .* resumed=([01])$/;
const SLEEP = /^\[esp-certs\] sleep ms=(\d+) us=(\d+)$/;
// Where the image sits in the RTC file (the file is the 512 bytes of user RTC memory), and the
// offsets docs/deep-sleep.md gives.
const IMAGE = 128;
const AGE = 44;
const CHECKSUM = 141;

interface Wake {
  lines: string[];
  /** More than one TCP connection reached the broker: the record-size probe ran (and the library's check before it). */
  probed: boolean;
  resumed?: string;
  timeSource?: string;
  rtc?: string;
  awakeMs: number;
  /** The broker's log of the wake. */
  log: string;
}

describe.skipIf(!ready)("deep-sleep wakes against mosquitto", () => {
  let project: Project;
  let other: Project;
  let port: number;
  let firmware: string;
  let otherClient: string;
  let otherCa: string;
  let broker: Broker | undefined;
  let brokerOf: Project | undefined;
  let floor: number;

  /**
   * Each TCP connection the broker accepts leaves one of these in its log: "New connection from"
   * once its TLS handshake is done, "Client connection from ... failed" when it ends before.
   */
  const CONNECTION = /New connection from|Client connection from .* failed/;
  /** The broker log's line where this broker's wakes start: after the helper's own check that it listens. */
  let firstLine = 0;

  /** The broker of `of` (default the project) on the port the firmware dials, in place of the last one. */
  async function startBroker(of: Project = project): Promise<void> {
    if (broker !== undefined) await broker.stop();
    brokerOf = of;
    broker = await startMosquitto({ tls: { cafile: of.caCert, certfile: of.serverCert, keyfile: of.serverKey }, port });
    const checked = () => broker!.log().split("\n").findIndex((l) => CONNECTION.test(l));
    firstLine = (await logged(checked, "the helper's own connection")) + 1;
  }

  /** Waits (generously: mosquitto writes its log when it gets to it) until `where` finds a line of the broker's log, and returns where. */
  async function logged(where: () => number, what: string): Promise<number> {
    for (const end = Date.now() + 30_000; where() === -1; await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > end) throw new Error(`mosquitto did not log ${what} within 30 s:\n${broker!.log()}`);
    }
    return where();
  }

  /** One wake: the rehearsal runs until the sketch sleeps (its run ends there). */
  async function wake(binary: string, rtc: string, env: Record<string, string> = {}): Promise<Wake> {
    // The broker's log of this wake: from the device's disconnect of the wake before (each wake
    // ends with one) to its own, which mosquitto may write a little after the wake has ended.
    const ends = () => broker!.log().split("\n").flatMap((l, i) => (/Client dev0\d disconnected\./.test(l) ? [i] : []));
    const endsBefore = ends().length;
    const run = await runFirmware(binary, { ESP_CERTS_RTC: rtc, ESP_CERTS_RUN_SECONDS: "60", ...env });
    await logged(() => (ends().length > endsBefore ? 0 : -1), "the wake's disconnect");
    const e = ends();
    const log = broker!.log().split("\n").slice(endsBefore > 0 ? e[endsBefore - 1] + 1 : firstLine, e[endsBefore]).join("\n");
    const lines = run.lines.filter((l) => l.startsWith("[esp-certs] "));
    const sleep = lines.map((l) => SLEEP.exec(l)).find((m) => m !== null);
    if (run.status !== 0 || sleep === undefined) throw new Error(`the wake did not end in deep sleep (status ${run.status}):\n${run.lines.join("\n")}`);
    const field = (re: RegExp) => lines.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined);
    return {
      lines,
      probed: log.split("\n").filter((l) => CONNECTION.test(l)).length > 1,
      log,
      resumed: field(TLS_OK),
      timeSource: field(/^\[esp-certs\] time ok .* source=(\w+)$/),
      rtc: field(/^\[esp-certs\] (rtc (?:ok|fail reason=\w+))/),
      awakeMs: Number(sleep[1]),
    };
  }

  /** The RTC file after a first wake of `binary`: a valid image. */
  async function keptBy(binary: string): Promise<string> {
    const rtc = path.join(tmpDir("esp-certs-rtc-"), "rtc.bin");
    const first = await wake(binary, rtc);
    expect(first.rtc).toBeUndefined(); // a power-on reads nothing
    return rtc;
  }

  beforeAll(async () => {
    project = generateProject("win10.local", "clients = dev01, dev02\n");
    port = await freePort();
    firmware = buildFirmware(project, port, undefined, SKETCH);
    otherClient = buildFirmware(project, port, "dev02", SKETCH);
    other = generateProject("win10.local");
    otherCa = buildFirmware(other, port, undefined, SKETCH);
    floor = Number(headerDefine(project.header, "ESP_CERTS_GENERATED_AT"));
    await startBroker();
  }, BUILD_TIMEOUT_MS * 3);

  // A test that swapped the broker puts the project's back.
  afterEach(async () => {
    if (brokerOf !== project) await startBroker();
  });

  afterAll(async () => {
    await broker?.stop();
  });

  test("three wakes: the first goes the long way, the next two resume with no probe and no NTP wait", async () => {
    const rtc = path.join(tmpDir("esp-certs-rtc-"), "rtc.bin");
    const first = await wake(firmware, rtc);
    expect(first).toMatchObject({ resumed: "0", timeSource: "ntp", probed: true, rtc: undefined });
    // NTP never answers in the next wakes (the clock starts below the floor): a wake that asked
    // would wait 5 s for it and then say source=floor.
    for (const n of [2, 3]) {
      const next = await wake(firmware, rtc, { ESP_CERTS_CLOCK: String(floor - 86400) });
      expect(next, `wake ${n}:\n${next.lines.join("\n")}`).toMatchObject({ resumed: "1", timeSource: "rtc", probed: false, rtc: "rtc ok" });
      expect(next.lines.some((l) => /^\[esp-certs\] rtc ok age=\d+ ip=127\.0\.0\.1 mfln=512 session=1$/.test(l))).toBe(true);
      expect(next.awakeMs).toBeLessThan(5000);
    }
    // One retained reading per wake, the last one kept by the broker for whoever subscribes.
    expect(broker!.log()).toMatch(/Received PUBLISH from dev01 \(d0, q0, r1, m0, 'dev01\/reading'/);
  }, 180_000);

  test("a broker restarted between wakes forgot the session: a full handshake, and success", async () => {
    const rtc = await keptBy(firmware);
    await startBroker();
    const after = await wake(firmware, rtc);
    expect(after).toMatchObject({ rtc: "rtc ok", resumed: "0", timeSource: "rtc", probed: false });
    expect(after.lines).toContain("[esp-certs] mqtt ok client=dev01");
    // It kept the new session: the next wake resumes again.
    expect(await wake(firmware, rtc)).toMatchObject({ resumed: "1" });
  }, 180_000);

  test.each([
    ["a damaged image", "checksum"],
    ["an image too old to trust its clock", "age"],
    ["an image of another identity", "identity"],
    ["an image of another CA", "ca"],
  ])("%s is discarded with a line, and the wake succeeds the long way", async (_what, reason) => {
    const rtc = await keptBy(firmware);
    const bytes = readFileSync(rtc);
    let binary = firmware;
    if (reason === "checksum") bytes[IMAGE + 60] ^= 0x40;
    if (reason === "age") {
      bytes.writeUInt32LE(12 * 3600 + 1, IMAGE + AGE);
      createHash("sha256").update(bytes.subarray(IMAGE, IMAGE + CHECKSUM)).digest().copy(bytes, IMAGE + CHECKSUM, 0, 8);
    }
    if (reason === "identity") binary = otherClient;
    if (reason === "ca") {
      // The project moved to a new CA: its broker and its devices alike.
      binary = otherCa;
      await startBroker(other);
    }
    writeFileSync(rtc, bytes);
    const after = await wake(binary, rtc);
    expect(after, `${after.lines.join("\n")}\n${after.log}`).toMatchObject({ rtc: `rtc fail reason=${reason}`, resumed: "0", timeSource: "ntp", probed: true });
    expect(after.lines.some((l) => /^\[esp-certs\] mqtt ok client=dev0[12]$/.test(l))).toBe(true);
  }, 180_000);
});
