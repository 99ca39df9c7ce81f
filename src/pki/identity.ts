/**
 * Which certificate of the store a thing is about: the CA, the broker, or one client.
 * A value, never a string to parse back ("client dev01"): status, doctor, generate and
 * the manifest's history share it.
 */
export type CertId = { role: "ca" } | { role: "server" } | { role: "client"; id: string };

export const CA_ID = { role: "ca" } as const satisfies CertId;
export const SERVER_ID = { role: "server" } as const satisfies CertId;
export const clientId = (id: string): CertId & { role: "client" } => ({ role: "client", id });

/** How messages name it: "CA", "broker", "client dev01". */
export function certLabel(c: CertId): string {
  return c.role === "client" ? `client ${c.id}` : c.role === "ca" ? "CA" : "broker";
}

export function sameCertId(a: CertId, b: CertId): boolean {
  return a.role === b.role && (a.role !== "client" || a.id === (b as { id: string }).id);
}
