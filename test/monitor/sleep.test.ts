// A sleeping device through a pty (docs/deep-sleep.md): the library's deep-sleep example on the
// rehearsal, one run per wake with its RTC memory kept in a file, `esp-certs monitor` reading
// the wakes as a board's USB port would carry them, against a real mosquitto.
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { tmpDir } from "../helpers/tmp.js";
import { BUILD_TIMEOUT_MS, buildFirmware, generateProject, type Project, rehearsalTools } from "../firmware/rehearsal.js";
import { ptyPair, startCli, waitUntilOpen } from "./pty.js";

const ready = rehearsalTools({ pty: true });
const SKETCH = path.join(repoRoot, "firmware", "lib", "esp-certs", "examples", "deep-sleep-sensor");

describe.skipIf(!ready)("monitor reads a sleeping device through a pty", () => {
  let project: Project;
  let broker: Broker;
  let firmware: string;

  beforeAll(async () => {
    project = generateProject("win10.local");
    broker = await startMosquitto({ tls: { cafile: project.caCert, certfile: project.serverCert, keyfile: project.serverKey } });
    firmware = buildFirmware(project, broker.port, undefined, SKETCH);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await broker?.stop();
  });

  /** One wake, its serial lines into `serial`; resolves when it has gone back to sleep. */
  function wake(rtc: string, serial: string): Promise<number | null> {
    return new Promise((resolve) => {
      const board = spawn(firmware, [], {
        env: { ...process.env, ESP_CERTS_SERIAL: serial, ESP_CERTS_RTC: rtc, ESP_CERTS_HOSTS: "win10.local=127.0.0.1", ESP_CERTS_RUN_SECONDS: "60" },
        stdio: "ignore",
      });
      board.on("close", resolve);
    });
  }

  it("verifies a wake that resumed its session with what the wake before kept, started while the device slept", async () => {
    const dir = tmpDir("esp-certs-sleep-");
    const rtc = path.join(dir, "rtc.bin");
    // The first wake before anyone watches: a power-on that goes the long way and keeps its state.
    expect(await wake(rtc, path.join(dir, "first-wake.log"))).toBe(0);
    const pty = await ptyPair();
    try {
      const run = startCli(["monitor", "--port", pty.dev, "--timeout", "60"], { cwd: project.dir });
      await waitUntilOpen(run.child.pid!, pty.dev);
      expect(await wake(rtc, pty.feed)).toBe(0);
      const r = await run.done;
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("[esp-certs] rtc ok age=");
      expect(r.stdout).toContain("[esp-certs] time ok epoch=");
      expect(r.stdout).toMatch(/verified: dev01 connected to win10\.local:\d+ .*it woke from deep sleep with what the wake before kept in RTC memory and resumed its TLS session \(resumed session \d+ ms/);
    } finally {
      await pty.stop();
    }
  }, 180_000);
});
