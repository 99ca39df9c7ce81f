/** One line from the port into the verdict state machine. Pure: the monitor and the tests share it. */
import { isNoise, printable, splitAtMarker } from "../serial/lines.js";
import { PREFIX, classifyLine } from "./classify.js";
import { step, type MonitorState } from "./verdict.js";

export interface Shown {
  /** The line made safe for a terminal. */
  text: string;
  noise: boolean;
}

export function feedLine(state: MonitorState, line: string): { state: MonitorState; shown: Shown[] } {
  const shown: Shown[] = [];
  for (const part of splitAtMarker(line, PREFIX)) {
    if (part.trim() === "" || state.verdict) continue;
    const noise = isNoise(part);
    const text = printable(part);
    shown.push({ text, noise });
    // Fields are read from the safe text too: a host, client or reason the verdict quotes holds no escape.
    state = step(state, noise ? { kind: "other" } : classifyLine(printable(part.trimEnd())), text, noise);
  }
  return { state, shown };
}
