// Revoking one client: the CA signs a CRL that lists its certificate, and the store moves its
// files aside (docs/revocation.md). The command then gives the broker folder the new CRL.
import type { X509Certificate } from "node:crypto";
import { isConfiguredClient } from "../config/clients.js";
import type { Config } from "../config/config.js";
import { EspCertsError } from "../errors.js";
import { removeStaleTemps } from "../fs/atomic.js";
import { crlMatchesCa, crlSignedBy, DEFAULT_REASON, normalSerial, type ReadCrl, type RevocationReason } from "../pki/crl.js";
import { defaultDeps } from "../pki/ensure.js";
import { reissueCommand, storeClients } from "../pki/inventory.js";
import type { IssueDeps } from "../pki/issue.js";
import type { PassphraseSources } from "../pki/passphrase.js";
import type { StorePaths } from "../pki/paths.js";
import { archiveRevoked, finishRevocations, recordRevocations, revokedClients, revokedWhen } from "../pki/revocations.js";
import { readCert } from "../pki/store.js";
import { writeNextCrl } from "./crl.js";
import type { CertificateStore } from "./store.js";

export interface RevokeReport {
  id: string;
  serial: string;
  /** ISO date of the revocation, as the CRL records it. */
  at: string;
  reason: RevocationReason;
  crl: { file: string; number: string; nextUpdate: string };
  /** Where the certificate and key went. */
  archived?: string;
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
  store: CertificateStore,
  opts: { id: string; reason?: RevocationReason; passphrase: PassphraseSources },
  deps: IssueDeps = defaultDeps(),
): Promise<RevokeReport> {
  const { config, paths: p } = store;
  refuse(config, opts.id);
  removeStaleTemps(p.dir);
  const authority = store.ca(opts.passphrase, deps);
  if (authority === undefined) throw new EspCertsError(`Cannot revoke ${opts.id}`, `the store has no CA (${p.caCertPem})`, 'Run "esp-certs generate" first.');
  const ca = authority.cert;
  const previous = store.crl();
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

  const signer = await authority.signer();
  const entry = { at: deps.now(), reason: opts.reason ?? DEFAULT_REASON };
  // From this write on, the certificate is revoked; everything after it is tidying up that
  // the next run finishes if this one is killed.
  const content = await writeNextCrl(p, config, { der: ca.der, key: signer.key, notAfter: new Date(ca.cert.validTo) }, previous, { add: [{ serial: target.serial, ...entry }] }, deps);
  const archived = archiveRevoked(p, opts.id, target.serial);
  recordRevocations(p, [{ id: opts.id, serial: target.serial, ...entry }]);
  return {
    id: opts.id,
    serial: target.serial,
    at: entry.at.toISOString(),
    reason: entry.reason,
    crl: { file: p.crlPem, number: content.number.toString(), nextUpdate: content.nextUpdate.toISOString() },
    archived,
  };
}
