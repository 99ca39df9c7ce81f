// `esp-certs revoke ID`: the CA signs a CRL that lists the client's certificate, the store moves
// its files aside (store/revoke.ts), and the broker folder gets the new CRL (docs/revocation.md).
import path from "node:path";
import { brokerAdvice, syncBrokerFolder } from "../broker/broker.js";
import { loadConfig } from "../config/config.js";
import { ExitCode } from "../errors.js";
import type { RevocationReason } from "../pki/crl.js";
import { reissueCommand } from "../store/inventory.js";
import { passphraseSources } from "../pki/passphrase.js";
import { revoke } from "../store/revoke.js";
import { CertificateStore } from "../store/store.js";
import { noderedAdviceAfterRevoke } from "../nodered/uses.js";
import { colour, info, printJson, warn } from "../ui.js";

export interface RevokeCommandOptions {
  projectDir: string;
  id?: string;
  serial?: string;
  all?: boolean;
  reason?: RevocationReason;
  caPassphraseFile?: string;
  json?: boolean;
}

export async function revokeCommand(o: RevokeCommandOptions): Promise<number> {
  const config = loadConfig(o.projectDir);
  for (const w of config.warnings) warn(w);
  const store = CertificateStore.openForWriting(config);
  const revoked = await revoke(store, { id: o.id, serial: o.serial, all: o.all, reason: o.reason, passphrase: passphraseSources({ interactive: !o.json, caPassphraseFile: o.caPassphraseFile }) });
  // The broker folder, when there is one, gets the new CRL, and the broker a reload: the revoked
  // client loses its topics now, even while connected (docs/access.md).
  const r = { ...revoked, broker: await syncBrokerFolder(store, { revoked: true }) };
  const advice = [...(r.broker ? brokerAdvice(r.broker, r.broker.port) : noBrokerFolder(store)), ...noderedAdviceAfterRevoke(config, r.id)];
  if (o.json) {
    // As docs/commands.md gives it: the reload beside the broker folder.
    const { reload, ...broker } = r.broker ?? { reload: undefined };
    printJson({ ...r, broker: r.broker && broker, reload, advice });
    return ExitCode.ok;
  }
  const rel = (f: string) => path.relative(config.projectDir, f) || f;
  if (r.repaired) warn(`${r.repaired}: this CRL was rebuilt from the manifest's history, which records every revocation.`);
  const serials = r.serials.length === 1 ? `serial ${r.serial}` : `serials ${r.serials.join(", ")}`;
  info(`Revoked ${r.id} (${serials}, ${r.reason}) on ${r.at.slice(0, 10)}.`);
  info(`${"wrote".padEnd(9)}${"CRL".padEnd(20)}${rel(r.crl.file)} (number ${r.crl.number}, valid until ${r.crl.nextUpdate.slice(0, 10)})`);
  if (r.archived) info(`${"moved".padEnd(9)}${`client ${r.id}`.padEnd(20)}${rel(r.archived)}${path.sep}`);
  if (r.broker && r.broker.changed.length > 0) info(`${"wrote".padEnd(9)}${"broker folder".padEnd(20)}${rel(r.broker.dir)} (${r.broker.changed.join(", ")})`);
  for (const line of advice) info(line);
  if (r.archived) info(colour.dim(`To bring ${r.id} back with a new key: ${reissueCommand(config, r.id)}`));
  return ExitCode.ok;
}

/** Without a broker folder, where the CRL must go so that the broker uses it. */
function noBrokerFolder(store: CertificateStore): string[] {
  const crl = store.paths.crlPem;
  return [
    `This project has no broker folder: run "esp-certs broker" (its mosquitto.conf names the CRL), or set "crlfile ${crl}" on your Mosquitto listener.`,
    "Then restart Mosquitto: a restart, not a reload (SIGHUP), shuts out a revoked device that is connected now.",
  ];
}
