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
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  buildRehearsal, callgrind, callgrindTotal, cli, freePort, massif, massifPeak, rehearse, requireTools, run, scratch, startBroker,
} from "./lib.mjs";

/** Runs the rehearsal (under `wrapper`) until a line matches `until` (or a failure), then ends it. */
function rehearseUntil(firmware, extraEnv, wrapper, until, dump) {
  return rehearse(firmware, {
    extraEnv,
    wrapper,
    stop: (out) => until.test(out) || / (tls|mqtt) fail | cred renew fail /.test(out),
    dump,
    ok: (out) => until.test(out),
    expected: `print ${until}`,
  });
}

/** Peak heap of the firmware under massif. */
async function peakHeap(dir, firmware, extraEnv, until, name) {
  const out = path.join(dir, `massif-${name}.out`);
  await rehearseUntil(firmware, extraEnv, massif(out), until);
  return massifPeak(out);
}

requireTools(["valgrind", "mosquitto", "mosquitto_pub", "make", "g++"]);

const dir = scratch("bench-renewal-");
const port = await freePort();
writeFileSync(path.join(dir, "platformio.ini"), `[esp_certs]\nmqtt_host = win10.local\nmqtt_port = ${port}\nkey_type = rsa2048\nclient_key_type = rsa2048\n`);
run(process.execPath, [cli, "generate"], { cwd: dir });
run(process.execPath, [cli, "header", "--out", path.join(dir, "include", "esp_certs.h")], { cwd: dir });
const header = readFileSync(path.join(dir, "include", "esp_certs.h"), "utf8");
const device = /^#define ESP_CERTS_CLIENT_ID "(.*)"/m.exec(header)[1];
const firmware = buildRehearsal(dir, path.join(dir, "build"));
const broker = await startBroker(dir, port, ["use_username_as_clientid true"]);
try {
  const flash = (name) => ({ ESP_CERTS_FLASH: path.join(dir, `flash-${name}.bin`) });
  const cg = path.join(dir, "callgrind-handshake.out");
  await rehearseUntil(firmware, flash("handshake"), callgrind(cg), / mqtt ok /);
  const handshake = callgrindTotal(`${cg}.1`);
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
  // `cred renewed` is printed inside the handling that is counted: its dump comes just after.
  await rehearseUntil(firmware, { ...flash("renewal"), ESP_CERTS_MEASURE: "renewal" }, callgrind(cr), / cred renewed /, `${cr}.1`);
  const renewal = callgrindTotal(`${cr}.1`);
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
