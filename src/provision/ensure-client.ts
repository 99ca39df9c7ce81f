/** Issues one client for `provision` through the store: a new key of client_key_type and its certificate. */
import { existsSync } from "node:fs";
import { passphraseSources } from "../pki/passphrase.js";
import type { CertificateStore } from "../store/store.js";
import { brokerAdvice, syncBrokerFolder } from "../broker/broker.js";
import { supersededAdvice } from "../store/revocations.js";
import { maintainCrl } from "../store/crl-refresh.js";

/**
 * Makes the store first when the project has none (CA, broker, configured clients), as its first
 * build would, then issues `id`. One CA for both steps: a passphrase chosen for a new CA is not
 * asked again to sign the client. Returns the warnings, and whether the store was made.
 */
export async function ensureClient(store: CertificateStore, id: string, opts: { interactive: boolean; caPassphraseFile?: string }): Promise<{ madeStore: boolean; warnings: string[] }> {
  const passphrase = passphraseSources(opts);
  const warnings: string[] = [];
  const madeStore = !existsSync(store.paths.manifest);
  if (madeStore) warnings.push(...(await store.ensure({ passphrase })).warnings);
  const issued = await store.issueClient(id, passphrase);
  warnings.push(...issued.warnings);
  if (issued.superseded.length > 0) {
    // The earlier certificates' revocation reaches the CRL and the broker folder in this run.
    const { config } = store;
    const crl = await maintainCrl(config, issued.ca, false, undefined, new Set(issued.superseded.map((s) => s.serial)));
    if (crl.warning) warnings.push(crl.warning);
    warnings.push(...issued.superseded.map((s) => supersededAdvice(config, s)));
    const broker = await syncBrokerFolder(store, { revoked: true, replaced: [id] });
    if (broker) warnings.push(...brokerAdvice(broker, broker.port));
  }
  return { madeStore, warnings };
}
