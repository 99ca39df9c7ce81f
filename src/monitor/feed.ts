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
    state = step(state, noise ? { kind: "other" } : classifyLine(part), text, noise);
  }
  return { state, shown };
}
