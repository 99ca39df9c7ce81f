// `esp-certs revoke ID`: the CA signs a CRL that lists the client's certificate, the store moves
// its files aside, and the broker folder gets the new CRL (docs/revocation.md).
import type { X509Certificate } from "node:crypto";
import path from "node:path";
import { brokerAdvice, brokerFolderExists, writeBrokerFolder, type BrokerResult } from "../broker/broker.js";
import { isConfiguredClient } from "../config/clients.js";
import { loadConfig, type Config } from "../config/config.js";
import { EspCertsError, ExitCode } from "../errors.js";
import { removeStaleTemps } from "../fs/atomic.js";
import { passphraseSources } from "../pki/passphrase.js";
import { buildCrl, crlMatchesCa, crlSignedBy, DEFAULT_REASON, normalSerial, type ReadCrl, type RevocationReason } from "../pki/crl.js";
import { crlNextUpdate } from "../pki/crl-dates.js";
import { CertificateAuthority } from "../pki/ca.js";
import { defaultDeps } from "../pki/ensure.js";
import { storeClients } from "../pki/inventory.js";
import type { IssueDeps } from "../pki/issue.js";
import type { PassphraseSources } from "../pki/passphrase.js";
import { storePaths, type StorePaths } from "../pki/paths.js";
import { reissueCommand } from "../pki/inventory.js";
import { readManifest } from "../pki/manifest.js";
import { archiveRevoked, finishRevocations, recordRevocations, requireStoreCrl, revokedClients, revokedWhen, writeStoreCrl } from "../pki/revocations.js";
import { readCert } from "../pki/store.js";
import { colour, info, printJson, warn } from "../ui.js";

export interface RevokeReport {
  id: string;
  serial: string;
  /** ISO date of the revocation, as the CRL records it. */
  at: string;
  reason: RevocationReason;
  crl: { file: string; number: string; nextUpdate: string };
  /** Where the certificate and key went. */
  archived?: string;
  broker?: BrokerResult & { port: number };
}

const STATUS = 'Run "esp-certs status" to see every client and its state.';

/** Refuses what cannot or need not be revoked, before the CA passphrase is asked for. */
function refuse(config: Config, id: string): void {
  if (id.toLowerCase() === "ca") {
    throw new EspCertsError(
      "Cannot revoke the CA",
      "a CRL is signed by the CA and cannot revoke the CA itself",
      'If its key leaked, make a new CA: "esp-certs generate --new-ca" (the old one goes to certs/backup/), then reflash every device.',
    );
  }
  if (["server", "broker", config.mqttHost.toLowerCase()].includes(id.toLowerCase())) {
    throw new EspCertsError(
      "Cannot revoke the broker",
      "the devices check no CRL (BearSSL has none), so revoking the broker's certificate would not stop them trusting it",
      'If the broker\'s key leaked, make a new CA: "esp-certs generate --new-ca", then reflash every device; to give the broker a new key only, move certs/server.key.pem away and run "esp-certs generate".',
    );
  }
}

interface Target {
  id: string;
  serial: string;
  cert: X509Certificate;
}

function findTarget(config: Config, p: StorePaths, id: string, crl: ReadCrl | undefined): Target {
  const revoked = revokedClients(p, crl, config.clients).get(id);
  const cert = readCert(p.client(id).certPem, `Move ${p.client(id).certPem} away; the store's other files are unchanged.`);
  if (cert === undefined) {
    if (revoked !== undefined) {
      throw new EspCertsError(
        `Cannot revoke ${id}`,
        `it was revoked on ${revokedWhen(revoked)}, and has no newer certificate`,
        `Nothing to do. To bring it back with a new key: ${reissueCommand(config, id)}`,
      );
    }
    const known = isConfiguredClient(config.clients, id);
    throw new EspCertsError(
      `Cannot revoke ${id}`,
      known ? "it has no certificate in the store yet" : `the store has no client "${id}" (clients: ${storeClients(config).join(", ")})`,
      known ? "Nothing to revoke: a client without a certificate cannot connect. Remove it from clients in [esp_certs] if it is not wanted." : STATUS,
    );
  }
  return { id, serial: normalSerial(cert.cert.serialNumber), cert: cert.cert };
}

