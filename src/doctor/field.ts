// The field check (docs/renewal.md): a device whose certificate in the field is inside the
// renewal window, and which has not taken a renewal, needs one before its certificate ends.
import type { Check, CheckResult } from "./check-types.js";
import type { DoctorContext } from "./context.js";
import { EspCertsError } from "../errors.js";
import type { FieldVerdict } from "../renewal/field-state.js";

/** Pure: the warnings for devices inside renew_days whose field has not taken a renewal. */
export function fieldFindings(devices: ({ id: string } & FieldVerdict)[], renewDays: number, now: Date): CheckResult[] {
  const out: CheckResult[] = [];
  for (const d of devices) {
    if (d.kind === "no-state") continue;
    const daysLeft = Math.floor((d.state.until - now.getTime() / 1000) / 86400);
    if (daysLeft >= renewDays) continue;
    const fix =
      d.kind === "current"
        ? `Renew it on its own key and deliver it: esp-certs generate --renew ${d.id}, then esp-certs push --client ${d.id}.`
        : d.kind === "pushed-not-taken"
          ? `Bring ${d.id} online; its serial lines say why a renewal is refused ("cred renew fail reason=...").`
          : `Deliver the renewal: esp-certs push --client ${d.id}.`;
    out.push({ check: "field", level: "warning", text: `${d.id}'s certificate in the field ends in ${daysLeft} days (renew_days ${renewDays}) and it has not taken a renewal`, fix });
  }
  return out;
}

async function checkField(ctx: DoctorContext): Promise<CheckResult[]> {
  const { fieldStatus } = await import("../renewal/field-state.js");
  try {
    const report = await fieldStatus(ctx.config, { host: ctx.probe.address, port: ctx.probe.port });
    return fieldFindings(report.devices, ctx.config.renewDays, new Date());
  } catch (err) {
    // An unreachable broker is the tls check's finding.
    if (err instanceof EspCertsError) return [];
    throw err;
  }
}

export const FIELD_CHECKS: Check[] = [{ id: "field", run: checkField }];
