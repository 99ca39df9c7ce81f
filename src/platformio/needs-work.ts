// The hook's no-op decision about the store: reads the manifest and hashes files, no X.509 library.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { NO_CLIENT, type Config } from "../config/config.js";
import { manifestConfig, readManifest } from "../store/manifest.js";
import { storePaths } from "../store/paths.js";
import { crlNextUpdateOf, crlRenewalDue } from "../pki/crl-dates.js";
import { renewalDue } from "../pki/renewal-window.js";
import { sha256Hex } from "../units.js";
import { ACL_FILE, appsDiffer } from "../broker/acl.js";
import { APP_ID } from "../config/app-identity.js";
import { DEFAULT_BROKER_DIR } from "../fs/output.js";
import { storeBuildFiles } from "./noop-inputs.js";

/**
 * Why `generate` must run before this build, or undefined when the store already holds
 * what the configuration asks for. Reads the manifest and hashes the few files the build
 * uses (no X.509 parsing): fast, and a key or certificate replaced behind the manifest's
 * back (an interrupted --rekey, a CA restored from backup/) sends the hook to generate.
 */
export function storeNeedsWork(config: Config, clientId: string, now: Date): string | undefined {
  const p = storePaths(config.certDir);
  const manifest = readManifest(p.manifest);
  if (manifest === undefined) return "there is no certificate store yet";
  if (existsSync(p.newCaDir)) return "a new CA was being put in place";
  if (!isDeepStrictEqual(manifest.config, manifestConfig(config))) return "[esp_certs] changed since the certificates were issued";
  const withClient = clientId !== NO_CLIENT;
  const client = p.client(clientId);
  const missing = storeBuildFiles(config, clientId).find((f) => !existsSync(f));
  if (missing !== undefined) return `${path.relative(config.projectDir, missing)} is missing`;
  const own = manifest.clients[clientId];
  const recorded: [string, string | undefined][] = [
    [p.caCertDer, manifest.ca.sha256],
    [p.serverCertDer, manifest.server?.sha256],
    [p.serverKey, manifest.server?.keySha256],
    ...(withClient ? ([[client.certDer, own?.sha256], [client.keyPem, own?.keySha256], [client.keyDer, own?.keyDerSha256]] as [string, string | undefined][]) : []),
  ];
  const changed = recorded.find(([file, sha]) => sha !== undefined && sha256Hex(readFileSync(file)) !== sha);
  if (changed !== undefined) return `${path.relative(config.projectDir, changed[0])} is not the file the manifest recorded`;
  const leaves = { "the broker certificate": manifest.server, ...(withClient ? { [`client ${clientId}'s certificate`]: manifest.clients[clientId] } : {}) };
  for (const [name, leaf] of Object.entries(leaves)) {
    if (leaf === undefined) return `${name} is not in the manifest`;
    if (leaf.caSha256 !== manifest.ca.sha256) return `${name} was issued by another CA`;
    if (renewalDue(new Date(leaf.notAfter), now, config.certDays, new Date(manifest.ca.notAfter))) return `${name} expires ${leaf.notAfter.slice(0, 10)}`;
  }
  // Every client is renewed on its own key within renew_days (provisioned ones too: push takes them to the field).
  for (const [id, leaf] of Object.entries(manifest.clients)) {
    if (renewalDue(new Date(leaf.notAfter), now, config.certDays, new Date(manifest.ca.notAfter), config.renewDays)) return `client ${id}'s certificate expires ${leaf.notAfter.slice(0, 10)}`;
  }
  if (existsSync(p.crlPem)) {
    const next = crlNextUpdateOf(readFileSync(p.crlPem, "utf8"));
    if (next === undefined) return `${path.relative(config.projectDir, p.crlPem)} cannot be read`;
    if (crlRenewalDue(next, now, config.certDays, new Date(manifest.ca.notAfter))) return `the CRL expires ${next.toISOString().slice(0, 10)}`;
  }
  return undefined;
}

/**
 * Why the broker folder's access rules must be written again before this build, or undefined:
 * `apps` changed since broker/acl was written (nothing in the store changes with it).
 */
export function accessRulesNeedWork(config: Config): string | undefined {
  const file = path.join(config.projectDir, DEFAULT_BROKER_DIR, ACL_FILE);
  if (!existsSync(file)) return undefined;
  return appsDiffer(readFileSync(file, "utf8"), config.apps, APP_ID) ? `apps in [esp_certs] changed since ${DEFAULT_BROKER_DIR}/${ACL_FILE} was written` : undefined;
}
