// `esp-certs status`: the store's certificates and CRL (pki/status.ts collects them), one block each.
import { isConfiguredClient } from "../config/clients.js";
import { loadConfig, type Config } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { reissueCommand } from "../store/inventory.js";
import { crlStatus, storeStatus, supersededStatus, type CertStatus } from "../store/status.js";
import { CertificateStore } from "../store/store.js";
import { colour, info, printJson, warn } from "../ui.js";

/** Colon-separated fingerprint, as browsers and `openssl x509 -fingerprint` show it. */
export function fingerprint(sha256: string): string {
  return sha256.toUpperCase().match(/../g)!.join(":");
}

/**
 * What each state means and which command acts on it. A provisioned client (not in `clients`)
 * holds its identity in the board's flash: a new certificate reaches it through `provision`.
 */
function stateText(config: Config, c: CertStatus): string {
  const provisioned = c.role === "client" && !isConfiguredClient(config.clients, c.name);
  const toBoard = provisioned ? `, then "esp-certs provision --port <port> --client ${c.name}" writes it to the board` : "";
  switch (c.state) {
    case "active":
      return colour.green("active");
    case "expiring":
      return colour.yellow(`expiring in ${c.daysLeft} days: "esp-certs generate" renews it${toBoard}`);
    case "expired":
      return colour.red(`expired: "esp-certs generate" renews it${toBoard}`);
    case "revoked":
      return colour.red(`revoked ${c.revoked!.at.slice(0, 10)} (${c.revoked!.reason}); "${reissueCommand(config, c.name)}" brings it back with a new key`);
  }
}

export function statusCommand(o: { projectDir: string; json?: boolean }): number {
  const config = loadConfig(o.projectDir);
  const store = CertificateStore.open(config);
  for (const w of store.warnings()) warn(w);
  const certs = storeStatus(store);
  const crl = crlStatus(store);
  const superseded = supersededStatus(store);
  if (o.json) {
    printJson({ certDir: config.certDir, certificates: certs, superseded, crl });
    return ExitCode.ok;
  }
  if (certs.length === 0) {
    info(`No certificates in ${config.certDir}. Run "esp-certs generate" to make them.`);
    return ExitCode.ok;
  }
  for (const c of certs) {
    const names = [...c.dns, ...c.ips].join(", ");
    const expiry = c.daysLeft < 0 ? colour.red(`EXPIRED ${-c.daysLeft} days ago`) : `${c.daysLeft} days left`;
    info(`${colour.bold(c.label)}  ${c.file}`);
    info(`  subject   ${c.subject}`);
    if (names) info(`  names     ${names}`);
    info(`  key       ${c.keyType}${c.role !== "ca" && !c.signedByCa ? colour.red("  (not signed by this store's CA)") : ""}`);
    info(`  serial    ${c.serial}`);
    info(`  sha256    ${fingerprint(c.sha256)}`);
    info(`  expires   ${c.notAfter.slice(0, 10)} (${expiry})`);
    info(`  state     ${stateText(config, c)}`);
    for (const r of c.renewedFrom ?? []) {
      info(`  renewed   from ${r.serial} (same key), which stays valid until ${r.notAfter.slice(0, 10)}: a device that still holds it connects; "esp-certs push" delivers the renewal`);
    }
  }
  for (const r of superseded) {
    info(`${colour.bold(`superseded ${r.name}`)}  serial ${r.serial}, replaced by ${r.replacedBy}`);
    info(`  state     ${colour.yellow(`still valid until ${r.notAfter.slice(0, 10)} (a renewal on the same key); "esp-certs revoke --serial ${r.serial}" shuts it out`)}`);
  }
  if (crl) info(`${colour.bold("CRL")}  ${crl.file}\n  number    ${crl.number}, ${crl.revoked} revoked\n  valid to  ${crl.nextUpdate.slice(0, 10)}`);
  return ExitCode.ok;
}
