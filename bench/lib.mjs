// Small helpers shared by the benchmarks, and the set-up of those that measure the firmware on
// its rehearsal (firmware/host) against a real mosquitto.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));
export const cli = path.join(root, "dist", "esp-certs.cjs");
export const env = { ...process.env, ESP_CERTS_CA_PASSPHRASE: process.env.ESP_CERTS_CA_PASSPHRASE ?? "bench", NO_COLOR: "1" };

const scratchDirs = [];
process.on("exit", () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed when the benchmark exits: the stores made in it hold private keys. */
export function scratch(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** Wall time of one command in milliseconds; throws when it fails. */
export function timeOnce(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return ms;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `a` and `b` alternately `n` times (so drift hits both alike) and returns both medians. */
export function alternate(n, a, b) {
  const ta = [];
  const tb = [];
  for (let i = 0; i < n; i++) {
    ta.push(a(i));
    tb.push(b(i));
  }
  return { a: median(ta), b: median(tb) };
}

/** Runs a command with the benchmarks' environment and returns its output; throws when it fails. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Throws unless every tool is on PATH and the CLI's bundle is built. */
export function requireTools(tools) {
  for (const tool of tools) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is needed`);
  }
  if (!existsSync(cli)) throw new Error("build the CLI first: npm run build");
}

export function freePort() {
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

/**
 * A mosquitto on 127.0.0.1:`port` for the store in `dir`/certs (mutual TLS, the certificate's CN
 * as user name), logging to `dir`/mosquitto.log, with `extra` configuration lines; resolves with
 * its process once it takes connections.
 */
export async function startBroker(dir, port, extra = []) {
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
      ...extra,
      "allow_anonymous false",
      process.getuid?.() === 0 ? "user root" : "",
      `log_dest file ${path.join(dir, "mosquitto.log")}`,
    ].join("\n"),
  );
  const child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  for (let i = 0; i < 200 && !(await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return child;
}

/** Builds the rehearsal of `sketchDir` (default: the library's main example) against `dir`/include; returns the program. */
export function buildRehearsal(dir, build, sketchDir) {
  const args = ["-s", "-j2", "-C", path.join(root, "firmware", "host"), `HEADER_DIR=${dir}/include`, `BUILD_DIR=${build}`];
  run("make", sketchDir ? [...args, `SKETCH_DIR=${sketchDir}`] : args);
  return path.join(build, "firmware");
}

/**
 * valgrind's callgrind, counting only between the shim's CALLGRIND_START/STOP, one dump each
 * (`file`.1, .2, ...); callgrindTotal reads a dump's instructions.
 */
export const callgrind = (file) => ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${file}`];
export const callgrindTotal = (file) => Number(/^totals: (\d+)/m.exec(readFileSync(file, "utf8"))[1]);

export const massif = (file) => ["valgrind", "--tool=massif", `--massif-out-file=${file}`];

/**
 * The firmware's peak heap in a massif profile. The first allocation is libstdc++'s exception
 * pool (72 KiB on this host), made at load time: the firmware's heap is what comes above it.
 */
export function massifPeak(file) {
  const heap = [...readFileSync(file, "utf8").matchAll(/^mem_heap_B=(\d+)/gm)].map((m) => Number(m[1]));
  return Math.max(...heap) - heap.find((b) => b > 0);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until callgrind has written the whole dump `file` (its totals line comes last). */
async function dumped(file) {
  for (let i = 0; i < 600; i++) {
    if (existsSync(file) && /^totals: /m.test(readFileSync(file, "utf8"))) return;
    await sleep(50);
  }
  throw new Error(`callgrind wrote no dump ${file}`);
}

/**
 * Runs the rehearsal `firmware` (under `wrapper`, e.g. callgrind(file)) with the broker's name
 * `host` on 127.0.0.1. After each piece of output, `stop(out)` says whether to end the run the
 * way its timer does (the shim's SIGALRM handler exits 0), once the callgrind dump `dump` is
 * written when one is named (the firmware may still be writing it); without `stop` the run goes on
 * until the firmware exits (a wake ends in deep sleep). Resolves with the output when `ok(out)`.
 */
export function rehearse(firmware, { host = "win10.local", extraEnv = {}, wrapper = [], stop = () => false, dump, ok, expected }) {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = [...wrapper, firmware];
    const child = spawn(cmd, args, {
      env: { ...env, ESP_CERTS_HOSTS: `${host}=127.0.0.1`, ESP_CERTS_RUN_SECONDS: "60", ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let stopping = false;
    let failed;
    child.stdout.on("data", (d) => {
      out += d;
      if (stopping || !stop(out)) return;
      stopping = true;
      (dump && ok(out) ? dumped(dump) : Promise.resolve())
        .catch((e) => (failed = e))
        .finally(() => child.kill("SIGALRM"));
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("close", () => {
      if (failed) reject(failed);
      else if (ok(out)) resolve(out);
      else reject(new Error(`the rehearsal did not ${expected}:\n${out}${err}`));
    });
  });
}
