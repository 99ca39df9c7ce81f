// The checks that touch the network: does the name resolve here, does the broker accept a
// client of this store over TLS, and does it refuse a revoked one.
import { lookup } from "node:dns/promises";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { Check, CheckResult } from "./check-types.js";
import type { DoctorContext } from "./context.js";
import { diagnose } from "./diagnoses.js";
import { checkMdns } from "./mdns.js";
import { probeBroker } from "./probe.js";
import { APP_ID } from "../config/app-identity.js";
import { clientRole } from "../config/apps.js";
import { defaultAppClient } from "../config/clients.js";
import { restartCommand } from "../broker/reload.js";
import type { StorePaths } from "../store/paths.js";
import { archivedFiles } from "../store/revocations.js";

export const LIVE_TIMEOUT_MS = 5000;

const isMdns = (host: string) => /\.local\.?$/i.test(host);

async function resolves(host: string): Promise<{ address?: string; code?: string }> {
  const timeout = new Promise<{ code: string }>((r) => setTimeout(() => r({ code: "TIMEOUT" }), LIVE_TIMEOUT_MS).unref());
  return Promise.race([lookup(host).then((a) => ({ address: a.address }), (e: NodeJS.ErrnoException) => ({ code: e.code ?? "ERROR" })), timeout]);
}

export async function checkResolves(ctx: DoctorContext): Promise<CheckResult[]> {
  const host = ctx.config.mqttHost;
  if (isIP(host) !== 0) return [];
  const r = await resolves(host);
  if (r.address) return [{ check: "dns", level: "ok", text: `${host} resolves here to ${r.address}` }];
  if (isMdns(host)) {
    return [{ check: "dns", level: "warning", text: `${host} does not resolve on this machine (${r.code}); the device finds it by mDNS, which this machine may not use`, fix: "Make sure the broker machine answers mDNS (Bonjour/Avahi) on the devices' network." }];
  }
  return [{ check: "dns", level: "problem", text: `${host} does not resolve (${r.code}): the device cannot find the broker`, fix: "Fix the name in DNS, or set mqtt_host to a name that resolves (e.g. <hostname>.local) and run \"esp-certs generate\"." }];
}

/**
 * Whom the live check connects as when --client is not given. The broker names a client by its
 * certificate (use_username_as_clientid), so the check replaces that client's live session:
 * esp-certs' own client, whose sessions (push, status --live) are short, rather than Node-RED's.
 * A store made before esp-certs had its own client: the first app, else the first active client.
 */
function defaultProbeClient(ctx: DoctorContext, s: StorePaths): string {
  const own = s.client(APP_ID);
  if (existsSync(own.certPem) && existsSync(own.keyPem)) return APP_ID;
  const c = ctx.config;
  // A client the broker should accept: not a revoked one.
  const active = c.clients.filter((id) => !ctx.revocation.revokedClients.has(id));
  const app = defaultAppClient(c);
  return app !== undefined && active.includes(app) ? app : (active[0] ?? c.clients[0]);
}

export async function checkConnection(ctx: DoctorContext): Promise<CheckResult[]> {
  const c = ctx.config;
  const s = ctx.store.paths;
  const client = ctx.probe.client ?? defaultProbeClient(ctx, s);
  let material: { ca: Buffer; cert: Buffer; key: Buffer };
  try {
    material = { ca: readFileSync(s.caCertPem), cert: readFileSync(s.client(client).certPem), key: readFileSync(s.client(client).keyPem) };
  } catch {
    if (ctx.revocation.revokedClients.has(client)) {
      return [{ check: "tls", level: "problem", text: `cannot try the broker as ${client}: it is revoked, and the broker refuses it`, fix: `Connect as an active client (--client ID), or bring ${client} back with a new key: esp-certs generate --rekey ${client}.` }];
    }
    return [{ check: "tls", level: "problem", text: `cannot try the broker: the store has no certificate and key for ${client}`, fix: 'Run "esp-certs generate".' }];
  }
  const target = `${ctx.probe.address}:${ctx.probe.port}`;
  const probe = (maxVersion?: "TLSv1.2") =>
    probeBroker({
      address: ctx.probe.address,
      port: ctx.probe.port,
      servername: c.mqttHost,
      ...material,
      // Not the client's own id, which a broker of your own would drop (e.g. Node-RED) to let us in.
      // esp-certs' broker folder names every client by its certificate instead
      // (use_username_as_clientid): there the check replaces that client's session (docs/access.md).
      clientId: `${client}-doctor`,
      timeoutMs: LIVE_TIMEOUT_MS,
      maxVersion,
    });
  const as = `as ${client} (${clientRole(c, client)}) to ${target}${ctx.probe.address === c.mqttHost ? "" : ` (name checked: ${c.mqttHost})`}`;
  const o = await probe();
  if (o.ok && o.protocol !== "TLSv1.3") return [{ check: "tls", level: "ok", text: `mutual TLS and MQTT CONNECT ${as}: ${o.protocol}, ${o.ms} ms` }, ...(await checkRevokedRefused(ctx, material.ca))];
  if (o.ok) {
    // The ESP8266's BearSSL speaks TLS 1.2 at most: a broker that insists on 1.3 shuts it out.
    const device = await probe("TLSv1.2");
    if (device.ok) {
      return [{ check: "tls", level: "ok", text: `mutual TLS and MQTT CONNECT ${as}: ${o.protocol} (and TLSv1.2, as the ESP8266), ${o.ms} ms` }, ...(await checkRevokedRefused(ctx, material.ca))];
    }
    const d = diagnose(device, target, c.mqttHost);
    return [{ check: "tls", level: "problem", text: `connection ${as} in TLS 1.2, as the ESP8266 makes it, failed (${o.protocol} works): ${d.cause} [${device.code}]`, fix: d.fix }];
  }
  // A name this machine cannot resolve says nothing about the broker: the check did not run,
  // which is not a pass (the dns line says whether the device may still find it).
  if (/^(ENOTFOUND|EAI_AGAIN)$/.test(o.code)) {
    return [
      {
        check: "tls",
        level: "unchecked",
        text: `could not try the broker: ${ctx.probe.address} does not resolve on this machine [${o.code}]`,
        fix: `Give its address: esp-certs doctor --broker-address <IP> (127.0.0.1 when the broker runs here); the certificate is still checked for ${c.mqttHost}.`,
      },
    ];
  }
  const d = diagnose(o, target, c.mqttHost);
  return [{ check: "tls", level: "problem", text: `connection ${as} failed: ${d.cause} [${o.code}]`, fix: d.fix }];
}

