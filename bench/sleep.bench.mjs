// What a battery sensor pays per wake (docs/deep-sleep.md), on the rehearsal against a real
// mosquitto: the library's deep-sleep example, one run per wake, its RTC memory kept in a file
// (ESP_CERTS_RTC) from one wake to the next.
// - instructions of a whole wake, from the start of the program to ESP.deepSleep() (the reading
//   published, the session closed, what the next wake needs kept): callgrind with
//   ESP_CERTS_MEASURE=wake; the first wake (nothing kept: probe, NTP, full handshake) and the two
//   after it (session resumed, no probe, no NTP wait);
// - as a ratio to the workshop's full handshake: client handshake + MQTT CONNECT with its all-RSA
//   keys, counted as bench/handshake.bench.mjs does;
// - wall time awake per wake without valgrind (the sketch's own `sleep ms=`, median of BENCH_RUNS),
//   the probe (TCP connections the broker saw: 2 with it, 1 without) and the clock's source.
// The radio's share (WiFi association, RF calibration) is not on the rehearsal: docs/deep-sleep.md
// gives it from Espressif's documents.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  buildRehearsal, callgrind, callgrindTotal, cli, freePort, median, rehearse, requireTools, root, run, scratch, startBroker,
} from "./lib.mjs";

const sketch = path.join(root, "firmware", "lib", "esp-certs", "examples", "deep-sleep-sensor");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WAKES = 3;

/** A broker that logs every connection: TCP connections it saw tell whether the device probed. */
async function startCountingBroker(dir, port) {
  const child = await startBroker(dir, port, ["connection_messages true"]);
  const log = path.join(dir, "mosquitto.log");
  return { child, connections: () => (existsSync(log) ? (readFileSync(log, "utf8").match(/New connection from/g) ?? []).length : 0) };
}

/** A store of the given key types, its header for `port`, and the rehearsal of `sketchDir` (default: the main example). */
function prepare(dir, keys, port, sketchDir) {
  writeFileSync(path.join(dir, "platformio.ini"), `[esp_certs]\nmqtt_host = win10.local\nmqtt_port = ${port}\n${keys}`);
  if (!existsSync(path.join(dir, "certs"))) run(process.execPath, [cli, "generate"], { cwd: dir });
  run(process.execPath, [cli, "header", "--out", path.join(dir, "include", "esp_certs.h")], { cwd: dir });
  return buildRehearsal(dir, path.join(dir, sketchDir ? "build-sensor" : "build"), sketchDir);
}

/** Runs the rehearsal until it exits (a wake ends in deep sleep) or, with `untilMqtt`, until its first mqtt ok. */
function rehearseWake(firmware, extraEnv, wrapper = [], untilMqtt = false) {
  const connected = (out) => / mqtt ok /.test(out);
  return rehearse(firmware, { extraEnv, wrapper, stop: (out) => untilMqtt && connected(out), ok: connected, expected: "connect" });
}

/** The workshop's full handshake: all-RSA keys, client handshake + MQTT CONNECT, under callgrind. */
async function workshopHandshake(dir) {
  const port = await freePort();
  const firmware = prepare(dir, "key_type = rsa2048\nclient_key_type = rsa2048\n", port);
  const broker = await startCountingBroker(dir, port);
  try {
    const cg = path.join(dir, "callgrind.out");
    await rehearseWake(firmware, {}, callgrind(cg), true);
    return { instructions: callgrindTotal(`${cg}.1`), firmware, port };
  } finally {
    broker.child.kill();
  }
}

/** Three wakes of the sensor for the store in `dir`: instructions, then wall time, probe and clock source. */
async function wakes(dir, keys, name) {
  const port = await freePort();
  const firmware = prepare(dir, keys, port, sketch);
  const broker = await startCountingBroker(dir, port);
  try {
    const instructions = [];
    const rtc = path.join(dir, "rtc-callgrind.bin");
    for (let w = 1; w <= WAKES; w++) {
      const cg = path.join(dir, `callgrind-wake${w}.out`);
      await rehearseWake(firmware, { ESP_CERTS_RTC: rtc, ESP_CERTS_MEASURE: "wake" }, callgrind(cg));
      instructions.push(callgrindTotal(`${cg}.1`));
    }
    const ms = Array.from({ length: WAKES }, () => []);
    const facts = [];
    for (let r = 0; r < RUNS; r++) {
      const chain = path.join(dir, `rtc-${r}.bin`);
      for (let w = 0; w < WAKES; w++) {
        const before = broker.connections();
        const out = await rehearseWake(firmware, { ESP_CERTS_RTC: chain });
        ms[w].push(Number(/ sleep ms=(\d+) /.exec(out)[1]));
        facts[w] = {
          probe: broker.connections() - before > 1,
          clock: / time ok .* source=(\w+)/.exec(out)[1],
          resumed: / tls ok .* resumed=(\d)/.exec(out)[1] === "1",
        };
      }
    }
    return instructions.map((n, w) => ({ name: w === 0 ? name : `  wake ${w + 1}`, instructions: n, ms: median(ms[w]), ...facts[w] }));
  } finally {
    broker.child.kill();
  }
}

requireTools(["valgrind", "mosquitto", "make", "g++"]);

const workshopDir = scratch("bench-sleep-rsa-");
const base = await workshopHandshake(workshopDir);
const rows = [
  ...(await wakes(scratch("bench-sleep-default-"), "", "default keys (RSA CA, EC device), wake 1")),
  ...(await wakes(workshopDir, "key_type = rsa2048\nclient_key_type = rsa2048\n", "all-RSA (the workshop's), wake 1")),
];
console.log(`a battery sensor's wake on the rehearsal, boot to deep sleep (reading published); ratio to the workshop's full handshake (${base.instructions} instructions)`);
console.log(["wake".padEnd(44), "instructions".padStart(13), "ratio".padStart(6), "awake ms".padStart(9), "probe".padStart(6), "clock".padStart(6), "resumed".padStart(8)].join(" "));
for (const r of rows) {
  console.log(
    [
      r.name.padEnd(44),
      String(r.instructions).padStart(13),
      (r.instructions / base.instructions).toFixed(3).padStart(6),
      String(r.ms).padStart(9),
      (r.probe ? "yes" : "no").padStart(6),
      r.clock.padStart(6),
      (r.resumed ? "yes" : "no").padStart(8),
    ].join(" "),
  );
}
console.log("not on the rehearsal, per wake (docs/deep-sleep.md): boot ~130 ms, RF calibration 2-200 ms, WiFi association and DHCP 0.3-1 s");
