// What the `pio run` pre-build step adds when there is nothing to do (store and header up to
// date): firmware/esp_certs_hook.py exec'd inside an already running Python, as SCons runs it,
// with whatever it spawns, against spawning `node -e 0`, alternated in one run. Target: ratio
// <= 1.2 (the script skips Node.js altogether while its stamp holds). For reference, the CLI's
// own no-op path (`esp-certs hook`, which the script runs when something changed) against the
// same. Then what the header costs the ESP8266, compiled with xtensa-lx106-elf-gcc, against the
// workshop's way: PEM files on LittleFS plus `xxd -i` arrays (not const, so they sit in RAM).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { alternate, median, timeOnce } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "esp-certs.cjs");
const hookScript = path.join(root, "firmware", "esp_certs_hook.py");
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const TARGET = 1.2;

const dir = mkdtempSync(path.join(tmpdir(), "bench-hook-"));
const made = [dir];
process.on("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
// A `node` first on PATH that counts its starts, so the run shows whether the script started it.
const bin = mkdtempSync(path.join(tmpdir(), "bench-hook-bin-"));
made.push(bin);
const starts = path.join(bin, "starts");
writeFileSync(starts, "");
writeFileSync(path.join(bin, "node"), `#!/bin/sh\necho start >> '${starts}'\nexec '${process.execPath}' "$@"\n`);
chmodSync(path.join(bin, "node"), 0o755);
const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, ESP_CERTS_CA_PASSPHRASE: "bench", NO_COLOR: "1" };

writeFileSync(
  path.join(dir, "platformio.ini"),
  "[esp_certs]\nmqtt_host = win10.local\n\n[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = dev01\n",
);
timeOnce(process.execPath, [cli, "generate"], { cwd: dir, env });
// The first build through the script: it runs the CLI, which leaves the stamp.
const runner = path.join(root, "test", "platformio", "fixtures", "run_hook.py");
const first = spawnSync("python3", [runner, hookScript, dir, "d1_mini"], { cwd: dir, env, encoding: "utf8" });
if (first.status !== 0) throw new Error(`the hook script failed:\n${first.stdout}${first.stderr}`);
const header = path.join(dir, "include", "esp_certs.h");
const mtime = statSync(header).mtimeMs;
const startsBefore = readFileSync(starts, "utf8").split("\n").length;

const driver = spawnSync("python3", [path.join(root, "bench", "hook_exec.py"), hookScript, dir, "d1_mini", String(RUNS), process.execPath], { cwd: dir, env, encoding: "utf8" });
if (driver.status !== 0) throw new Error(`the benchmark driver failed:\n${driver.stderr}`);
const t = JSON.parse(driver.stdout);
const nodeStarts = readFileSync(starts, "utf8").split("\n").length - startsBefore;
if (statSync(header).mtimeMs !== mtime) throw new Error("the no-op hook touched the header");
const [script, bare] = [median(t.hook), median(t.node)];
console.log(`hook script as SCons runs it, nothing to do: ${script.toFixed(2)} ms (median of ${RUNS}; Node.js started ${nodeStarts} times)`);
console.log(`node -e 0, spawned from the same Python:     ${bare.toFixed(2)} ms (median of ${RUNS})`);
console.log(`ratio: ${(script / bare).toFixed(2)} (target <= ${TARGET})`);

// The CLI's no-op path alone: what a build costs when the script cannot skip it.
const hookArgs = [cli, "--project-dir", dir, "hook", "--env", "d1_mini"];
const quiet = spawnSync(process.execPath, hookArgs, { cwd: dir, env, encoding: "utf8" });
if (quiet.stdout !== "" || quiet.stderr !== "") throw new Error(`the no-op hook printed:\n${quiet.stdout}${quiet.stderr}`);
const { a: hook, b: bareNode } = alternate(
  RUNS,
  () => timeOnce(process.execPath, hookArgs, { cwd: dir, env }),
  () => timeOnce(process.execPath, ["-e", "0"], { cwd: dir }),
);
console.log(`esp-certs hook (the CLI alone), nothing to do: ${hook.toFixed(1)} ms; node -e 0: ${bareNode.toFixed(1)} ms; ratio ${(hook / bareNode).toFixed(2)}`);

