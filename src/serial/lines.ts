/**
 * Bytes from a serial port -> text lines. Pure. The ESP8266 ROM talks at 74880 baud, so at
 * 115200 its boot messages arrive as bytes that are not UTF-8 and may hold no newline for a
 * long while: decode leniently, bound what is kept, and let the caller tell noise apart.
 * A line ends at CR, LF or CRLF: some USB adapters and terminal programs send CR alone.
 */

/**
 * A line longer than this is cut, so that noise without a line end cannot grow without bound.
 * The cut keeps the newest bytes together: a line that follows noise arrives whole (the
 * firmware's lines are far shorter; the caller splits the noise off its front), and the older
 * noise comes out as lines of its own.
 */
export const MAX_LINE_BYTES = 1024;

const CR = 0x0d;
const LF = 0x0a;

export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** The last chunk ended in CR: an LF that starts the next one belongs to it (CRLF). */
  private afterCr = false;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  /** Feeds bytes; returns the lines they complete, without their CR, LF or CRLF. */
  push(chunk: Buffer): string[] {
    let data = chunk;
    if (this.afterCr && data.length > 0) {
      if (data[0] === LF) data = data.subarray(1);
      this.afterCr = false;
    }
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      const b = data[i];
      if (b !== CR && b !== LF) continue;
      lines.push(...this.take(data.subarray(start, i)));
      if (b === CR) {
        if (i + 1 < data.length) {
          if (data[i + 1] === LF) i++;
        } else {
          this.afterCr = true;
        }
      }
      start = i + 1;
    }
    lines.push(...this.keep(data.subarray(start)));
    return lines;
  }

  /** What is left without a line end, when the port closes. */
  flush(): string[] {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    this.afterCr = false;
    return rest.length === 0 ? [] : [this.decode(rest)];
  }

  /** The pending bytes and `tail` as a line, older bytes beyond MAX_LINE_BYTES as one before it. */
  private take(tail: Buffer): string[] {
    const all = this.pending.length === 0 ? tail : Buffer.concat([this.pending, tail]);
    this.pending = Buffer.alloc(0);
    if (all.length <= MAX_LINE_BYTES) return [this.decode(all)];
    const cut = all.length - MAX_LINE_BYTES;
    return [this.decode(all.subarray(0, cut)), this.decode(all.subarray(cut))];
  }

  /** Keeps bytes without a line end; once they pass twice the bound, all but the newest MAX_LINE_BYTES come out as a line. */
  private keep(rest: Buffer): string[] {
    const all = this.pending.length === 0 ? rest : Buffer.concat([this.pending, rest]);
    const cut = all.length > 2 * MAX_LINE_BYTES ? all.length - MAX_LINE_BYTES : 0;
    // A copy: the caller's chunk must not stay referenced.
    this.pending = Buffer.from(all.subarray(cut));
    return cut === 0 ? [] : [this.decode(all.subarray(0, cut))];
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
