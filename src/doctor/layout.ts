// The layout check (docs/flash-layout.md): each environment's flash layout gives the device's
// identity sectors of its own, and esp-certs' linker script is there as esp-certs writes it.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { EspCertsError } from "../errors.js";
import { LDSCRIPT_MARKER } from "../layout/ldscript.js";
import { layoutFiles } from "../platformio/layout-file.js";
import { envLayout, layoutAdvice } from "../platformio/layout-setting.js";
import { sameBytes } from "../fs/sync.js";
import type { Check, CheckResult } from "./check-types.js";
import type { DoctorContext } from "./context.js";

function checkLayout(ctx: DoctorContext): CheckResult[] {
  const out: CheckResult[] = [];
  for (const env of ctx.config.environments) {
    const layout = envLayout(env);
    if (layout.kind !== "own") {
      const advice = layoutAdvice(env, layout);
      if (advice !== undefined) out.push({ check: "layout", level: "warning", text: advice });
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
    if (!existsSync(file.path)) {
      out.push({ check: "layout", level: "warning", text: `[env:${env.name}] links with ${rel}, which is not there yet`, fix: 'Run "pio run": its pre-build hook writes it.' });
    } else if (!readFileSync(file.path, "utf8").startsWith(LDSCRIPT_MARKER)) {
      out.push({ check: "layout", level: "problem", text: `${rel} is not esp-certs' (someone else's file of that name): the build stops there`, fix: "Rename your own linker script, or move it away so that esp-certs can write its layout there." });
    } else if (!sameBytes(file)) {
      out.push({ check: "layout", level: "warning", text: `${rel} differs from the layout esp-certs writes`, fix: 'Run "pio run": its pre-build hook writes it again.' });
    } else {
      out.push({ check: "layout", level: "ok", text: `[env:${env.name}] links with ${rel}: the device's identity has two flash sectors of its own` });
    }
  }
  return out;
}

export const LAYOUT_CHECKS: Check[] = [{ id: "layout", run: checkLayout }];
