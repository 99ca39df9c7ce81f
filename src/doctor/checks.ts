// The checks of `esp-certs doctor`, as data: each reads the context and returns result
// lines; none prints or exits. The live ones (name lookup, TLS) are in live.ts.
import { type X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { readFileSync } from "node:fs";
import path from "node:path";
import { reloadApplies } from "../broker/broker.js";
import { BROKER_FILES, pathsModeOf } from "../broker/conf.js";
import { reloadCommand } from "../broker/reload.js";
import { isConfiguredClient, notOneOfClients } from "../config/clients.js";
import { clientForEnv } from "../config/config.js";
import { ipHostWarning } from "../config/validate.js";
import { CA_FIX } from "../pki/ca.js";
import { certLabel } from "../pki/identity.js";
import { MANIFEST_FIX } from "../store/manifest.js";
import type { Check, CheckResult } from "./check-types.js";
import type { CertEntry, DoctorContext } from "./context.js";
import { headerBytes, headerDefine, headerRevocation } from "./header-reader.js";
import { DAY_MS, sha256Hex } from "../units.js";

const GENERATE = 'Run "esp-certs generate".';
export const EXPIRY_WARNING_DAYS = 30;

/** OIDs of the extended key usages BearSSL and Mosquitto (OpenSSL) look for. */
const EKU = { serverAuth: "1.3.6.1.5.5.7.3.1", clientAuth: "1.3.6.1.5.5.7.3.2" } as const;

const ok = (check: string, text: string): CheckResult => ({ check, level: "ok", text });
const warning = (check: string, text: string, fix?: string): CheckResult => ({ check, level: "warning", text, fix });
const problem = (check: string, text: string, fix?: string): CheckResult => ({ check, level: "problem", text, fix });

const present = (ctx: DoctorContext) => ctx.certs.filter((e): e is CertEntry & { cert: X509Certificate } => e.cert !== undefined);
const ca = (ctx: DoctorContext) => ctx.certs.find((e) => e.id.role === "ca")?.cert;
const server = (ctx: DoctorContext) => ctx.certs.find((e) => e.id.role === "server")?.cert;
const label = (e: CertEntry) => certLabel(e.id);

export function checkConfig(ctx: DoctorContext): CheckResult[] {
  const c = ctx.config;
  const out = [ok("config", `platformio.ini: host ${c.mqttHost}:${c.mqttPort}, clients ${c.clients.join(", ")}`)];
  if (!c.hasSection) out.push(warning("config", "platformio.ini has no [esp_certs] section: the defaults are in use", 'Run "esp-certs init" to write them down.'));
  // An IP host is the host check's problem, said once there with its fix.
  for (const w of c.warnings.filter((w) => w !== ipHostWarning(c.mqttHost))) out.push(warning("config", w));
  return out;
}

export function checkHostIsName(ctx: DoctorContext): CheckResult[] {
  const host = ctx.config.mqttHost;
  if (isIP(host) === 0) return [ok("host", `the device dials a name (${host}), not an IP address`)];
  return [
    problem(
      "host",
      `mqtt_host is an IP address (${host}): the ESP8266's BearSSL matches only DNS names, so the device can never verify the broker`,
      "Set mqtt_host to the broker machine's name (e.g. win10.local), then run \"esp-certs generate\".",
    ),
  ];
}

export function checkStore(ctx: DoctorContext): CheckResult[] {
  const out: CheckResult[] = [];
  for (const e of ctx.certs) {
    const rel = (f: string) => path.relative(ctx.config.projectDir, f);
    if (e.error) out.push(problem("store", `${label(e)}: ${rel(e.file)} ${e.error}`, GENERATE));
    if (e.keyError) out.push(problem("store", `${label(e)}: key ${rel(e.keyFile!)} ${e.keyError}`, GENERATE));
  }
  if (ctx.caKey?.verdict === "mismatch") out.push(problem("store", `CA: ${ctx.caKey.why}`, CA_FIX));
  if (ctx.caKey?.verdict === "unknown") {
    out.push(warning("store", "CA: ca.key.pem is not the key file the manifest recorded for this CA (re-encrypted, or replaced)", 'If you re-encrypted it, nothing is wrong: the next signing run of "esp-certs generate" checks it. Otherwise restore the CA\'s key from your backup.'));
  }
  if (ctx.manifestError !== undefined) out.push(problem("store", `manifest.json: ${ctx.manifestError}`, MANIFEST_FIX));
  return out.length > 0 ? out : [ok("store", `${ctx.certs.length} certificates and their keys in ${path.relative(ctx.config.projectDir, ctx.config.certDir) || "."}/`)];
}

export function checkServerNames(ctx: DoctorContext): CheckResult[] {
  const cert = server(ctx);
  if (!cert) return [];
  const c = ctx.config;
  const matches = (name: string) => (isIP(name) ? cert.checkIP(name) : cert.checkHost(name, { wildcards: false })) !== undefined;
  // For an IP host no certificate helps the device (the host check says why, once): not repeated here.
  const ipHost = isIP(c.mqttHost) !== 0;
  if (!ipHost && !matches(c.mqttHost)) {
    return [problem("names", `the broker certificate does not name ${c.mqttHost} (it has ${cert.subjectAltName ?? "no subjectAltName"}): devices will refuse it`, `${GENERATE} It re-issues the broker certificate; then "esp-certs broker" and restart the broker.`)];
  }
  const missing = [...c.serverNames, ...c.serverIps].filter((n) => n !== c.mqttHost && !matches(n));
  if (missing.length > 0) return [warning("names", `the broker certificate lacks ${missing.join(", ")} from server_names/server_ips`, GENERATE)];
  return [ok("names", matches(c.mqttHost) ? `the broker certificate names ${c.mqttHost}` : `the broker certificate holds server_names and server_ips`)];
}

export function checkChain(ctx: DoctorContext): CheckResult[] {
  const root = ca(ctx);
  if (!root) return [];
  const out: CheckResult[] = [];
  if (!root.ca || !root.verify(root.publicKey)) out.push(problem("chain", "the CA certificate is not a self-signed CA certificate", GENERATE));
  for (const e of present(ctx).filter((x) => x.id.role !== "ca")) {
    if (!e.cert.checkIssued(root) || !e.cert.verify(root.publicKey)) {
      const fix = e.id.role === "server" ? `${GENERATE} Then "esp-certs broker" and restart the broker.` : GENERATE;
      out.push(problem("chain", `${label(e)}: not signed by this store's CA (${e.cert.issuer.replace(/\n/g, ", ")}): the other side will reject it`, fix));
    }
  }
  return out.length > 0 ? out : [ok("chain", "every certificate chains to the CA")];
}

export function checkPurpose(ctx: DoctorContext): CheckResult[] {
  const out: CheckResult[] = [];
  for (const e of present(ctx).filter((x) => x.id.role !== "ca")) {
    const want = e.id.role === "server" ? "serverAuth" : "clientAuth";
    const usages = e.cert.keyUsage; // node:crypto names the *extended* key usages so
    if (usages !== undefined && !usages.includes(EKU[want])) {
      out.push(problem("purpose", `${label(e)}: its extended key usage lacks ${want} (${usages.join(", ")}): TLS peers refuse it`, GENERATE));
    }
    if (e.key && !e.cert.checkPrivateKey(e.key)) out.push(problem("purpose", `${label(e)}: the key file does not belong to the certificate`, GENERATE));
  }
  return out.length > 0 ? out : [ok("purpose", "broker: serverAuth, clients: clientAuth; every key matches its certificate")];
}

export function checkExpiry(ctx: DoctorContext): CheckResult[] {
  const out: CheckResult[] = [];
  const now = ctx.now.getTime();
  for (const e of present(ctx)) {
    const from = new Date(e.cert.validFrom).getTime();
    const to = new Date(e.cert.validTo).getTime();
    const fix = e.id.role === "ca" ? 'Run "esp-certs generate --new-ca" (every device needs the new header).' : GENERATE;
    if (from > now) out.push(problem("expiry", `${label(e)}: not valid before ${e.cert.validFrom}: is this machine's clock right?`));
    else if (to <= now) out.push(problem("expiry", `${label(e)}: expired on ${e.cert.validTo}`, fix));
    else if (to - now < EXPIRY_WARNING_DAYS * DAY_MS) out.push(warning("expiry", `${label(e)}: expires in ${Math.ceil((to - now) / DAY_MS)} days (${e.cert.validTo})`, fix));
  }
  return out.length > 0 ? out : [ok("expiry", `nothing expires within ${EXPIRY_WARNING_DAYS} days`)];
}

export function checkHeader(ctx: DoctorContext): CheckResult[] {
  const rel = path.relative(ctx.config.projectDir, ctx.header.file);
  const text = ctx.header.text;
  if (text === undefined) return [warning("header", `${rel} does not exist yet`, 'Run "esp-certs generate" (or "pio run", whose hook writes it).')];
  const root = ca(ctx);
  const id = headerDefine(text, "ESP_CERTS_CLIENT_ID");
  const shaInHeader = headerDefine(text, "ESP_CERTS_CA_SHA256")?.toLowerCase();
  const fix = `Run "esp-certs header" (or "pio run"), then flash the device.`;
  const out: CheckResult[] = [];
  if (root && shaInHeader !== sha256Hex(root.raw)) {
    out.push(problem("header", `${rel} holds another CA (ESP_CERTS_CA_SHA256 ${shaInHeader?.slice(0, 16) ?? "missing"}…): the device would reject the broker (error 62)`, fix));
  }
  const host = headerDefine(text, "ESP_CERTS_MQTT_HOST");
  const port = headerDefine(text, "ESP_CERTS_MQTT_PORT");
  if (host !== ctx.config.mqttHost || port !== String(ctx.config.mqttPort)) {
    out.push(problem("header", `${rel} dials ${host}:${port}, the config says ${ctx.config.mqttHost}:${ctx.config.mqttPort}`, fix));
  }
  if (headerDefine(text, "ESP_CERTS_HAS_CLIENT") === "0") {
    return out.length > 0 ? out : [ok("header", `${rel} matches the store (a fleet image: no client; each device gets its own with esp-certs provision)`)];
  }
  const entry = ctx.certs.find((e) => e.id.role === "client" && e.id.id === id);
  // A header with a revoked certificate is the crl check's problem (revocation.ts): no "ok" beside it.
  if (headerRevocation(ctx, text) !== undefined) return out;
  if (id === undefined || !isConfiguredClient(ctx.config.clients, id)) {
    out.push(problem("header", `${rel} is for client ${id ?? "(none)"}, which is ${notOneOfClients(ctx.config.clients)}`, fix));
  } else if (entry?.cert && !headerBytes(text, "esp_certs_client_cert_der")?.equals(entry.cert.raw)) {
    out.push(problem("header", `${rel} holds an older certificate of ${id} than the store`, fix));
  }
  if (out.length > 0) return out;
  const expected = clientForEnv(ctx.config);
  if (id !== expected) return [warning("header", `${rel} is for ${id}; the first environment's client is ${expected}`, 'The next "pio run" rewrites it for the environment it builds.')];
  return [ok("header", `${rel} matches the store (client ${id})`)];
}

export function checkBrokerFolder(ctx: DoctorContext): CheckResult[] {
  if (ctx.broker === undefined) return [];
  const rel = path.relative(ctx.config.projectDir, ctx.broker.dir) || ".";
  if (ctx.broker.stale.length === 0) return [ok("broker", `${rel}/ matches the store`)];
  // The access rules, or a CRL mosquitto.conf names already: a reload applies them (docs/access.md).
  const conf = readFileSync(path.join(ctx.broker.dir, BROKER_FILES.conf), "utf8");
  const then = reloadApplies(ctx.broker.stale) ? `reload the broker: ${reloadCommand(ctx.broker.dir, pathsModeOf(conf) ?? "docker")}` : "restart the broker.";
  return [problem("broker", `${rel}/ is out of step with the store: ${ctx.broker.stale.join(", ")}`, `Run "esp-certs broker", then ${then}`)];
}

/** The offline checks, in the order they are reported. */
export const OFFLINE_CHECKS: Check[] = [
  { id: "config", run: checkConfig },
  { id: "host", run: checkHostIsName },
  { id: "store", run: checkStore },
  { id: "names", run: checkServerNames },
  { id: "chain", run: checkChain },
  { id: "purpose", run: checkPurpose },
  { id: "expiry", run: checkExpiry },
  { id: "header", run: checkHeader },
  { id: "broker", run: checkBrokerFolder },
];
