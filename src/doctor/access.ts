// The doctor's access check (docs/access.md): the broker folder's mosquitto.conf confines clients
// (acl_file, use_username_as_clientid) and its acl holds the store's rules, not hand-edited or
// stale ones.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { accessClients } from "../broker/access.js";
import { aclDrift, renderAcl } from "../broker/acl.js";
import { BROKER_FILES, pathsModeOf } from "../broker/conf.js";
import { reloadCommand } from "../broker/reload.js";
import { EspCertsError } from "../errors.js";
import type { Check, CheckResult } from "./check-types.js";
import type { DoctorContext } from "./context.js";

const SYNC_RESTART = 'Run "esp-certs broker", then restart the broker (a reload does not apply this line).';

export function checkAccess(ctx: DoctorContext): CheckResult[] {
  if (ctx.broker === undefined) return [];
  const dir = ctx.broker.dir;
  const rel = path.relative(ctx.config.projectDir, dir) || ".";
  const conf = readFileSync(path.join(dir, BROKER_FILES.conf), "utf8");
  const problem = (text: string, fix: string): CheckResult => ({ check: "access", level: "problem", text, fix });
  const out: CheckResult[] = [];
  if (!/^acl_file\s/m.test(conf)) {
    out.push(problem(`${rel}/mosquitto.conf names no acl_file: every client may read and write every topic, another device's too`, 'Run "esp-certs broker", then restart the broker.'));
  }
  if (!/^use_username_as_clientid\s+true\s*$/m.test(conf)) {
    out.push(problem(`${rel}/mosquitto.conf lacks "use_username_as_clientid true": a device that announces another's client id disconnects it`, SYNC_RESTART));
  }
  let wanted: string;
  try {
    wanted = renderAcl(accessClients(ctx.store));
  } catch (err) {
    if (err instanceof EspCertsError) return out; // an unreadable CRL: the crl check says so
    throw err;
  }
  const reload = `Run "esp-certs broker", then reload the broker: ${reloadCommand(dir, pathsModeOf(conf) ?? "docker")}`;
  const file = path.join(dir, BROKER_FILES.acl);
  if (!existsSync(file)) {
    out.push(problem(`${rel}/${BROKER_FILES.acl} is missing: Mosquitto does not start with an acl_file it cannot open`, reload));
    return out;
  }
  const drift = aclDrift(readFileSync(file, "utf8"), wanted);
  if (drift.length > 0) out.push(problem(`${rel}/${BROKER_FILES.acl} is not the store's (hand-edited, or stale): ${drift.join("; ")}`, reload));
  if (out.length > 0) return out;
  const clients = accessClients(ctx.store);
  const apps = clients.filter((c) => c.role === "app" && !c.revoked).map((c) => c.id);
  const revoked = clients.filter((c) => c.revoked).length;
  const text = `${rel}/${BROKER_FILES.acl} is the store's: apps ${apps.join(", ") || "(none)"} may use every topic, ${revoked === 0 ? "no client is revoked" : revoked === 1 ? "1 revoked client has no topic" : `${revoked} revoked clients have no topic`}, every device only its own <id>/#`;
  return [{ check: "access", level: "ok", text }];
}

export const ACCESS_CHECKS: Check[] = [{ id: "access", run: checkAccess }];
