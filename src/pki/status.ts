import { existsSync, readdirSync } from "node:fs";
import { loadConfig, type Config } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { colour, info, printJson } from "../ui.js";
import { CA_ID, certLabel, clientId, SERVER_ID, type CertId } from "./identity.js";
import { keyTypeOf } from "./keys.js";
import { storePaths } from "./paths.js";
import { sanOf } from "./plan.js";
import { readCert, sha256Hex } from "./store.js";

/** `esp-certs status`: what the store holds, read from the certificates themselves. */
export interface CertStatus {
  role: CertId["role"];
  /** "ca", "server", or the client id (--json readers; `label` is the typed identity's name). */
  name: string;
  /** "CA", "broker", "client dev01". */
  label: string;
  file: string;
  subject: string;
  dns: string[];
  ips: string[];
  serial: string;
  sha256: string;
  keyType: string;
  notAfter: string;
  daysLeft: number;
  /** Whether the CA in the store signed it (the CA: whether it is self-signed). */
  signedByCa: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function storeStatus(config: Config, now = new Date()): CertStatus[] {
  const p = storePaths(config.certDir);
  const fix = "Run \"esp-certs doctor\" for what to do.";
  const ca = readCert(p.caCertPem, fix);
  const entries: { id: CertId; file: string }[] = [
    { id: CA_ID, file: p.caCertPem },
    { id: SERVER_ID, file: p.serverCertPem },
  ];
  if (existsSync(p.clientsDir)) {
    for (const f of readdirSync(p.clientsDir).filter((n) => n.endsWith(".crt.pem")).sort()) {
      const id = f.slice(0, -".crt.pem".length);
      entries.push({ id: clientId(id), file: p.client(id).certPem });
    }
  }
  const out: CertStatus[] = [];
  for (const e of entries) {
    const stored = e.id.role === "ca" ? ca : readCert(e.file, fix);
    if (!stored) continue;
    const { dns, ips } = sanOf(stored.cert);
    const notAfter = new Date(stored.cert.validTo);
    out.push({
      role: e.id.role,
      name: e.id.role === "client" ? e.id.id : e.id.role,
      label: certLabel(e.id),
      file: e.file,
      subject: stored.cert.subject.replace(/\n/g, ", "),
      dns,
      ips,
      serial: stored.cert.serialNumber.toLowerCase(),
      sha256: sha256Hex(stored.der),
      keyType: keyTypeOf(stored.cert.publicKey) ?? stored.cert.publicKey.asymmetricKeyType ?? "unknown",
      notAfter: notAfter.toISOString(),
      daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
      signedByCa: ca !== undefined && stored.cert.checkIssued(ca.cert) && stored.cert.verify(ca.cert.publicKey),
    });
  }
  return out;
}

/** Colon-separated fingerprint, as browsers and `openssl x509 -fingerprint` show it. */
export function fingerprint(sha256: string): string {
  return sha256.toUpperCase().match(/../g)!.join(":");
}

export function statusCommand(o: { projectDir: string; json?: boolean }): number {
  const config = loadConfig(o.projectDir);
  const certs = storeStatus(config);
  if (o.json) {
    printJson({ certDir: config.certDir, certificates: certs });
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
  }
  return ExitCode.ok;
}
