import { EspCertsError } from "../errors.js";

/**
 * Names a client id may not take, in every command that issues one (clients, provision): `ca`,
 * `server` and `broker` name the store's own certificates, and the broker's host name is its
 * certificate's CN. None of them can be revoked (a CRL cannot revoke its own CA, and the devices
 * check no CRL for the broker), so a client issued under one could never be shut out.
 */
export type ReservedKind = "ca" | "broker";

export function reservedIdKind(id: string, mqttHost: string): ReservedKind | undefined {
  const lower = id.toLowerCase();
  if (lower === "ca") return "ca";
  if (lower === "server" || lower === "broker" || lower === mqttHost.toLowerCase()) return "broker";
  return undefined;
}

/** Refuses a reserved id as a client id (exit 2). */
export function refuseReservedClientId(id: string, mqttHost: string): void {
  const kind = reservedIdKind(id, mqttHost);
  if (kind === undefined) return;
  throw new EspCertsError(
    `Cannot use client id "${id}"`,
    kind === "ca" ? '"ca" names the store\'s CA' : `"${id}" names the broker (its certificate's CN is mqtt_host ${mqttHost})`,
    'Choose an id such as "dev03": a client under this name could never be revoked.',
  );
}

/** Refuses an id that differs from one the store holds only in case (dev01 and DEV01 share files on Windows and macOS). */
export function refuseCaseTwin(id: string, known: Iterable<string>): void {
  const twin = [...known].find((k) => k !== id && k.toLowerCase() === id.toLowerCase());
  if (twin !== undefined) {
    throw new EspCertsError(`Cannot use client id "${id}"`, `the store already has client "${twin}", which differs only in case`, `Use "${twin}", or another id.`);
  }
}
