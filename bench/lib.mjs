// Small helpers shared by the benchmarks.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const scratchDirs = [];
process.on("exit", () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed when the benchmark exits: the stores made in it hold private keys. */
export function scratch(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** Wall time of one command in milliseconds; throws when it fails. */
export function timeOnce(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return ms;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `a` and `b` alternately `n` times (so drift hits both alike) and returns both medians. */
export function alternate(n, a, b) {
  const ta = [];
  const tb = [];
  for (let i = 0; i < n; i++) {
    ta.push(a(i));
    tb.push(b(i));
  }
  return { a: median(ta), b: median(tb) };
}
