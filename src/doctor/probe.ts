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

function utf8Field(s: string): Buffer {
  const b = Buffer.from(s, "utf8");
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** CONNECT, MQTT 3.1.1 (level 4), clean session, keep-alive 30 s, no user name. */
export function connectPacket(clientId: string): Buffer {
  const variable = Buffer.concat([utf8Field("MQTT"), Buffer.from([0x04, 0x02, 0x00, 0x1e])]);
  const body = Buffer.concat([variable, utf8Field(clientId)]);
  return Buffer.concat([Buffer.from([0x10, ...remainingLength(body.length)]), body]);
}

const DISCONNECT = Buffer.from([0xe0, 0x00]);

export function probeBroker(p: ProbeInput): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    let stage: "connect" | "tls" | "mqtt" = "connect";
    let done = false;
    let received = Buffer.alloc(0);
    const finish = (o: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const socket = tls.connect({
      host: p.address,
      port: p.port,
      // An IP as SNI is not allowed; Node then checks the IP SANs against `host`.
      servername: isIP(p.servername) === 0 ? p.servername : undefined,
      ca: p.ca,
      cert: p.cert,
      key: p.key,
      rejectUnauthorized: true,
      maxVersion: p.maxVersion,
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(p.servername, cert),
    });
    const timer = setTimeout(
      () => finish({ ok: false, stage, code: "TIMEOUT", message: `no answer within ${p.timeoutMs / 1000} s` }),
      p.timeoutMs,
    );
    socket.once("connect", () => (stage = "tls"));
    socket.once("secureConnect", () => {
      stage = "mqtt";
      socket.write(connectPacket(p.clientId));
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      if (received[0] !== 0x20) {
        finish({ ok: false, stage, code: "MQTT_PROTOCOL", message: "the broker answered CONNECT with something other than CONNACK" });
        return;
      }
      const rc = received[3];
      const protocol = socket.getProtocol() ?? "TLS";
      socket.write(DISCONNECT);
      if (rc === 0) finish({ ok: true, protocol, ms: Date.now() - started });
      else finish({ ok: false, stage, code: "CONNACK", connackCode: rc, message: `CONNACK return code ${rc}` });
    });
    socket.on("error", (err: NodeJS.ErrnoException) => finish({ ok: false, stage, code: err.code ?? "ERROR", message: err.message }));
    socket.on("close", () => finish({ ok: false, stage, code: "CLOSED", message: "the broker closed the connection" }));
  });
}

export type AttemptOutcome =
  | { accepted: true }
  /** `reached`: the TCP connection was made, so a refusal came from whatever listens there. */
  | { accepted: false; reached: boolean; code: string; message: string };

/**
 * One TLS + MQTT 3.1.1 CONNECT through MQTT.js, with a clean session (the broker keeps nothing of
 * it) and no retry: whether the broker answered CONNACK 0. Disconnects either way.
 */
export async function tryConnect(p: ProbeInput): Promise<AttemptOutcome> {
  const { connect } = await import("mqtt");
  // MQTT.js hands its options to tls.connect, checkServerIdentity and maxVersion too.
  const options: IClientOptions & Pick<tls.ConnectionOptions, "checkServerIdentity" | "maxVersion"> = {
    protocol: "mqtts",
    host: p.address,
    port: p.port,
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
    reconnectPeriod: 0,
    connectTimeout: p.timeoutMs,
  };
  const client = connect(options);
  let reached = false;
  client.stream.once("connect", () => (reached = true));
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: AttemptOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.end(!o.accepted);
      resolve(o);
    };
    const timer = setTimeout(() => finish({ accepted: false, reached, code: "TIMEOUT", message: `no answer within ${p.timeoutMs / 1000} s` }), p.timeoutMs);
    client.once("connect", () => finish({ accepted: true }));
    client.on("error", (err: Error & { code?: string | number }) => finish({ accepted: false, reached, code: String(err.code ?? "ERROR"), message: err.message }));
    client.once("close", () => finish({ accepted: false, reached, code: "CLOSED", message: "the broker closed the connection" }));
  });
}
