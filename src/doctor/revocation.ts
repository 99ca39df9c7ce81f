// The doctor's revocation checks (docs/revocation.md): the store's CRL is readable, this CA's,
// and far from its nextUpdate; the broker folder serves that same CRL; no firmware header holds a
// revoked identity. Data like checks.ts: each reads the context and returns result lines.
import path from "node:path";
import type { Check, CheckResult } from "./check-types.js";
import type { DoctorContext } from "./context.js";
import { headerDefine, headerRevocation } from "./header-reader.js";
import { RENEW_WITHIN_DAYS } from "../pki/renewal-window.js";
import { DAY_MS } from "../units.js";

const RESIGN = 'Run "esp-certs generate" (it re-signs the CRL; it needs the CA passphrase), then restart the broker.';
const SYNC = 'Run "esp-certs broker", then restart the broker.';
const day = (d: Date) => d.toISOString().slice(0, 10);

export function checkCrl(ctx: DoctorContext): CheckResult[] {
  const r = ctx.revocation;
  const rel = path.relative(ctx.config.projectDir, r.file);
  if (r.error !== undefined) {
    return [{ check: "crl", level: "problem", text: `${rel} ${r.error}: revoked clients may get in, or Mosquitto may not start`, fix: "Restore it from your backup: it is the list of every revoked certificate." }];
  }
  if (r.forgotten.length > 0) {
    const what = `${r.crl === undefined ? `${rel} is missing` : `${rel} leaves out ${r.forgotten.length} revocation(s)`} that the manifest's history records (serial ${r.forgotten.map((f) => f.serial).join(", ")})`;
    return [{ check: "crl", level: "problem", text: `${what}: after a restart the broker lets those certificates in`, fix: 'Run "esp-certs generate": it signs the CRL again from the manifest\'s history (it needs the CA passphrase), then restart the broker.' }];
  }
  if (r.crl === undefined) return [{ check: "crl", level: "ok", text: "no client is revoked (no CRL yet)" }];
  if (!r.signedByCa) {
    return [{ check: "crl", level: "problem", text: `${rel} is not signed by this store's CA: Mosquitto refuses every client with it`, fix: 'Run "esp-certs generate": it moves an earlier CA\'s CRL to that CA\'s backup and signs one for this CA. If the CRL is this CA\'s but damaged, restore it from your backup.' }];
  }
  const left = r.crl.nextUpdate.getTime() - ctx.now.getTime();
  if (left <= 0) {
    return [{ check: "crl", level: "problem", text: `${rel} expired on ${day(r.crl.nextUpdate)} (nextUpdate): Mosquitto refuses EVERY client until it is re-signed`, fix: RESIGN }];
  }
  if (left < RENEW_WITHIN_DAYS * DAY_MS) {
    return [{ check: "crl", level: "warning", text: `${rel} expires in ${Math.ceil(left / DAY_MS)} days (${day(r.crl.nextUpdate)}); after that Mosquitto refuses every client`, fix: RESIGN }];
  }
  return [{ check: "crl", level: "ok", text: `${rel}: ${r.crl.revoked.length} revoked, valid until ${day(r.crl.nextUpdate)}` }];
}

export function checkBrokerCrl(ctx: DoctorContext): CheckResult[] {
  const b = ctx.revocation.broker;
  const crl = ctx.revocation.crl;
  if (b === undefined || crl === undefined) return [];
  const rel = path.relative(ctx.config.projectDir, b.dir) || ".";
  if (!b.confHasCrlfile) {
    const level = crl.revoked.length > 0 ? "problem" : "warning";
    return [{ check: "crl", level, text: `${rel}/mosquitto.conf has no crlfile: ${crl.revoked.length > 0 ? `the ${crl.revoked.length} revoked certificate(s) still get in` : "a revocation would not reach the broker"}`, fix: SYNC }];
  }
  if (b.crlPem === undefined) return [{ check: "crl", level: "problem", text: `${rel}/certs/ca.crl.pem is missing: Mosquitto will not start with its crlfile`, fix: SYNC }];
  if (!b.crlPem.equals(b.storeCrlPem)) {
    const stale = b.nextUpdate !== undefined && b.nextUpdate <= ctx.now ? `, and it expired on ${day(b.nextUpdate)} (Mosquitto refuses every client)` : "";
    return [{ check: "crl", level: "problem", text: `${rel}/certs/ca.crl.pem is not the store's CRL${stale}`, fix: SYNC }];
  }
  return [{ check: "crl", level: "ok", text: `${rel}/ serves the store's CRL` }];
}

export function checkRevokedIdentities(ctx: DoctorContext): CheckResult[] {
  const text = ctx.header.text;
  const revoked = ctx.revocation.revokedSerials;
  if (text === undefined || revoked.size === 0) return [];
  const id = headerDefine(text, "ESP_CERTS_CLIENT_ID");
  const hit = headerRevocation(ctx, text);
  if (hit === undefined) return [];
  const rel = path.relative(ctx.config.projectDir, ctx.header.file);
  return [
    {
      check: "crl",
      level: "problem",
      text: `${rel} holds ${id}'s certificate revoked on ${day(hit.at)} (${hit.reason ?? "no reason given"}): a device built from it is refused by the broker`,
      fix: `Build for another client, or bring ${id} back with a new key: esp-certs generate --rekey ${id}, then flash the device.`,
    },
  ];
}

export const REVOCATION_CHECKS: Check[] = [
  { id: "crl", run: checkCrl },
  { id: "crl-broker", run: checkBrokerCrl },
  { id: "crl-header", run: checkRevokedIdentities },
];
