// The device library in a user's own PlatformIO project, as a new user meets it: a fresh
// project (one [env:d1_mini], a src/main.cpp) under a path with a space, outside this
// repository. `init` installs the library into lib/; the library's main example, copied in as
// the user's sketch, is built by the rehearsal from the installed copy (not from this
// repository) and connects to a real mosquitto; `esp-certs monitor` says verified.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { tmpDir } from "../helpers/tmp.js";
import { BUILD_TIMEOUT_MS, rehearsalTools } from "../firmware/rehearsal.js";
import { monitorBoard } from "../monitor/pty.js";

const ready = rehearsalTools({ pty: true });

function freshProject(): string {
  const dir = path.join(tmpDir("esp-certs-own-"), "my sensor project");
  mkdirSync(path.join(dir, "src"), { recursive: true });
  writeFileSync(path.join(dir, "platformio.ini"), "[env:d1_mini]\nplatform = espressif8266\nboard = d1_mini\nframework = arduino\n");
  writeFileSync(path.join(dir, "src", "main.cpp"), "#include <Arduino.h>\nvoid setup() {}\nvoid loop() {}\n");
  return dir;
}

function cli(args: string[], cwd: string) {
  const r = runCli(args, { cwd });
  expect(r.status, `esp-certs ${args.join(" ")}:\n${r.stdout}${r.stderr}`).toBe(0);
  return r;
}

/**
 * Builds the project's src/ with its lib/esp-certs and include/ in the rehearsal. make splits
 * words at spaces, so it is handed the project through a link whose path has none (PlatformIO,
 * which the rehearsal stands in for, takes the path as it is).
 */
function buildOwnProject(project: string): string {
  const link = path.join(tmpDir("esp-certs-link-"), "project");
  symlinkSync(project, link);
  const make = spawnSync(
    "make",
    ["-s", "-j2", "-C", path.join(repoRoot, "firmware", "host"), `LIBRARY_DIR=${link}/lib/esp-certs`, `SKETCH_DIR=${link}/src`, `HEADER_DIR=${link}/include`, `BUILD_DIR=${link}/.pio/rehearsal`],
    { encoding: "utf8" },
  );
  expect(make.status, `make failed:\n${make.stdout}${make.stderr}`).toBe(0);
  return path.join(project, ".pio", "rehearsal", "firmware");
}

describe.skipIf(!ready)("the esp-certs library in a fresh project of the user's own", () => {
  const brokers: Broker[] = [];
  afterAll(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
  });

  it("init installs it; its main example as the sketch builds, connects, and the monitor says verified", async () => {
    const project = freshProject();
    const init = cli(["init", "--yes", "--host", "win10.local"], project);
    expect(init.stdout).toMatch(/wrote {4}device library {6}lib\/esp-certs \(\d+\.\d+\.\d+\)/);
    const lib = path.join(project, "lib", "esp-certs");
    expect(readFileSync(path.join(lib, "src", "EspCerts.h"), "utf8")).toBe(readFileSync(path.join(repoRoot, "firmware", "lib", "esp-certs", "src", "EspCerts.h"), "utf8"));

    // The user's sketch: the example as it is, their WiFi in include/ beside the header.
    copyFileSync(path.join(lib, "examples", "connect", "connect.ino"), path.join(project, "src", "main.cpp"));
    writeFileSync(path.join(project, "include", "wifi_secrets.h"), '#define WIFI_SSID "home"\n#define WIFI_PASSWORD "secret"\n');
    const certs = path.join(project, "certs");
    const broker = await startMosquitto({ tls: { cafile: path.join(certs, "ca.crt.pem"), certfile: path.join(certs, "server.crt.pem"), keyfile: path.join(certs, "server.key.pem") } });
    brokers.push(broker);
    const ini = path.join(project, "platformio.ini");
    writeFileSync(ini, readFileSync(ini, "utf8").replace(/^\[esp_certs\][^\S\n]*$/m, `[esp_certs]\nmqtt_port = ${broker.port}`));
    cli(["generate"], project);
    const firmware = buildOwnProject(project);

    const r = await monitorBoard(firmware, { cwd: project, hosts: "win10.local=127.0.0.1" });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`verified: dev01 connected to win10.local:${broker.port}`);
  }, BUILD_TIMEOUT_MS * 2);
});