// ---- size on the device ----
const store = path.join(dir, "certs");
const files = {
  caPem: path.join(store, "ca.crt.pem"),
  certPem: path.join(store, "clients", "dev01.crt.pem"),
  keyPem: path.join(store, "clients", "dev01.key.pem"),
  caDer: path.join(store, "ca.crt.der"),
  certDer: path.join(store, "clients", "dev01.crt.der"),
  keyDer: path.join(store, "clients", "dev01.key.der"),
};
const size = (f) => statSync(f).size;
console.log(`header esp_certs.h: ${size(header)} bytes of source`);

const cc = spawnSync("sh", ["-c", "command -v xtensa-lx106-elf-gcc"]).status === 0;
if (!cc) {
  console.log("device sizes skipped: xtensa-lx106-elf-gcc is missing (Debian: gcc-xtensa-lx106, picolibc-xtensa-lx106-elf)");
} else {
  const work = mkdtempSync(path.join(tmpdir(), "bench-size-"));
  made.push(work);
  // The cross compiler must not see the host's glibc headers: copy BearSSL's alone.
  mkdirSync(path.join(work, "bearssl"));
  for (const h of spawnSync("sh", ["-c", "ls /usr/include/bearssl/*.h"], { encoding: "utf8" }).stdout.trim().split("\n")) {
    writeFileSync(path.join(work, "bearssl", path.basename(h)), readFileSync(h));
  }
  writeFileSync(path.join(work, "ours.c"), '#include "esp_certs.h"\n');
  // xxd -i, as the workshop's script ran it, for the three files the device needs.
  const xxd = Object.entries({ ca: files.caDer, cert: files.certDer, key: files.keyDer })
    .map(([name, f]) => spawnSync("xxd", ["-i", "-n", `${name}_der`, f], { encoding: "utf8" }).stdout)
    .join("\n");
  writeFileSync(path.join(work, "workshop.c"), xxd);
  // -O0 keeps unused statics; PROGMEM as the ESP8266 core defines it (section .irom.text: flash).
  const sections = (src) => {
    const obj = path.join(work, `${src}.o`);
    const flags = ["--specs=/usr/lib/xtensa-lx106-elf/picolibc.specs", "-std=c99", "-O0", `-I${work}`, `-I${path.dirname(header)}`];
    const r = spawnSync("xtensa-lx106-elf-gcc", [...flags, "-DPROGMEM=__attribute__((section(\".irom.text\")))", "-c", path.join(work, `${src}.c`), "-o", obj], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = spawnSync("xtensa-lx106-elf-size", ["-A", obj], { encoding: "utf8" }).stdout;
    const get = (name) => Number(new RegExp(`^${name.replace(".", "\\.")}\\s+(\\d+)`, "m").exec(out)?.[1] ?? 0);
    // On the ESP8266, .data and .rodata are copied into the 80 KB of RAM at boot; .irom.text stays in flash.
    return { ram: get(".data") + get(".rodata") + get(".bss"), flash: get(".irom.text") };
  };
  const ours = sections("ours");
  const theirs = sections("workshop");
  const pem = size(files.caPem) + size(files.certPem) + size(files.keyPem);
  const der = size(files.caDer) + size(files.certDer) + size(files.keyDer);
  console.log(`esp-certs header, compiled for the ESP8266: RAM ${ours.ram} bytes (anchor table, lengths), flash ${ours.flash} bytes (PROGMEM: DER and precomputed anchor)`);
  console.log(`workshop, xxd -i arrays (not const):       RAM ${theirs.ram} bytes (CA, client certificate and key DER), flash 0 bytes`);
  console.log(`workshop, PEM files on LittleFS:           ${pem} bytes of file system, read and decoded into at least ${der} bytes of heap at every boot`);
}
