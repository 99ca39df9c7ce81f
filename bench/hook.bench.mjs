// The `pio run` pre-build hook with nothing to do (store and header up to date) against
// `node -e 0`, alternated in one run. Target: ratio <= 1.5. Then what the header costs the
// ESP8266, compiled with xtensa-lx106-elf-gcc, against the workshop's way: PEM files on
// LittleFS plus `xxd -i` arrays (not const, so they sit in RAM).
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { alternate, timeOnce } from "./lib.mjs";

const cli = fileURLToPath(new URL("../dist/esp-certs.cjs", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const env = { ...process.env, ESP_CERTS_CA_PASSPHRASE: "bench", NO_COLOR: "1" };

const dir = mkdtempSync(path.join(tmpdir(), "bench-hook-"));
writeFileSync(
  path.join(dir, "platformio.ini"),
  "[esp_certs]\nmqtt_host = win10.local\n\n[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = dev01\n",
);
const hookArgs = [cli, "--project-dir", dir, "hook", "--env", "d1_mini"];
timeOnce(process.execPath, [cli, "generate"], { cwd: dir, env });
timeOnce(process.execPath, hookArgs, { cwd: dir, env });
const header = path.join(dir, "firmware", "include", "esp_certs.h");
const mtime = statSync(header).mtimeMs;

const quiet = spawnSync(process.execPath, hookArgs, { cwd: dir, env, encoding: "utf8" });
if (quiet.stdout !== "" || quiet.stderr !== "") throw new Error(`the no-op hook printed:\n${quiet.stdout}${quiet.stderr}`);

const { a: hook, b: bare } = alternate(
  RUNS,
  () => timeOnce(process.execPath, hookArgs, { cwd: dir, env }),
  () => timeOnce(process.execPath, ["-e", "0"], { cwd: dir }),
);
if (statSync(header).mtimeMs !== mtime) throw new Error("the no-op hook touched the header");
console.log(`esp-certs hook, nothing to do: ${hook.toFixed(1)} ms (median of ${RUNS})`);
console.log(`node -e 0:                     ${bare.toFixed(1)} ms (median of ${RUNS})`);
console.log(`ratio: ${(hook / bare).toFixed(2)} (target <= 1.5)`);

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
