/** Pure helpers that spell values as C source for the header template. */

const BYTES_PER_LINE = 12;

/** The body of a C byte-array initializer: 12 bytes a line, each line indented. */
export function cBytes(bytes: Uint8Array, indent = "  "): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += BYTES_PER_LINE) {
    const row = Array.from(bytes.subarray(i, i + BYTES_PER_LINE), (b) => `0x${b.toString(16).padStart(2, "0")}`);
    lines.push(`${indent}${row.join(", ")}${i + BYTES_PER_LINE < bytes.length ? "," : ""}`);
  }
  return lines.join("\n");
}

/** A C string literal. Inputs are validated host names and ids; escaping keeps any other text safe. */
export function cString(s: string): string {
  const escaped = s
    .replace(/[\\"]/g, (c) => `\\${c}`)
    // `""` ends the hex escape, so a following hex digit is not read as part of it.
    .replace(/[^\x20-\x7e]/gu, (c) => Array.from(Buffer.from(c), (b) => `\\x${b.toString(16).padStart(2, "0")}""`).join(""));
  return `"${escaped}"`;
}

/** Text for a C comment: nothing in it may close the comment. */
export function cComment(s: string): string {
  return s.replace(/\*\//g, "* /").replace(/[\r\n]+/g, " ");
}