/**
 * The most recently revoked client of this CA whose certificate and key the store keeps in
 * certs/revoked/, while that certificate is within its dates (an expired one is refused anyway,
 * which would prove nothing). Superseded certificates are left out: revokedClients names a
 * client only while its current certificate is the revoked one.
 */
function revokedToTry(ctx: DoctorContext): { id: string; cert: Buffer; key: Buffer } | undefined {
  const { revokedClients, revokedSerials } = ctx.revocation;
  const latest = [...revokedClients.values()].filter((r) => revokedSerials.has(r.serial)).sort((a, b) => b.at.getTime() - a.at.getTime());
  for (const r of latest) {
    const files = archivedFiles(ctx.store.paths, r.id, r.serial);
    try {
      const cert = readFileSync(files.certPem);
      if (new Date(new X509Certificate(cert).validTo) <= ctx.now) continue;
      return { id: r.id, cert, key: readFileSync(files.keyPem) };
    } catch {
      continue; // not kept (an older store, or moved away): try the one revoked before it
    }
  }
  return undefined;
}

/**
 * Mosquitto reads a crlfile line only when it starts (a reload re-reads a CRL it already has): after
 * the first revocation a running broker still lets a revoked certificate complete TLS and MQTT.
 * So, once a client of the store got in, one connection with a revoked client's kept certificate.
 */
async function checkRevokedRefused(ctx: DoctorContext, ca: Buffer): Promise<CheckResult[]> {
  const revoked = revokedToTry(ctx);
  if (revoked === undefined) return [];
  const outcome = await probeBroker({
    address: ctx.probe.address,
    port: ctx.probe.port,
    servername: ctx.config.mqttHost,
    ca,
    cert: revoked.cert,
    key: revoked.key,
    // The revoked client's own id: the broker names it by its certificate (use_username_as_clientid)
    // anyway. Were that revoked device still connected, this takes its session over and the broker
    // drops it, which is no loss for a device that is revoked; the clean session leaves nothing behind.
    clientId: revoked.id,
    timeoutMs: LIVE_TIMEOUT_MS,
  });
  if (outcome.ok) {
    const b = ctx.revocation.broker;
    const restart = b === undefined ? "restart the broker" : b.mode === "local" ? `stop it, then ${restartCommand(b.dir, b.mode)}` : restartCommand(b.dir, b.mode);
    return [
      {
        check: "crl",
        level: "problem",
        text: `the running broker accepts ${revoked.id}'s revoked certificate: it has not loaded the CRL`,
        fix: `Restart Mosquitto (a new crlfile line is read only at start): ${restart}`,
      },
    ];
  }
  // A refusal after the connection was made is the broker's (the store's own client just got in).
  if (outcome.stage !== "connect" && outcome.code !== "TIMEOUT") return [{ check: "crl", level: "ok", text: `the running broker refuses revoked ${revoked.id}` }];
  return [{ check: "crl", level: "unchecked", text: `could not try ${revoked.id}'s revoked certificate at the broker: ${outcome.message} [${outcome.code}]` }];
}

export const LIVE_CHECKS: Check[] = [
  { id: "dns", run: checkResolves },
  { id: "mdns", run: checkMdns },
  { id: "tls", run: checkConnection },
];
