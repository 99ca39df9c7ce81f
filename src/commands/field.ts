// `esp-certs status --live`: after the store, what the field holds, read through the broker
// (docs/renewal.md).
import { parseAddress } from "../config/address.js";
import { loadConfig } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { describeField, fieldStatus, type FieldVerdict } from "../renewal/field-state.js";
import { colour, info, printJson } from "../ui.js";

export interface FieldOptions {
  projectDir: string;
  brokerAddress?: string;
  json?: boolean;
}

const TINT: Record<FieldVerdict["kind"], (s: string) => string> = { current: colour.green, "pushed-not-taken": colour.yellow, "field-ends": colour.yellow, "no-state": colour.dim };

export async function fieldCommand(o: FieldOptions): Promise<number> {
  const config = loadConfig(o.projectDir);
  const report = await fieldStatus(config, parseAddress(o.brokerAddress, config.mqttHost, config.mqttPort));
  if (o.json) {
    printJson(report);
    return ExitCode.ok;
  }
  info(colour.bold(`Field (retained state at ${report.broker})`));
  if (report.devices.length === 0) info("  no devices in the store");
  for (const d of report.devices) info(`  ${TINT[d.kind](describeField(d.id, d))}`);
  return ExitCode.ok;
}
