/**
 * Bytes from a serial port -> text lines. Pure. The ESP8266 ROM talks at 74880 baud, so at
 * 115200 its boot messages arrive as bytes that are not UTF-8 and may hold no newline for a
 * long while: decode leniently, cap the line length, and let the caller tell noise apart.
 */

/** A line longer than this is cut: noise without a newline must not grow without bound. */
export const MAX_LINE_BYTES = 1024;

export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  /** Feeds bytes; returns the lines they complete (without `\n` or `\r\n`). */
  push(chunk: Buffer): string[] {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const lines: string[] = [];
    for (;;) {
      const nl = buf.indexOf(0x0a);
      if (nl === -1 || nl > MAX_LINE_BYTES) {
        if (buf.length <= MAX_LINE_BYTES) break;
        lines.push(this.decode(buf.subarray(0, MAX_LINE_BYTES)));
        buf = buf.subarray(MAX_LINE_BYTES);
        continue;
      }
      const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      lines.push(this.decode(buf.subarray(0, end)));
      buf = buf.subarray(nl + 1);
    }
    this.pending = Buffer.from(buf);
    return lines;
  }

  /** What is left without a newline, when the port closes. */
  flush(): string[] {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest.length === 0 ? [] : [this.decode(rest)];
  }

  private decode(bytes: Buffer): string {
    return this.decoder.decode(bytes);
  }
}

/**
 * The line made safe for a terminal: control characters (a stray ESC from noise could
 * reprogram the user's terminal) become U+FFFD, tabs stay.
 */
export function printable(line: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "\uFFFD");
}

/**
 * Splits boot noise off the front of a line: the ROM's garbled output often has no newline
 * the reader can see, so the firmware's first line arrives glued to it.
 */
export function splitAtMarker(line: string, marker: string): string[] {
  const at = line.indexOf(marker);
  return at > 0 ? [line.slice(0, at), line.slice(at)] : [line];
}

/** Boot noise: mostly bytes that are not printable text (a garbled 74880-baud ROM message). */
export function isNoise(line: string): boolean {
  const text = printable(line);
  if (text.trim() === "") return false;
  let bad = 0;
  for (const ch of text) if (ch === "\uFFFD") bad++;
  return bad / [...text].length > 0.25;
}
