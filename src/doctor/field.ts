// The field check (docs/renewal.md): a device whose certificate in the field is inside the
// renewal window, and which has not taken a renewal, needs one before its certificate ends.
import type { Check, CheckResult } from "./check-types.js";
import type { DoctorContext } from "./context.js";
import type { Config } from "../config/types.js";
import { EspCertsError } from "../errors.js";
import { renewalWindowMs } from "../pki/renewal-window.js";
import { DAY_MS } from "../units.js";
import type { FieldVerdict } from "../renewal/field-state.js";

/**
 * Pure: the warnings for devices inside the renewal window whose field has not taken a renewal.
 * The window is generate's: renew_days, or half of cert_days when that is shorter.
 */
export function fieldFindings(devices: ({ id: string } & FieldVerdict)[], config: Pick<Config, "renewDays" | "certDays">, now: Date): CheckResult[] {
  const windowDays = renewalWindowMs(config.certDays, config.renewDays) / DAY_MS;
  const out: CheckResult[] = [];
  for (const d of devices) {
    if (d.kind === "no-state") continue;
    const daysLeft = Math.floor((d.state.until - now.getTime() / 1000) / 86400);
    if (daysLeft >= windowDays) continue;
    const fix =
      d.kind === "current"
        ? `Renew it on its own key and deliver it: esp-certs generate --renew ${d.id}, then esp-certs push --client ${d.id}.`
        : d.kind === "pushed-not-taken"
          ? `Bring ${d.id} online; its serial lines say why a renewal is refused ("cred renew fail reason=...").`
          : `Deliver the renewal: esp-certs push --client ${d.id}.`;
    out.push({ check: "field", level: "warning", text: `${d.id}'s certificate in the field ends in ${daysLeft} days (renewal window ${windowDays} days) and it has not taken a renewal`, fix });
  }
  return out;
}

async function checkField(ctx: DoctorContext): Promise<CheckResult[]> {
  const { fieldStatus } = await import("../renewal/field-state.js");
  try {
    const report = await fieldStatus(ctx.config, { host: ctx.probe.address, port: ctx.probe.port });
    return fieldFindings(report.devices, ctx.config, new Date());
  } catch (err) {
    // An unreachable broker is the tls check's finding.
    if (err instanceof EspCertsError) return [];
    throw err;
  }
}

export const FIELD_CHECKS: Check[] = [{ id: "field", run: checkField }];
