/**
 * Everything the header is made from, read from the store, and its digest. This module is
 * the hook's no-op path: it must stay free of ejs and X.509 libraries (node:crypto hashing
 * only), so that `pio run` with nothing to do costs little more than starting node.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { requireConfiguredClient } from "../config/clients.js";
import { NO_CLIENT, type Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { readManifest } from "../store/manifest.js";
import { storePaths } from "../store/paths.js";
import { readTemplate } from "./template-files.js";
import { sha256Hex } from "../units.js";

export const HEADER_TEMPLATE = "esp_certs.h.ejs";
/** Bump when the renderer's code (not the template) changes what it writes. */
const RENDERER_VERSION = "2";
/**
 * The header's second line: the digest of its inputs, and (from renderer 2) a digest of the
 * rest of its text, so that a header damaged after it was written (truncated, a byte changed)
 * is told apart from a current one without rendering it again.
 */
const DIGEST_LINE = /^\/\* esp-certs inputs sha256: ([0-9a-f]{64})(?: body sha256: ([0-9a-f]{64}))? \*\/\n/m;
/** Only private headers count as current: one found readable by others is written (and re-moded) again. */
const PRIVATE = 0o077;

export interface HeaderInputs {
  /** NO_CLIENT for a fleet image: no client certificate or key (empty buffers). */
  clientId: string;
  host: string;
  port: number;
  /** `mqtt_address`, or "" when none is set. */
  address: string;
  /** Latest issue time of the CA, broker and client certificates (unix seconds). */
  generatedAt: number;
  caDer: Buffer;
  serverDer: Buffer;
  clientCertDer: Buffer;
  clientKeyDer: Buffer;
  template: string;
  /** SHA-256 of the CA that the manifest says issued the broker and client certificates. */
  issuedBy: { server: string; client: string };
}

/** Reads the inputs; throws EspCertsError (exit 2) naming what is missing and how to make it. */
export function readHeaderInputs(config: Config, clientId: string): HeaderInputs {
  const withClient = clientId !== NO_CLIENT;
  if (withClient) {
    requireConfiguredClient(
      config.clients,
      clientId,
      `Cannot render the header for client "${clientId}"`,
      `Add it to clients in [esp_certs] of platformio.ini and run "esp-certs generate", or name one of those.`,
      "so it has no certificate",
    );
  }
  const store = storePaths(config.certDir);
  const client = store.client(clientId);
  const files = { caDer: store.caCertDer, serverDer: store.serverCertDer, ...(withClient ? { clientCertDer: client.certDer, clientKeyDer: client.keyDer } : {}) };
  const missing = Object.values(files).filter((f) => !existsSync(f));
  const manifest = readManifest(store.manifest);
  const issued = withClient ? manifest?.clients[clientId] : { issuedAt: 0, caSha256: manifest?.ca.sha256 ?? "" };
  if (missing.length > 0 || manifest?.server === undefined || issued === undefined) {
    const why = missing.length > 0 ? `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing` : `${store.manifest} does not record the broker and client "${clientId}" certificates`;
    throw new EspCertsError(`Cannot render the header for client "${clientId}"`, why, 'Run "esp-certs generate" to make the certificates.');
  }
  return {
    clientId,
    host: config.mqttHost,
    port: config.mqttPort,
    address: config.mqttAddress ?? "",
    generatedAt: Math.max(manifest.ca.issuedAt, manifest.server.issuedAt, issued.issuedAt),
    caDer: readFileSync(files.caDer),
    serverDer: readFileSync(files.serverDer),
    clientCertDer: files.clientCertDer === undefined ? Buffer.alloc(0) : readFileSync(files.clientCertDer),
    clientKeyDer: files.clientKeyDer === undefined ? Buffer.alloc(0) : readFileSync(files.clientKeyDer),
    template: readTemplate(HEADER_TEMPLATE),
    issuedBy: { server: manifest.server.caSha256, client: issued.caSha256 },
  };
}

/** SHA-256 over every input that shapes the text, each length-prefixed so that no two input sets collide by concatenation. */
export function inputsDigest(inputs: HeaderInputs): string {
  const h = createHash("sha256");
  const parts: (string | Buffer)[] = [
    RENDERER_VERSION,
    inputs.clientId,
    inputs.host,
    String(inputs.port),
    inputs.address,
    String(inputs.generatedAt),
    // Not the broker certificate, which is not in the header; its re-issue still moves
    // generatedAt (the device's clock floor must not predate it), and so the header.
    inputs.caDer,
    inputs.clientCertDer,
    inputs.clientKeyDer,
    inputs.template,
  ];
  for (const part of parts) {
    const bytes = typeof part === "string" ? Buffer.from(part, "utf8") : part;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    h.update(len).update(bytes);
  }
  return h.digest("hex");
}

/** The digest recorded in a rendered header, or undefined when the file has none. */
export function recordedDigest(headerText: string): string | undefined {
  return DIGEST_LINE.exec(headerText.slice(0, 400))?.[1];
}

const bodyDigest = (textWithoutLine: string) => sha256Hex(textWithoutLine);

/** The rendered text with the digest of its body added to its digest line. */
export function sealHeader(text: string): string {
  const m = DIGEST_LINE.exec(text.slice(0, 400));
  if (m === undefined || m === null) throw new Error("the header template has no digest line");
  const body = text.slice(0, m.index) + text.slice(m.index + m[0].length);
  return `${text.slice(0, m.index)}/* esp-certs inputs sha256: ${m[1]} body sha256: ${bodyDigest(body)} */\n${text.slice(m.index + m[0].length)}`;
}

/** Whether the header's text is all as it was rendered: its body digest matches. */
export function headerIntact(text: string): boolean {
  const m = DIGEST_LINE.exec(text.slice(0, 400));
  if (m === null || m[2] === undefined) return false;
  return bodyDigest(text.slice(0, m.index) + text.slice(m.index + m[0].length)) === m[2];
}

/**
 * Whether the header at `out` was rendered from exactly the store's current inputs.
 * Never throws: a missing store or header just means "not current".
 */
export function headerIsCurrent(config: Config, clientId: string, out = config.header): boolean {
  let text: string;
  try {
    if (process.platform !== "win32" && (statSync(out).mode & PRIVATE) !== 0) return false;
    text = readFileSync(out, "utf8");
  } catch {
    return false;
  }
  const recorded = recordedDigest(text);
  if (recorded === undefined || !headerIntact(text)) return false;
  try {
    return inputsDigest(readHeaderInputs(config, clientId)) === recorded;
  } catch (err) {
    if (err instanceof EspCertsError) return false;
    throw err;
  }
}
