/**
 * `--client dev##`: the next free id of a pattern, so that a box of boards is provisioned by
 * running one command again and again. Pure.
 */

/** Whether `client` is a pattern: one run of '#' standing for a zero-padded number. */
export function isPattern(client: string): boolean {
  return /#/.test(client);
}

/** The first id of `pattern` (counting from 1) not in `taken` (compared without case, as file names on Windows and macOS are). */
export function nextFreeId(pattern: string, taken: Iterable<string>): string | undefined {
  const m = /^([^#]*)(#+)([^#]*)$/.exec(pattern);
  if (!m) return undefined;
  const used = new Set([...taken].map((t) => t.toLowerCase()));
  const width = m[2].length;
  for (let n = 1; n < 10 ** Math.max(width, 6); n++) {
    const id = `${m[1]}${String(n).padStart(width, "0")}${m[3]}`;
    if (!used.has(id.toLowerCase())) return id;
  }
  return undefined;
}
