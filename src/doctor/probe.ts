// The live check: a TLS connection to the broker as a client of the store, then an MQTT
// 3.1.1 CONNECT, because with TLS 1.3 a broker rejects a client certificate only after
// the handshake has "succeeded" on the client's side: only the CONNACK proves it passed.
import { isIP } from "node:net";
import tls from "node:tls";
import type { IClientOptions } from "mqtt";

export interface ProbeInput {
  /** Where to dial: the MQTT host, or --broker-address. */
  address: string;
  port: number;
  /** The name the broker's certificate must carry (the MQTT host). */
  servername: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  clientId: string;
  timeoutMs: number;
  /** "TLSv1.2" to speak as the ESP8266 does (BearSSL has no TLS 1.3); default: the newest both sides have. */
  maxVersion?: "TLSv1.2";
}

export type ProbeOutcome =
  | { ok: true; protocol: string; ms: number }
  | { ok: false; stage: "connect" | "tls" | "mqtt"; code: string; message: string; connackCode?: number };

/**
 * One TLS connection and MQTT 3.1.1 CONNECT through MQTT.js, with a clean session (the broker keeps
 * nothing of it) and no retry; disconnects either way. `stage` says how far it got.
 */
export async function probeBroker(p: ProbeInput): Promise<ProbeOutcome> {
  const { connect } = await import("mqtt");
  const started = Date.now();
  // MQTT.js hands its options to tls.connect, checkServerIdentity and maxVersion too.
  const options: IClientOptions & Pick<tls.ConnectionOptions, "checkServerIdentity" | "maxVersion"> = {
    protocol: "mqtts",
    host: p.address,
    port: p.port,
    // An IP as SNI is not allowed; the name is checked against the certificate below.
    servername: isIP(p.servername) === 0 ? p.servername : undefined,
    checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(p.servername, cert),
    ca: p.ca,
    cert: p.cert,
    key: p.key,
    rejectUnauthorized: true,
    maxVersion: p.maxVersion,
    clientId: p.clientId,
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    reconnectPeriod: 0,
    connectTimeout: p.timeoutMs,
  };
  const client = connect(options);
  const socket = client.stream as tls.TLSSocket;
  let stage: "connect" | "tls" | "mqtt" = "connect";
  socket.once("connect", () => (stage = "tls"));
  socket.once("secureConnect", () => (stage = "mqtt"));
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.end(!o.ok);
      resolve(o);
    };
    const timer = setTimeout(() => finish({ ok: false, stage, code: "TIMEOUT", message: `no answer within ${p.timeoutMs / 1000} s` }), p.timeoutMs);
    client.once("connect", () => finish({ ok: true, protocol: socket.getProtocol() ?? "TLS", ms: Date.now() - started }));
    client.on("error", (err: Error & { code?: string | number }) =>
      // A CONNACK refusal carries its return code as a number; Node's and OpenSSL's codes are strings.
      typeof err.code === "number"
        ? finish({ ok: false, stage, code: "CONNACK", connackCode: err.code, message: `CONNACK return code ${err.code}` })
        : finish({ ok: false, stage, code: err.code ?? "ERROR", message: err.message }),
    );
    client.once("close", () => finish({ ok: false, stage, code: "CLOSED", message: "the broker closed the connection" }));
  });
}
