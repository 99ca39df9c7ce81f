// The workshop's openssl script (the recipe esp-certs replaces, README "What it replaces": every command it runs,
// for the CA, the broker and both clients, with its xxd headers) against, in one run:
// - a fresh `esp-certs init` (CA, broker, dev01, dev02, header and broker folder: the main job);
// - a fresh `esp-certs generate` (the same certificates and the header: what the script makes).
// Target: ratio <= 0.5.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { alternate, scratch, timeOnce } from "./lib.mjs";

const cli = fileURLToPath(new URL("../dist/esp-certs.cjs", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const subj = "/C=GB/ST=DOR/L=Bournemouth/O=MOSQUITTO/OU=MOSQUITTO Corporate";

// The workshop's commands, verbatim in what they do (its hard-coded password included).
const leaf = (name, cn, ext) => `
openssl genrsa -aes256 -passout pass:password123 -out ${name}_key.pem 2048
openssl req -new -sha256 -subj "${subj}/CN=${cn}" -passin pass:password123 -key ${name}_key.pem -out ${name}_crt.csr
openssl x509 -days 3560 -in ${name}_crt.csr -out ${name}_crt.pem -req -sha256 -CA rootCA_certificate.pem -passin pass:password123 -CAkey rootCA_key.pem ${ext} -set_serial ${Math.floor(Math.random() * 1e6)}
openssl rsa -in ${name}_key.pem -passin pass:password123 -out ${name}_key_nopass.pem
openssl x509 -outform der -in ${name}_crt.pem -out ${name}_crt.der
xxd -i ${name}_crt.der ${name}_crt.der.h`;
const script = `set -e
openssl genrsa -aes256 -passout pass:password123 -out rootCA_key.pem 2048
openssl req -new -sha256 -x509 -days 3560 -subj "${subj}/CN=Mosquitto Root CA" -extensions v3_ca -set_serial 1 -passin pass:password123 -key rootCA_key.pem -out rootCA_certificate.pem -config ext.cfg
openssl x509 -outform der -in rootCA_certificate.pem -out rootCA_certificate.der
xxd -i rootCA_certificate.der rootCA_certificate.der.h
${leaf("mqttServer", "win10.local", "-extensions v3_req -extfile srvext.cfg")}
${leaf("dev01", "dev01", "")}
${leaf("dev02", "dev02", "")}
`;
const extCfg = `[req]\ndistinguished_name = dn\n[dn]\n[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n`;
const srvExt = `[v3_req]\nsubjectAltName = @alt_names\n[alt_names]\nDNS.1 = mosquitto\nDNS.2 = localhost\nDNS.3 = win10.local\n`;

const env = { ...process.env, ESP_CERTS_CA_PASSPHRASE: "bench", NO_COLOR: "1" };
const project = () => {
  const dir = scratch("bench-esp-certs-");
  writeFileSync(path.join(dir, "platformio.ini"), "[env:d1_mini]\nboard = d1_mini\n");
  return dir;
};
const workshopRun = () => {
  const dir = scratch("bench-openssl-");
  writeFileSync(path.join(dir, "ext.cfg"), extCfg);
  writeFileSync(path.join(dir, "srvext.cfg"), srvExt);
  return timeOnce("bash", ["-c", script], { cwd: dir });
};
const init = alternate(RUNS, () => timeOnce(process.execPath, [cli, "init", "--host", "win10.local", "--yes"], { cwd: project(), env }), workshopRun);
const gen = alternate(RUNS, () => timeOnce(process.execPath, [cli, "generate", "--host", "win10.local"], { cwd: project(), env }), workshopRun);
const row = (name, r) =>
  console.log(`${name.padEnd(44)} ${r.a.toFixed(0).padStart(5)} ms  vs workshop ${r.b.toFixed(0).padStart(5)} ms  ratio ${(r.a / r.b).toFixed(2)}`);
console.log(`medians of ${RUNS}, alternated; target ratio <= 0.5`);
row("esp-certs init (certs, header, broker folder)", init);
row("esp-certs generate (certs, header)", gen);
