// What a device pays to take a renewed certificate pushed over MQTT (docs/renewal.md), on the
// rehearsal against a real mosquitto, with the workshop's all-RSA keys:
// - instructions of taking it: the firmware's handling of the message on `<id>/esp-certs/cert`
//   (BearSSL's X.509 checks and the record written to the spare flash sector), counted with
//   callgrind and ESP_CERTS_MEASURE=renewal; as a ratio to the full handshake (client handshake
//   + MQTT CONNECT, counted as bench/handshake.bench.mjs does) of the same device;
// - peak heap (valgrind --tool=massif) of a run that connects and takes the renewal, against one
//   that connects and stays connected (the steady state), both ended at once after.
// The renewal is retained at the broker before the device starts, as `esp-certs push` leaves it,
// so the device takes it right after its first connect.
import { X509Certificate } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { scratch } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "esp-certs.cjs");
const env = { ...process.env, ESP_CERTS_CA_PASSPHRASE: process.env.ESP_CERTS_CA_PASSPHRASE ?? "bench", NO_COLOR: "1" };

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
      "use_username_as_clientid true",
      "allow_anonymous false",
      process.getuid?.() === 0 ? "user root" : "",
      `log_dest file ${dir}/mosquitto.log`,
    ].join("\n"),
  );
  const child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  for (let i = 0; i < 200 && !(await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return child;
}

/** Runs the rehearsal (under `wrapper`) until a line matches `until`, then ends it the way its timer does. */
function rehearse(firmware, extraEnv, wrapper, until) {
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
      if (until.test(out) || / (tls|mqtt) fail | cred renew fail /.test(out)) child.kill("SIGALRM"); // the shim's SIGALRM handler exits 0
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("close", () => (until.test(out) ? resolve(out) : reject(new Error(`the rehearsal did not print ${until}:\n${out}${err}`))));
  });
}

const totals = (file) => Number(/^totals: (\d+)/m.exec(readFileSync(file, "utf8"))[1]);

/** Peak heap of the firmware under massif (above libstdc++'s load-time pool, as bench/handshake.bench.mjs). */
async function peakHeap(dir, firmware, extraEnv, until, name) {
  const out = path.join(dir, `massif-${name}.out`);
  await rehearse(firmware, extraEnv, ["valgrind", "--tool=massif", `--massif-out-file=${out}`], until);
  const heap = [...readFileSync(out, "utf8").matchAll(/^mem_heap_B=(\d+)/gm)].map((m) => Number(m[1]));
  return Math.max(...heap) - heap.find((b) => b > 0);
}

for (const tool of ["valgrind", "mosquitto", "mosquitto_pub", "make", "g++"]) {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is needed`);
}
if (!existsSync(cli)) throw new Error("build the CLI first: npm run build");

const dir = scratch("bench-renewal-");
const port = await freePort();
writeFileSync(path.join(dir, "platformio.ini"), `[esp_certs]\nmqtt_host = win10.local\nmqtt_port = ${port}\nkey_type = rsa2048\nclient_key_type = rsa2048\n`);
run(process.execPath, [cli, "generate"], { cwd: dir });
run(process.execPath, [cli, "header", "--out", path.join(dir, "include", "esp_certs.h")], { cwd: dir });
const header = readFileSync(path.join(dir, "include", "esp_certs.h"), "utf8");
const device = /^#define ESP_CERTS_CLIENT_ID "(.*)"/m.exec(header)[1];
run("make", ["-s", "-j2", "-C", path.join(root, "firmware", "host"), `HEADER_DIR=${dir}/include`, `BUILD_DIR=${dir}/build`]);
const firmware = path.join(dir, "build", "firmware");
const broker = await startBroker(dir, port);
try {
  const flash = (name) => ({ ESP_CERTS_FLASH: path.join(dir, `flash-${name}.bin`) });
  const cg = path.join(dir, "callgrind-handshake.out");
  await rehearse(firmware, flash("handshake"), ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${cg}`], / mqtt ok /);
  const handshake = totals(`${cg}.1`);
  const steady = await peakHeap(dir, firmware, flash("steady"), / mqtt ok /, "steady");

  // The renewal on the device's own key, retained at the broker as `esp-certs push` leaves it.
  run(process.execPath, [cli, "generate", "--renew", device], { cwd: dir });
  const clients = path.join(dir, "certs", "clients");
  const der = path.join(dir, `${device}.renewed.der`);
  writeFileSync(der, new X509Certificate(readFileSync(path.join(clients, `${device}.crt.pem`))).raw);
  run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(port), "--cafile", path.join(dir, "certs", "ca.crt.pem"), "--insecure",
    "--cert", path.join(clients, "esp-certs.crt.pem"), "--key", path.join(clients, "esp-certs.key.pem"),
    "-q", "1", "-r", "-t", `${device}/esp-certs/cert`, "-f", der]);

  const cr = path.join(dir, "callgrind-renewal.out");
  await rehearse(firmware, { ...flash("renewal"), ESP_CERTS_MEASURE: "renewal" }, ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${cr}`], / cred renewed /);
  const renewal = totals(`${cr}.1`);
  const renewalHeap = await peakHeap(dir, firmware, flash("renewal-heap"), / cred renewed /, "renewal");

  console.log("a device taking a pushed renewal on the rehearsal (all-RSA keys, the workshop's); ratio to its full handshake");
  console.log(["span".padEnd(48), "instructions".padStart(13), "ratio".padStart(6)].join(" "));
  console.log(["full handshake + MQTT CONNECT".padEnd(48), String(handshake).padStart(13), "1.000".padStart(6)].join(" "));
  console.log(["taking the renewal (X.509 checks + flash record)".padEnd(48), String(renewal).padStart(13), (renewal / handshake).toFixed(3).padStart(6)].join(" "));
  console.log(["peak heap".padEnd(48), "bytes".padStart(13), "ratio".padStart(6)].join(" "));
  console.log(["connected, steady state".padEnd(48), String(steady).padStart(13), "1.000".padStart(6)].join(" "));
  console.log(["connected, renewal taken".padEnd(48), String(renewalHeap).padStart(13), (renewalHeap / steady).toFixed(3).padStart(6)].join(" "));
} finally {
  broker.kill();
}
