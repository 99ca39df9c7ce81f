// What every doctor check returns, below the modules of checks (checks.ts, revocation.ts, live.ts, ...).
import type { DoctorContext } from "./context.js";

/** `unchecked`: the check could not run (e.g. the broker's name does not resolve here); not a pass. */
export type Level = "ok" | "warning" | "problem" | "unchecked";

export interface CheckResult {
  check: string;
  level: Level;
  text: string;
  /** The next step, for warnings and problems. */
  fix?: string;
}

export interface Check {
  id: string;
  run(ctx: DoctorContext): CheckResult[] | Promise<CheckResult[]>;
}
