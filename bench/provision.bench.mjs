// One more device for a fleet: `esp-certs provision --client dev## --out` (issue a client, build
// its record; measured) plus esptool's write of one 4 KiB sector, against building and uploading
// a per-device image: esptool's write of the whole image at the same baud rate. Serial time from
// byte counts: 10 bits a byte on the wire (8N1), uncompressed, as esptool's --no-compress sends it.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median, timeOnce } from "./lib.mjs";

const cli = fileURLToPath(new URL("../dist/esp-certs.cjs", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
// A typical ESP8266 sketch with WiFi, BearSSL and PubSubClient: 300-400 KB; the middle of it.
const IMAGE_BYTES = Number(process.env.BENCH_IMAGE_BYTES ?? 350_000);
const SECTOR_BYTES = 4096;
const env = { ...process.env, ESP_CERTS_CA_PASSPHRASE: "bench", NO_COLOR: "1" };

const dir = mkdtempSync(path.join(tmpdir(), "bench-provision-"));
try {
  writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = win10.local\n\n[env:fleet]\nboard = d1_mini\ncustom_esp_certs_client = none\n");
  timeOnce(process.execPath, [cli, "generate"], { cwd: dir, env });
  const issue = [];
  const keep = [];
  for (let i = 0; i < RUNS; i++) {
    const out = path.join(dir, `record-${i}.bin`);
    issue.push(timeOnce(process.execPath, [cli, "provision", "--client", "dev##", "--out", out], { cwd: dir, env }));
    if (statSync(out).size !== SECTOR_BYTES) throw new Error(`${out} is not one sector`);
    keep.push(timeOnce(process.execPath, [cli, "provision", "--client", "dev01", "--out", path.join(dir, `kept-${i}.bin`)], { cwd: dir, env }));
  }
  const issueMs = median(issue);
  console.log(`medians of ${RUNS}: provision --out, new client (issue + record) ${issueMs.toFixed(0)} ms; existing client (record only) ${median(keep).toFixed(0)} ms`);
  for (const baud of [115200, 460800]) {
    const wire = (bytes) => (bytes * 10 * 1000) / baud;
    const one = issueMs + wire(SECTOR_BYTES);
    const image = wire(IMAGE_BYTES);
    console.log(
      `${String(baud).padStart(6)} baud: one more device ${one.toFixed(0).padStart(5)} ms (sector ${wire(SECTOR_BYTES).toFixed(0)} ms on the wire)` +
        `  vs per-device image ${image.toFixed(0).padStart(6)} ms (${IMAGE_BYTES} bytes, build not counted)` +
        `  ratio ${(one / image).toFixed(3)}  bytes ratio ${(SECTOR_BYTES / IMAGE_BYTES).toFixed(4)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
