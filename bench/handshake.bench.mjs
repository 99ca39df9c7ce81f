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
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  buildRehearsal, callgrind, callgrindTotal, cli, env, freePort, massif, massifPeak, median, rehearse, requireTools, run, startBroker,
} from "./lib.mjs";

const WALL_RUNS = Number(process.env.BENCH_RUNS ?? 5);

const CONFIGS = [
  { name: "RSA CA+broker, RSA device key", keyType: "rsa2048", clientKeyType: "rsa2048" },
  { name: "RSA CA+broker, EC P-256 device key", keyType: "rsa2048", clientKeyType: "ec-p256" },
  { name: "EC P-256 throughout", keyType: "ec-p256", clientKeyType: "ec-p256" },
];

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
  const firmware = buildRehearsal(dir, path.join(dir, "build"));
  return { dir, host, port, client, flash, firmware };
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
 * after a kick), then ends it.
 */
function rehearseConnect(p, wrapper = [], reconnect = false) {
  const wanted = reconnect ? 2 : 1;
  const connected = (out) => (out.match(/ mqtt ok /g) ?? []).length >= wanted;
  let kicked = false;
  return rehearse(p.firmware, {
    host: p.host,
    wrapper,
    stop: (out) => {
      if (connected(out) || / tls fail /.test(out)) return true;
      if (reconnect && !kicked && / mqtt ok /.test(out)) {
        kicked = true;
        setTimeout(() => kick(p), 200);
      }
      return false;
    },
    ok: connected,
    expected: `connect${reconnect ? " twice" : ""}`,
  });
}

/** Peak heap of a run under massif, through the reconnect when `reconnect`. */
async function peakHeap(p, reconnect) {
  const out = path.join(p.dir, `massif${reconnect ? "-reconnect" : ""}.out`);
  await rehearseConnect(p, massif(out), reconnect);
  return massifPeak(out);
}

async function measure(config, source) {
  const port = await freePort();
  const p = prepare(config, source, port);
  const broker = await startBroker(p.dir, port);
  try {
    const full = [];
    const resumed = [];
    for (let i = 0; i < WALL_RUNS; i++) {
      const tls = [...(await rehearseConnect(p, [], true)).matchAll(/ tls ok .* ms=(\d+) .* resumed=([01])/g)];
      full.push(Number(tls[0][1]));
      resumed.push(Number(tls[1][1]));
      if (tls[0][2] !== "0" || tls[1][2] !== "1") throw new Error(`expected a full handshake, then a resumed one: ${tls.map((t) => t[0]).join(" / ")}`);
    }
    const cg = path.join(p.dir, "callgrind.out");
    await rehearseConnect(p, callgrind(cg), true);
    // One dump per connection (the shim's CALLGRIND_DUMP_STATS): .1 the first, .2 the reconnect.
    const counted = (n) => callgrindTotal(`${cg}.${n}`);
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

requireTools(["valgrind", "mosquitto", "mosquitto_pub", "make", "g++"]);

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
