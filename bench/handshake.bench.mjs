// What the device pays for mutual TLS, measured on the rehearsal (firmware/host: the
// firmware's own sources on the real BearSSL, with the i15/m15 big-integer code and
// 32-bit ciphers the ESP8266's BearSSL selects) against a real mosquitto:
// - instructions of the client side of the handshake + MQTT CONNECT/CONNACK
//   (valgrind --tool=callgrind, counted between the shim's CALLGRIND_START/STOP), for the
//   first connection (a full handshake) and for a reconnect after the broker dropped the
//   device (a second client with its id): the firmware resumes its TLS session there;
// - peak heap of the firmware (valgrind --tool=massif; 64-bit pointers, so somewhat above
//   the chip's), TLS buffers included: with MFLN 512 they are 837 + 597 bytes; for the
//   reconnect row, of a run that goes on through the reconnect;
// - flash the certificates take (the three DER arrays the firmware links in);
// - wall time of the handshake without valgrind (the firmware's own `ms=`).
// Usage: node bench/handshake.bench.mjs [PROJECT_DIR ...]
//   With no argument: three fresh stores made by `esp-certs generate`, for issue 7's table
//   (RSA CA+broker with an RSA device key / with an EC P-256 device key / EC throughout).
//   With PROJECT_DIRs: their certs/ and [esp_certs] are used (copied; nothing is written there).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "esp-certs.cjs");
const env = { ...process.env, ESP_CERTS_CA_PASSPHRASE: process.env.ESP_CERTS_CA_PASSPHRASE ?? "bench", NO_COLOR: "1" };
const WALL_RUNS = Number(process.env.BENCH_RUNS ?? 5);

const CONFIGS = [
  { name: "RSA CA+broker, RSA device key", keyType: "rsa2048", clientKeyType: "rsa2048" },
  { name: "RSA CA+broker, EC P-256 device key", keyType: "rsa2048", clientKeyType: "ec-p256" },
  { name: "EC P-256 throughout", keyType: "ec-p256", clientKeyType: "ec-p256" },
];

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
      `log_dest file ${dir}/mosquitto.log`,
    ].join("\n"),
  );
  const child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  for (let i = 0; i < 200 && !(await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return child;
}

/** A temp project holding the store, its header for `port`, and the rehearsal built against it. */
function prepare(config, source, port) {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-handshake-"));
  if (source) {
    cpSync(path.join(source, "certs"), path.join(dir, "certs"), { recursive: true });
    const ini = readFileSync(path.join(source, "platformio.ini"), "utf8");
    writeFileSync(path.join(dir, "platformio.ini"), ini.replace(/^mqtt_port\s*=.*$/m, ""));
  } else {
    writeFileSync(
      path.join(dir, "platformio.ini"),
      `[esp_certs]\nmqtt_host = win10.local\nkey_type = ${config.keyType}\nclient_key_type = ${config.clientKeyType}\n`,
    );
    run(process.execPath, [cli, "generate"], { cwd: dir });
  }
  let ini = readFileSync(path.join(dir, "platformio.ini"), "utf8");
  if (!/^\[esp_certs\]$/m.test(ini)) ini += "\n[esp_certs]\n";
  writeFileSync(path.join(dir, "platformio.ini"), ini.replace(/^\[esp_certs\]$/m, `[esp_certs]\nmqtt_port = ${port}`));
  run(process.execPath, [cli, "header", "--out", path.join(dir, "include", "esp_certs.h")], { cwd: dir });
  const header = readFileSync(path.join(dir, "include", "esp_certs.h"), "utf8");
  const host = /^#define ESP_CERTS_MQTT_HOST "(.*)"/m.exec(header)[1];
  const flash = ["ca", "client_cert", "client_key"]
    .map((a) => Number(new RegExp(`esp_certs_${a}_der_len\\b[^=]*= (\\d+);`).exec(header)[1]))
    .reduce((a, b) => a + b, 0);
  const client = /^#define ESP_CERTS_CLIENT_ID "(.*)"/m.exec(header)[1];
  run("make", ["-s", "-j2", "-C", path.join(root, "firmware", "host"), `HEADER_DIR=${dir}/include`, `BUILD_DIR=${dir}/build`]);
  return { dir, host, port, client, flash, firmware: path.join(dir, "build", "firmware") };
}

/** A second client with the device's id: mosquitto drops the device, which reconnects. */
function kick(p) {
  const clients = path.join(p.dir, "certs", "clients");
  // Its own exit status is not checked: the reconnecting device may push it off in turn.
  spawnSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(p.port), "--cafile", path.join(p.dir, "certs", "ca.crt.pem"),
    "--cert", path.join(clients, `${p.client}.crt.pem`), "--key", path.join(clients, `${p.client}.key.pem`),
    "--insecure", "-i", p.client, "-t", "bench", "-m", "kick"], { env });
}

