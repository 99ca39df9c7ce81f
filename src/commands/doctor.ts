// `esp-certs doctor`: runs the checks (doctor/run.ts; data, in checks.ts and live.ts) and prints one line
// each. Exit 0 when no check found a problem, 1 otherwise (warnings do not count).
import { ExitCode } from "../errors.js";
import { colour, info, printJson } from "../ui.js";
import type { CheckResult, Level } from "../doctor/check-types.js";
import { runDoctor, type DoctorOptions } from "../doctor/run.js";

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