export async function revoke(
  config: Config,
  opts: { id: string; reason?: RevocationReason; passphrase: PassphraseSources },
  deps: IssueDeps = defaultDeps(),
): Promise<RevokeReport> {
  refuse(config, opts.id);
  const p = storePaths(config.certDir);
  removeStaleTemps(p.dir);
  const authority = CertificateAuthority.open(p, { passphrase: opts.passphrase, manifest: readManifest(p.manifest), deps });
  if (authority === undefined) throw new EspCertsError(`Cannot revoke ${opts.id}`, `the store has no CA (${p.caCertPem})`, 'Run "esp-certs generate" first.');
  const ca = authority.cert;
  const previous = requireStoreCrl(p);
  if (previous !== undefined && !crlMatchesCa(previous, ca.der)) {
    throw new EspCertsError(`Cannot revoke ${opts.id}`, `${p.crlPem} is an earlier CA's`, 'Run "esp-certs generate" first: it moves that CRL to the old CA\'s backup and starts one for this CA.');
  }
  if (previous !== undefined && !(await crlSignedBy(previous, ca.der, deps.crypto))) {
    throw new EspCertsError(`Cannot revoke ${opts.id}`, `the signature of ${p.crlPem} does not verify with this store's CA`, "Restore the CRL from your backup: it lists every revoked certificate.");
  }
  // What an interrupted run left undone (files still to move, the manifest's record) first.
  const done = revokedClients(p, previous, config.clients);
  finishRevocations(p, done);
  recordRevocations(p, done.values());
  const target = findTarget(config, p, opts.id, previous);
  const cert = target.cert;
  if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) {
    throw new EspCertsError(`Cannot revoke ${opts.id}`, "its certificate was not issued by this store's CA, so the broker refuses it already", 'Run "esp-certs generate" to issue it again from this CA, or leave it.');
  }

  const now = deps.now();
  const signer = await authority.signer();
  const entry = { at: now, reason: opts.reason ?? DEFAULT_REASON };
  const content = {
    revoked: [...(previous?.revoked ?? []), { serial: target.serial, ...entry }],
    number: (previous?.number ?? 0n) + 1n,
    thisUpdate: now,
    nextUpdate: crlNextUpdate(now, config.certDays, new Date(ca.cert.validTo)),
  };
  // From this write on, the certificate is revoked; everything after it is tidying up that
  // the next run finishes if this one is killed.
  writeStoreCrl(p, await buildCrl(content, { der: ca.der, key: signer.key }, deps.crypto));
  const archived = archiveRevoked(p, opts.id, target.serial);
  recordRevocations(p, [{ id: opts.id, serial: target.serial, ...entry }]);
  const broker = brokerFolderExists(config) ? { ...(await writeBrokerFolder(config)), port: config.mqttPort } : undefined;
  return {
    id: opts.id,
    serial: target.serial,
    at: entry.at.toISOString(),
    reason: entry.reason,
    crl: { file: p.crlPem, number: content.number.toString(), nextUpdate: content.nextUpdate.toISOString() },
    archived,
    broker,
  };
}

export interface RevokeCommandOptions {
  projectDir: string;
  id: string;
  reason?: RevocationReason;
  caPassphraseFile?: string;
  json?: boolean;
}

export async function revokeCommand(o: RevokeCommandOptions): Promise<number> {
  const config = loadConfig(o.projectDir);
  for (const w of config.warnings) warn(w);
  const r = await revoke(config, { id: o.id, reason: o.reason, passphrase: passphraseSources({ interactive: !o.json, caPassphraseFile: o.caPassphraseFile }) });
  const advice = r.broker ? brokerAdvice(r.broker, r.broker.port) : noBrokerFolder(config);
  if (o.json) {
    printJson({ ...r, advice });
    return ExitCode.ok;
  }
  const rel = (f: string) => path.relative(config.projectDir, f) || f;
  info(`Revoked ${r.id} (serial ${r.serial}, ${r.reason}) on ${r.at.slice(0, 10)}.`);
  info(`${"wrote".padEnd(9)}${"CRL".padEnd(20)}${rel(r.crl.file)} (number ${r.crl.number}, valid until ${r.crl.nextUpdate.slice(0, 10)})`);
  if (r.archived) info(`${"moved".padEnd(9)}${`client ${r.id}`.padEnd(20)}${rel(r.archived)}${path.sep}`);
  if (r.broker && r.broker.changed.length > 0) info(`${"wrote".padEnd(9)}${"broker folder".padEnd(20)}${rel(r.broker.dir)} (${r.broker.changed.join(", ")})`);
  for (const line of advice) info(line);
  info(colour.dim(`To bring ${r.id} back with a new key: ${reissueCommand(config, r.id)}`));
  return ExitCode.ok;
}

/** Without a broker folder, where the CRL must go so that the broker uses it. */
function noBrokerFolder(config: Config): string[] {
  const crl = storePaths(config.certDir).crlPem;
  return [
    `This project has no broker folder: run "esp-certs broker" (its mosquitto.conf names the CRL), or set "crlfile ${crl}" on your Mosquitto listener.`,
    "Then restart Mosquitto: a restart, not a reload (SIGHUP), shuts out a revoked device that is connected now.",
  ];
}
