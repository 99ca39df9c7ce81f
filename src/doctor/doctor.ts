// `esp-certs doctor`: runs the checks (data, in checks.ts and live.ts) and prints one line
// each. Exit 0 when no check found a problem, 1 otherwise (warnings do not count).
import { loadConfig, type Config } from "../config/config.js";
import { EspCertsError, ExitCode } from "../errors.js";
import { colour, info, printJson } from "../ui.js";
import { OFFLINE_CHECKS, type CheckResult, type Level } from "./checks.js";
import { loadContext, parseAddress } from "./context.js";
import { LIVE_CHECKS } from "./live.js";
import { REVOCATION_CHECKS } from "./revocation.js";

export const CHECKS = [...OFFLINE_CHECKS, ...REVOCATION_CHECKS, ...LIVE_CHECKS];

export interface DoctorOptions {
  projectDir: string;
  /** ADDR[:PORT] to dial instead of the MQTT host; the name checked stays the host. */
  brokerAddress?: string;
  /** The client to connect as; default Node-RED's (dev02). */
  client?: string;
  json?: boolean;
}

export async function runDoctor(opts: DoctorOptions): Promise<CheckResult[]> {
  let config: Config;
  try {
    // An IP host is reported by its own check, with the reason, rather than refused here.
    config = loadConfig(opts.projectDir, { allowIp: true });
  } catch (err) {
    if (!(err instanceof EspCertsError) || err.exitCode !== ExitCode.usage) throw err;
    return [{ check: "config", level: "problem", text: `${err.what}: ${err.why}`, fix: err.fix }];
  }
  parseAddress(opts.brokerAddress, config.mqttHost, config.mqttPort);
  if (opts.client !== undefined && !config.clients.includes(opts.client)) {
    throw new EspCertsError(`Cannot connect as "${opts.client}"`, `it is not one of clients (${config.clients.join(", ")})`, "Name one of those with --client.");
  }
  const ctx = await loadContext(config, opts);
  const results: CheckResult[] = [];
  for (const check of CHECKS) results.push(...(await check.run(ctx)));
  return results;
}

const MARK: Record<Level, (s: string) => string> = {
  ok: (s) => colour.green(s),
  warning: (s) => colour.yellow(s),
  problem: (s) => colour.red(s),
};

export function formatResult(r: CheckResult): string[] {
  const lines = [`${MARK[r.level](r.level.padEnd(8))} ${r.check.padEnd(7)} ${r.text}`];
  if (r.fix && r.level !== "ok") lines.push(`${" ".repeat(17)}-> ${r.fix}`);
  return lines;
}

export async function doctorCommand(opts: DoctorOptions): Promise<number> {
  const results = await runDoctor(opts);
  const problems = results.filter((r) => r.level === "problem").length;
  const warnings = results.filter((r) => r.level === "warning").length;
  if (opts.json) {
    printJson({ ok: problems === 0, problems, warnings, checks: results });
  } else {
    for (const r of results) for (const line of formatResult(r)) info(line);
    const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
    info(problems === 0 ? `All checks passed${warnings ? ` (${plural(warnings, "warning")})` : ""}.` : `${plural(problems, "problem")}, ${plural(warnings, "warning")}.`);
  }
  return problems === 0 ? ExitCode.ok : ExitCode.failed;
}
