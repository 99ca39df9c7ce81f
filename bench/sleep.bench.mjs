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
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median, scratch } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "esp-certs.cjs");
const sketch = path.join(root, "firmware", "lib", "esp-certs", "examples", "deep-sleep-sensor");
const env = { ...process.env, ESP_CERTS_CA_PASSPHRASE: process.env.ESP_CERTS_CA_PASSPHRASE ?? "bench", NO_COLOR: "1" };
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WAKES = 3;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

async function startBroker(dir, port) {
  const certs = path.join(dir, "certs");
  const log = path.join(dir, "mosquitto.log");
  const conf = path.join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `cafile ${certs}/ca.crt.pem`,
      `certfile ${certs}/server.crt.pem`,
      `keyfile ${certs}/server.key.pem`,
      "require_certificate true",
      "use_identity_as_username true",
      "allow_anonymous false",
      process.getuid?.() === 0 ? "user root" : "",
      `log_dest file ${log}`,
      "connection_messages true",
    ].join("\n"),
  );
  const child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  for (let i = 0; i < 200 && !(await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { child, connections: () => (existsSync(log) ? (readFileSync(log, "utf8").match(/New connection from/g) ?? []).length : 0) };
}

/** A store of the given key types, its header for `port`, and the rehearsal of `sketchDir` (default: the main example). */
function prepare(dir, keys, port, sketchDir) {
  writeFileSync(path.join(dir, "platformio.ini"), `[esp_certs]\nmqtt_host = win10.local\nmqtt_port = ${port}\n${keys}`);
  if (!existsSync(path.join(dir, "certs"))) run(process.execPath, [cli, "generate"], { cwd: dir });
  run(process.execPath, [cli, "header", "--out", path.join(dir, "include", "esp_certs.h")], { cwd: dir });
  const build = path.join(dir, sketchDir ? "build-sensor" : "build");
  const args = ["-s", "-j2", "-C", path.join(root, "firmware", "host"), `HEADER_DIR=${dir}/include`, `BUILD_DIR=${build}`];
  run("make", sketchDir ? [...args, `SKETCH_DIR=${sketchDir}`] : args);
  return path.join(build, "firmware");
}

/** Runs the rehearsal until it exits (a wake ends in deep sleep) or, with `untilMqtt`, until its first mqtt ok. */
function rehearse(firmware, extraEnv, wrapper = [], untilMqtt = false) {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = [...wrapper, firmware];
    const child = spawn(cmd, args, {
      env: { ...env, ESP_CERTS_HOSTS: "win10.local=127.0.0.1", ESP_CERTS_RUN_SECONDS: "60", ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (untilMqtt && / mqtt ok /.test(out)) child.kill("SIGALRM"); // the shim's SIGALRM handler exits 0
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("close", () => {
      if (!/ mqtt ok /.test(out)) reject(new Error(`the rehearsal did not connect:\n${out}${err}`));
      else resolve(out);
    });
  });
}

const totals = (file) => Number(/^totals: (\d+)/m.exec(readFileSync(file, "utf8"))[1]);

/** The workshop's full handshake: all-RSA keys, client handshake + MQTT CONNECT, under callgrind. */
async function workshopHandshake(dir) {
  const port = await freePort();
  const firmware = prepare(dir, "key_type = rsa2048\nclient_key_type = rsa2048\n", port);
  const broker = await startBroker(dir, port);
  try {
    const cg = path.join(dir, "callgrind.out");
    await rehearse(firmware, {}, ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${cg}`], true);
    return { instructions: totals(`${cg}.1`), firmware, port };
  } finally {
    broker.child.kill();
  }
}

/** Three wakes of the sensor for the store in `dir`: instructions, then wall time, probe and clock source. */
async function wakes(dir, keys, name) {
  const port = await freePort();
  const firmware = prepare(dir, keys, port, sketch);
  const broker = await startBroker(dir, port);
  try {
    const instructions = [];
    const rtc = path.join(dir, "rtc-callgrind.bin");
    for (let w = 1; w <= WAKES; w++) {
      const cg = path.join(dir, `callgrind-wake${w}.out`);
      await rehearse(firmware, { ESP_CERTS_RTC: rtc, ESP_CERTS_MEASURE: "wake" }, ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${cg}`]);
      instructions.push(totals(`${cg}.1`));
    }
    const ms = Array.from({ length: WAKES }, () => []);
    const facts = [];
    for (let r = 0; r < RUNS; r++) {
      const chain = path.join(dir, `rtc-${r}.bin`);
      for (let w = 0; w < WAKES; w++) {
        const before = broker.connections();
        const out = await rehearse(firmware, { ESP_CERTS_RTC: chain });
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

for (const tool of ["valgrind", "mosquitto", "make", "g++"]) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is needed`);
}
if (!existsSync(cli)) throw new Error("build the CLI first: npm run build");

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
