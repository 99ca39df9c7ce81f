// The store's clients as the access rules see them: role from `apps`, revoked from the CRL.
import { clientRole } from "../config/apps.js";
import type { Config } from "../config/config.js";
import { storeClients } from "../store/inventory.js";
import { storePaths } from "../store/paths.js";
import { requireStoreCrl, revokedClients } from "../store/revocations.js";
import type { AccessClient } from "./acl.js";

/**
 * Every client the store knows, in its order. An unreadable CRL stops here (exit 2) rather than
 * giving a revoked client back its topics.
 */
export function accessClients(config: Config): AccessClient[] {
  const p = storePaths(config.certDir);
  const ids = storeClients(config);
  const revoked = revokedClients(p, requireStoreCrl(p), ids);
  return ids.map((id) => ({ id, role: clientRole(config, id), revoked: revoked.has(id) }));
}
