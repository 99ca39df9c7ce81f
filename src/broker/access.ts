// The store's clients as the access rules see them: role from `apps`, revoked from the CRL.
import type { CertificateStore } from "../store/store.js";
import type { AccessClient } from "./acl.js";

/**
 * Every client the store knows, in its order (the store's client records). An unreadable CRL
 * stops here (exit 2) rather than giving a revoked client back its topics.
 */
export function accessClients(store: CertificateStore): AccessClient[] {
  return store.clients().map((c) => ({ id: c.id, role: c.role, revoked: c.state === "revoked" }));
}
