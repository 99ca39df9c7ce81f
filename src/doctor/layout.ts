// The layout check (docs/flash-layout.md): each environment's flash layout gives the device's
// identity sectors of its own, and esp-certs' linker script is there as esp-certs writes it.
import { existsSync } from "node:fs";
import path from "node:path";
import { EspCertsError, fromSystemError } from "../errors.js";
import { foreignFileFix, layoutFiles, writtenByEspCerts } from "../platformio/layout-file.js";
import { envLayout, layoutAdvice, layoutTooLarge } from "../platformio/layout-setting.js";
import { layoutOfScript } from "../layout/flash-map.js";
import { sameBytes } from "../fs/sync.js";
import type { Check, CheckResult } from "./check-types.js";
import type { DoctorContext } from "./context.js";

function checkLayout(ctx: DoctorContext): CheckResult[] {
  const out: CheckResult[] = [];
  for (const env of ctx.config.environments) {
    const layout = envLayout(env);
    if (layout.kind !== "own") {
      const advice = layoutAdvice(env, layout);
      if (advice !== undefined) out.push({ check: "layout", level: "warning", ...advice });
      if (layout.kind === "core") pushTooLarge(out, env, layout.core.flashSize);
      continue;
    }
    let file;
    try {
      [file] = layoutFiles(ctx.config, env.name);
    } catch (err) {
      if (!(err instanceof EspCertsError)) throw err;
      out.push({ check: "layout", level: "problem", text: `${err.message}: ${err.why}`, fix: err.fix });
      continue;
    }
    const rel = path.relative(ctx.config.projectDir, file.path);
    let ours: boolean | undefined;
    try {
      ours = existsSync(file.path) ? writtenByEspCerts(file.path) : undefined;
    } catch (err) {
      // A folder of that name, or a file it may not read: the build stops there too.
      const failure = fromSystemError(err);
      if (failure === undefined) throw err;
      out.push({ check: "layout", level: "problem", text: `${failure.what}: ${failure.why}`, fix: failure.fix });
      continue;
    }
    if (ours === undefined) {
      out.push({ check: "layout", level: "warning", text: `[env:${env.name}] links with ${rel}, which is not there yet`, fix: 'Run "pio run": its pre-build hook writes it.' });
    } else if (!ours) {
      out.push({ check: "layout", level: "problem", text: `${rel} is not esp-certs' (someone else's file of that name): the build stops there`, fix: foreignFileFix(rel) });
    } else if (!sameBytes(file)) {
      out.push({ check: "layout", level: "warning", text: `${rel} differs from the layout esp-certs writes`, fix: 'Run "pio run": its pre-build hook writes it again.' });
    } else {
      out.push({ check: "layout", level: "ok", text: `[env:${env.name}] links with ${rel}: the device's identity has two flash sectors of its own` });
    }
    const own = layoutOfScript(env.ldscript!);
    if (own !== undefined) pushTooLarge(out, env, own.layout.flashSize);
  }
  return out;
}

function pushTooLarge(out: CheckResult[], env: DoctorContext["config"]["environments"][number], flashSize: number): void {
  const text = layoutTooLarge(env, flashSize);
  if (text !== undefined) out.push({ check: "layout", level: "warning", text, fix: `Name the layout of board ${env.board}'s flash in [env:${env.name}], or the board it is for (docs/flash-layout.md).` });
}

export const LAYOUT_CHECKS: Check[] = [{ id: "layout", run: checkLayout }];
