/**
 * The firmware header (docs/header.md): renders templates/esp_certs.h.ejs from the store for one
 * client, and writes it only when its content changes, so that PlatformIO does not rebuild.
 */
import { X509Certificate, createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";
import { clientForEnv, loadConfig, NO_CLIENT, type Config } from "../config/config.js";
import { EspCertsError, ExitCode } from "../errors.js";
import { keepMode, writeIfChanged } from "../fs/sync.js";
import { checkOutputFile, reservedFolders } from "../fs/output.js";
import { info, printJson, warn } from "../ui.js";
import { certificatePublicKey, trustAnchorFromCert, CertificateFormatError } from "../bearssl/trust-anchor.js";
import { canonicalIp } from "../config/validate.js";
import { sanOf } from "../pki/plan.js";
import { cBytes, cComment, cString } from "./c-source.js";
import { HEADER_TEMPLATE, headerIntact, inputsDigest, readHeaderInputs, recordedDigest, sealHeader, type HeaderInputs } from "./header-inputs.js";

/** The header holds the client's private key: owner-only, like the key files. */
const HEADER_MODE = 0o600;

export interface HeaderResult {
  path: string;
  changed: boolean;
}

export interface HeaderCommandOptions {
  projectDir: string;
  /** Default: the first environment's custom_esp_certs_client, else the first of clients. */
  client?: string;
  /** Default: `header` of [esp_certs]. Relative to the current directory; a folder gets that file name inside it. */
  out?: string;
  allowIp?: boolean;
  json?: boolean;
}

/** `esp-certs header`: renders the header only; says so when it wrote, nothing when unchanged. */
export async function headerCommand(o: HeaderCommandOptions): Promise<number> {
  const config = loadConfig(o.projectDir, { allowIp: o.allowIp });
  for (const w of config.warnings) warn(w);
  const clientId = o.client ?? clientForEnv(config);
  const out = o.out === undefined ? undefined : path.resolve(o.out);
  // A folder (an include directory) gets the header under its configured name.
  const file = out !== undefined && existsSync(out) && statSync(out).isDirectory() ? path.join(out, path.basename(config.header)) : out;
  const { refuseRevoked } = await import("../pki/revocations.js");
  refuseRevoked(config, clientId);
  const r = await writeHeader(config, clientId, { out: file });
  if (o.json) printJson({ path: r.path, client: clientId, host: config.mqttHost, port: config.mqttPort, changed: r.changed });
  else if (r.changed) info(`wrote ${path.relative(process.cwd(), r.path) || r.path} (client ${clientId}, broker ${config.mqttHost}:${config.mqttPort})`);
  return ExitCode.ok;
}

/**
 * Renders the header for `clientId` into `opts.out` (default `config.header`). Refuses with
 * exit 2, writing nothing, when the client has no certificate, the host is not among the
 * broker certificate's names, or the host is an IP address without --allow-ip.
 */
export async function writeHeader(config: Config, clientId: string, opts: { out?: string } = {}): Promise<HeaderResult> {
  const out = path.resolve(opts.out ?? config.header);
  checkHeaderTarget(config, out);
  const inputs = readHeaderInputs(config, clientId);
  checkInputs(config, inputs);
  const digest = inputsDigest(inputs);
  const current = currentText(out);
  // Current inputs and an intact body: what rendering would give. Only its mode may need taking back.
  if (current !== undefined && recordedDigest(current) === digest && headerIntact(current)) {
    keepMode(out, HEADER_MODE);
    return { path: out, changed: false };
  }
  const text = await renderHeader(inputs, digest);
  return { path: out, changed: writeIfChanged(out, text, HEADER_MODE) };
}

/**
 * Refuses (exit 2, before anything is written, the store included) a header path that is
 * platformio.ini, inside the store or the broker folder, a folder, or a file esp-certs did
 * not write: the header replaces its file whole.
 */
export function checkHeaderTarget(config: Config, out = config.header): void {
  checkOutputFile(out, {
    what: "the header",
    setting: "header in [esp_certs], or --out",
    isOurs: (head) => head.startsWith(HEADER_FIRST_LINE),
    reserved: reservedFolders(config.projectDir, config.certDir),
  });
}

/** Pure apart from loading ejs: the header's text for these inputs. */
export async function renderHeader(inputs: HeaderInputs, digest = inputsDigest(inputs)): Promise<string> {
  const { default: ejs } = await import("ejs");
  const ca = new X509Certificate(inputs.caDer);
  const hasClient = inputs.clientId !== NO_CLIENT;
  const data = {
    digest,
    clientId: hasClient ? inputs.clientId : "",
    hasClient,
    host: inputs.host,
    port: inputs.port,
    caSubject: ca.subject.replace(/\n/g, ", "),
    caSha256: createHash("sha256").update(inputs.caDer).digest("hex"),
    generatedAt: inputs.generatedAt,
    clientKeyIsEc: hasClient && certificatePublicKey(inputs.clientCertDer).type === "ec",
    arrays: [
      { name: "esp_certs_ca_der", comment: "The CA certificate (DER)", bytes: inputs.caDer },
      ...(hasClient
        ? [
            { name: "esp_certs_client_cert_der", comment: `Client certificate of "${cComment(inputs.clientId)}" (DER)`, bytes: inputs.clientCertDer },
            { name: "esp_certs_client_key_der", comment: "Client private key (DER, for br_skey_decoder): SECRET", bytes: inputs.clientKeyDer },
          ]
        : []),
    ],
    anchors: [trustAnchorFromCert(inputs.caDer)],
    bytes: (b: Uint8Array) => cBytes(b),
    str: cString,
    comment: cComment,
  };
  return sealHeader(ejs.render(inputs.template, data, { filename: HEADER_TEMPLATE }));
}

/** How every header esp-certs renders begins (templates/esp_certs.h.ejs). */
const HEADER_FIRST_LINE = "/* Generated by esp-certs";

function currentText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The refusals of docs/configuration.md and docs/header.md, checked before anything is written. */
function checkInputs(config: Config, inputs: HeaderInputs): void {
  const what = `Cannot render the header for client "${inputs.clientId}"`;
  const ipHost = isIP(inputs.host) !== 0;
  if (ipHost && !config.allowIp) {
    throw new EspCertsError(
      what,
      `mqtt_host ${inputs.host} is an IP address, and the ESP8266's BearSSL verifies the broker only by DNS name (it would fail with error 56)`,
      "Set mqtt_host to the broker machine's name, or pass --allow-ip to go on anyway.",
    );
  }
  let server: X509Certificate;
  try {
    server = new X509Certificate(inputs.serverDer);
    trustAnchorFromCert(inputs.caDer);
    if (inputs.clientId !== NO_CLIENT) certificatePublicKey(inputs.clientCertDer);
  } catch (err) {
    const why = err instanceof CertificateFormatError ? err.message : "a certificate in the store cannot be read";
    throw new EspCertsError(what, why, 'Run "esp-certs generate" to re-issue it.');
  }
  // sanOf spells IPs one way: node:crypto prints "::1" as "0:0:0:0:0:0:0:1".
  const san = sanOf(server);
  if (!(ipHost ? san.ips.includes(canonicalIp(inputs.host)) : san.dns.includes(inputs.host.toLowerCase()))) {
    const names = [...san.dns.map((n) => `DNS:${n}`), ...san.ips.map((n) => `IP Address:${n}`)];
    throw new EspCertsError(
      what,
      `the broker certificate's names (${names.join(", ") || "none"}) do not include ${inputs.host}, so the device could not verify the broker`,
      'Run "esp-certs generate" to re-issue the broker certificate for the configured mqtt_host.',
    );
  }
  const caSha256 = createHash("sha256").update(inputs.caDer).digest("hex");
  const stale = [
    inputs.issuedBy.server !== caSha256 ? "the broker certificate" : undefined,
    inputs.issuedBy.client !== caSha256 ? `the client "${inputs.clientId}" certificate` : undefined,
  ].filter((s) => s !== undefined);
  if (stale.length > 0) {
    throw new EspCertsError(what, `${stale.join(" and ")} ${stale.length === 1 ? "was" : "were"} issued by another CA than the store's`, 'Run "esp-certs generate" to re-issue it.');
  }
}
