import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyLine, PREFIX } from "../../src/monitor/classify.js";
import { repoRoot } from "../helpers/cli.js";

// The firmware and the monitor share one protocol (docs/serial-protocol.md). Every line the
// firmware can print is read back here from its report("...") format string, so neither side
// can add or rename a verb or a key without the other.

interface Format {
  file: string;
  format: string;
}

/** Every report() format string in the esp-certs library and its examples, adjacent C literals joined. */
function reportFormats(): Format[] {
  const dir = path.join(repoRoot, "firmware", "lib", "esp-certs");
  const out: Format[] = [];
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /\.(cpp|h|ino)$/.test(f));
  for (const file of files) {
    const source = readFileSync(path.join(dir, file), "utf8");
    for (const m of source.matchAll(/\breport\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)[,)]/g)) {
      const literals = [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((l) => l[1]);
      out.push({ file, format: literals.join("").replace(/\\(.)/g, "$1") });
    }
  }
  return out;
}

/** A line the format could print: each conversion filled with a value of its type. */
function sampleLine(format: string): string {
  return PREFIX + format.replace(/%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z)?([diuxXsc%])/g, (_, type: string) => {
    if (type === "%") return "%";
    return type === "s" || type === "c" ? "a" : "1";
  });
}

const formats = reportFormats();

describe("the firmware's serial lines and the monitor's classifier", () => {
  it("finds the firmware's report() calls", () => {
    const verbs = new Set(formats.map((f) => /^\w+(?: (?:ok|fail|fallback))?/.exec(f.format)?.[0]));
    for (const verb of ["boot", "wifi ok", "wifi fail", "time ok", "dns ok", "dns fail", "dns fallback", "tls ok", "tls fail", "mqtt ok", "mqtt fail"]) {
      expect(verbs).toContain(verb);
    }
  });

  it.each(formats.map((f) => [f.format, f.file]))("knows the verb and every key of %s (%s)", (format) => {
    const event = classifyLine(sampleLine(format)) as Record<string, unknown>;
    expect(event.kind, `the classifier does not know "${format}"`).not.toBe("other");
    const keys = [...format.matchAll(/(\w+)=/g)].map((k) => k[1]);
    for (const key of keys) expect(event[key], `"${format}": the classifier drops ${key}=`).toBeDefined();
  });
});
