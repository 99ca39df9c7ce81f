// Runs doctor's checks in order and collects their results; the command prints them.
import { loadConfig, projectFolder, requireProject, type Config } from "../config/config.js";
import { EspCertsError, ExitCode } from "../errors.js";
import type { CheckResult } from "./check-types.js";
import { OFFLINE_CHECKS } from "./checks.js";
import { parseAddress } from "../config/address.js";
import { loadContext } from "./context.js";
import { CertificateStore } from "../store/store.js";
import { ACCESS_CHECKS } from "./access.js";
import { FIELD_CHECKS } from "./field.js";
import { LAYOUT_CHECKS } from "./layout.js";
import { LIVE_CHECKS } from "./live.js";
import { REVOCATION_CHECKS } from "./revocation.js";

export const CHECKS = [...OFFLINE_CHECKS, ...LAYOUT_CHECKS, ...REVOCATION_CHECKS, ...ACCESS_CHECKS, ...LIVE_CHECKS, ...FIELD_CHECKS];

export interface DoctorOptions {
  projectDir: string;
  /** ADDR[:PORT] to dial instead of the MQTT host; the name checked stays the host. */
  brokerAddress?: string;
  /** The client to connect as; default Node-RED's (dev02). */
  client?: string;
  json?: boolean;
}

export async function runDoctor(opts: DoctorOptions): Promise<CheckResult[]> {
  // Outside a project there is nothing to check: the same refusal as every other command.
  requireProject(projectFolder(opts.projectDir));
  let config: Config;
  try {
    // An IP host is reported by its own check, with the reason, rather than refused here.
    config = loadConfig(opts.projectDir, { allowIp: true });
  } catch (err) {
    if (!(err instanceof EspCertsError) || err.exitCode !== ExitCode.usage) throw err;
    return [{ check: "config", level: "problem", text: `${err.what}: ${err.why}`, fix: err.fix }];
  }
  parseAddress(opts.brokerAddress, config.mqttHost, config.mqttPort);
  // Any client the store issued (a provisioned one too), as status and nodered take it.
  const store = CertificateStore.open(config);
  const known = store.clientIds();
  if (opts.client !== undefined && !known.includes(opts.client)) {
    throw new EspCertsError(`Cannot connect as "${opts.client}"`, `it is not one of the store's clients (${known.join(", ")})`, "Name one of those with --client, or add it to clients in [esp_certs].");
  }
  const ctx = await loadContext(config, { ...opts, store });
  const results: CheckResult[] = [];
  for (const check of CHECKS) results.push(...(await check.run(ctx)));
  return results;
}
