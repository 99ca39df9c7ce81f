// `esp-certs doctor`: runs the checks (data, in checks.ts and live.ts) and prints one line
// each. Exit 0 when no check found a problem, 1 otherwise (warnings do not count).
import { requireConfiguredClient } from "../config/clients.js";
import { loadConfig, projectFolder, requireProject, type Config } from "../config/config.js";
import { EspCertsError, ExitCode } from "../errors.js";
import { colour, info, printJson } from "../ui.js";
import { OFFLINE_CHECKS, type CheckResult, type Level } from "../doctor/checks.js";
import { loadContext, parseAddress } from "../doctor/context.js";
import { LIVE_CHECKS } from "../doctor/live.js";
import { REVOCATION_CHECKS } from "../doctor/revocation.js";

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
  if (opts.client !== undefined) requireConfiguredClient(config.clients, opts.client, `Cannot connect as "${opts.client}"`, "Name one of those with --client.");
  const ctx = await loadContext(config, opts);
  const results: CheckResult[] = [];
  for (const check of CHECKS) results.push(...(await check.run(ctx)));
  return results;
}

const MARK: Record<Level, (s: string) => string> = {
  ok: (s) => colour.green(s),
  warning: (s) => colour.yellow(s),
  problem: (s) => colour.red(s),
  unchecked: (s) => colour.yellow(s),
};
const LABEL: Record<Level, string> = { ok: "ok", warning: "warning", problem: "problem", unchecked: "not run" };

export function formatResult(r: CheckResult): string[] {
  const lines = [`${MARK[r.level](LABEL[r.level].padEnd(8))} ${r.check.padEnd(7)} ${r.text}`];
  if (r.fix && r.level !== "ok") lines.push(`${" ".repeat(17)}-> ${r.fix}`);
  return lines;
}

/**
 * Exit 0 only when every check ran and none found a problem. A check that could not run (the
 * live TLS check when the broker's name does not resolve here) exits 1 as well: exit 0 means
 * verified, and a script that runs `doctor && flash` must not take "not tried" for that.
 */
export async function doctorCommand(opts: DoctorOptions): Promise<number> {
  const results = await runDoctor(opts);
  const count = (level: Level) => results.filter((r) => r.level === level).length;
  const [problems, warnings, unchecked] = [count("problem"), count("warning"), count("unchecked")];
  if (opts.json) {
    printJson({ ok: problems === 0 && unchecked === 0, problems, warnings, unchecked, checks: results });
  } else {
    for (const r of results) for (const line of formatResult(r)) info(line);
    info(summary(problems, warnings, results.filter((r) => r.level === "unchecked").map((r) => r.check)));
  }
  return problems === 0 && unchecked === 0 ? ExitCode.ok : ExitCode.failed;
}

function summary(problems: number, warnings: number, notRun: string[]): string {
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
  const notRunText = notRun.length === 0 ? "" : `${plural(notRun.length, "check")} could not run (${notRun.join(", ")})`;
  if (problems > 0) return `${plural(problems, "problem")}, ${plural(warnings, "warning")}${notRunText ? `; ${notRunText}` : ""}.`;
  if (notRun.length > 0) return `No problem found, but not verified: ${notRunText}${warnings ? `; ${plural(warnings, "warning")}` : ""}.`;
  return `All checks passed${warnings ? ` (${plural(warnings, "warning")})` : ""}.`;
}