/**
 * Runs the rehearsal (under `wrapper`) until "mqtt ok" (with `reconnect`, until the second one,
 * after a kick), then ends it the way its timer does.
 */
function rehearse(p, wrapper = [], reconnect = false) {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = [...wrapper, p.firmware];
    const child = spawn(cmd, args, {
      env: { ...env, ESP_CERTS_HOSTS: `${p.host}=127.0.0.1`, ESP_CERTS_RUN_SECONDS: "60" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let kicked = false;
    const wanted = reconnect ? 2 : 1;
    child.stdout.on("data", (d) => {
      out += d;
      const ok = (out.match(/ mqtt ok /g) ?? []).length;
      if (ok >= wanted || / tls fail /.test(out)) child.kill("SIGALRM"); // the shim's SIGALRM handler exits 0
      else if (ok === 1 && reconnect && !kicked) {
        kicked = true;
        setTimeout(() => kick(p), 200);
      }
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("close", () => {
      if ((out.match(/ mqtt ok /g) ?? []).length < wanted) reject(new Error(`the rehearsal did not connect${reconnect ? " twice" : ""}:\n${out}${err}`));
      else resolve(out);
    });
  });
}

/** Peak heap of a run under massif, through the reconnect when `reconnect`. */
async function peakHeap(p, reconnect) {
  const out = path.join(p.dir, `massif${reconnect ? "-reconnect" : ""}.out`);
  await rehearse(p, ["valgrind", "--tool=massif", `--massif-out-file=${out}`], reconnect);
  // The first allocation is libstdc++'s exception pool (72 KiB on this host), made at load
  // time: the firmware's heap is what comes above it.
  const heap = [...readFileSync(out, "utf8").matchAll(/^mem_heap_B=(\d+)/gm)].map((m) => Number(m[1]));
  return Math.max(...heap) - heap.find((b) => b > 0);
}

async function measure(config, source) {
  const port = await freePort();
  const p = prepare(config, source, port);
  const broker = await startBroker(p.dir, port);
  try {
    const full = [];
    const resumed = [];
    for (let i = 0; i < WALL_RUNS; i++) {
      const tls = [...(await rehearse(p, [], true)).matchAll(/ tls ok .* ms=(\d+) .* resumed=([01])/g)];
      full.push(Number(tls[0][1]));
      resumed.push(Number(tls[1][1]));
      if (tls[0][2] !== "0" || tls[1][2] !== "1") throw new Error(`expected a full handshake, then a resumed one: ${tls.map((t) => t[0]).join(" / ")}`);
    }
    const cg = path.join(p.dir, "callgrind.out");
    await rehearse(p, ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${cg}`], true);
    // One dump per connection (the shim's CALLGRIND_DUMP_STATS): .1 the first, .2 the reconnect.
    const counted = (n) => Number(/^totals: (\d+)/m.exec(readFileSync(`${cg}.${n}`, "utf8"))[1]);
    const name = config?.name ?? source;
    return [
      { name, instructions: counted(1), peakHeap: await peakHeap(p, false), flash: p.flash, ms: median(full) },
      { name: `  reconnect, session resumed`, instructions: counted(2), peakHeap: await peakHeap(p, true), flash: p.flash, ms: median(resumed) },
    ];
  } finally {
    broker.kill();
    rmSync(p.dir, { recursive: true, force: true }); // it holds private keys
  }
}

for (const tool of ["valgrind", "mosquitto", "mosquitto_pub", "make", "g++"]) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is needed`);
}
if (!existsSync(cli)) throw new Error("build the CLI first: npm run build");

const sources = process.argv.slice(2);
const rows = [];
for (const item of sources.length > 0 ? sources.map((s) => [undefined, path.resolve(s)]) : CONFIGS.map((c) => [c])) {
  rows.push(...(await measure(item[0], item[1])));
}
const base = rows[0].instructions;
console.log("client handshake + MQTT CONNECT on the rehearsal (ESP8266 BearSSL code paths: i15/m15, aes_ct, ghash_ctmul32); ratio to the first row");
console.log(["store".padEnd(38), "instructions".padStart(14), "ratio".padStart(6), "peak heap".padStart(10), "cert flash".padStart(11), "wall ms".padStart(8)].join(" "));
for (const r of rows) {
  console.log(
    [
      r.name.padEnd(38),
      String(r.instructions).padStart(14),
      (r.instructions / base).toFixed(3).padStart(6),
      `${r.peakHeap} B`.padStart(10),
      `${r.flash} B`.padStart(11),
      String(r.ms).padStart(8),
    ].join(" "),
  );
}
