/**
 * The firmware header (docs/header.md): renders templates/esp_certs.h.ejs from the store for one
 * client, and writes it only when its content changes, so that PlatformIO does not rebuild.
 */
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";
import { NO_CLIENT, type Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { namingPath } from "../fs/atomic.js";
import { keepMode, writeIfChanged } from "../fs/sync.js";
import { checkOutputFile, reservedFolders } from "../fs/output.js";
import { certificatePublicKey, trustAnchorFromCert, CertificateFormatError } from "../bearssl/trust-anchor.js";
import { canonicalIp } from "../config/validate.js";
import { ignoreInGit } from "../fs/gitignore.js";
import { sanOf } from "../store/plan.js";
import { cBytes, cComment, cString } from "./c-source.js";
import { HEADER_TEMPLATE, headerIntact, inputsDigest, readHeaderInputs, recordedDigest, sealHeader, type HeaderInputs } from "./header-inputs.js";
import { sha256Hex } from "../units.js";

/** The header holds the client's private key: owner-only, like the key files. */
const HEADER_MODE = 0o600;

export interface HeaderResult {
  path: string;
  changed: boolean;
  /** The .gitignore that now ignores the header (fs/gitignore.ts), when it had to change. */
  gitignore?: string;
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
  // The header is private, its folder is not: a project's include/ made here stays readable like its sources.
  namingPath(out, () => mkdirSync(path.dirname(out), { recursive: true, mode: 0o755 }));
  // Ignored before it is written: a run killed during the write leaves the key in a temp file beside it.
  const gitignore = current !== text ? ignoreInGit(out, config.projectDir, { temps: true }) : undefined;
  const changed = writeIfChanged(out, text, HEADER_MODE);
  return { path: out, changed, ...(gitignore !== undefined ? { gitignore } : {}) };
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
    address: inputs.address,
    caSubject: ca.subject.replace(/\n/g, ", "),
    caSha256: sha256Hex(inputs.caDer),
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
  const caSha256 = sha256Hex(inputs.caDer);
  const stale = [
    inputs.issuedBy.server !== caSha256 ? "the broker certificate" : undefined,
    inputs.issuedBy.client !== caSha256 ? `the client "${inputs.clientId}" certificate` : undefined,
  ].filter((s) => s !== undefined);
  if (stale.length > 0) {
    throw new EspCertsError(what, `${stale.join(" and ")} ${stale.length === 1 ? "was" : "were"} issued by another CA than the store's`, 'Run "esp-certs generate" to re-issue it.');
  }
}
