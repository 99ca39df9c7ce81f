/**
 * `esp-certs monitor`: restart the board, read its serial lines, stop at the first verdict
 * (docs/serial-protocol.md; monitor/watch.ts reads, print/monitor.ts prints).
 */
import type { MonitorOptions } from "../monitor/watch.js";
import { runMonitor } from "./print/monitor.js";

export function monitorCommand(opts: MonitorOptions): Promise<number> {
  return runMonitor(opts);
}
