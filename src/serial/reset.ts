/**
 * Restarting the board through the USB-serial adapter's DTR and RTS lines. On NodeMCU and
 * D1 mini boards RTS drives EN (reset) and DTR drives GPIO0 (boot mode), each through a
 * transistor, so a line that is "set" pulls its pin low.
 */

export interface LineStep {
  dtr: boolean;
  rts: boolean;
  /** Pause after this step. */
  waitMs: number;
}

/**
 * esptool's HardReset (esptool/reset.py) for a normal run: EN low for 100 ms while GPIO0
 * stays high, so the board restarts into the firmware, not the bootloader.
 */
export const RUN_RESET: readonly LineStep[] = [
  { dtr: false, rts: true, waitMs: 100 },
  { dtr: false, rts: false, waitMs: 0 },
];

/** The part of a serial port a reset needs (serialport's SerialPort has these). */
export interface ControlLines {
  set(options: { dtr: boolean; rts: boolean }, callback: (err: Error | null) => void): unknown;
  flush(callback: (err: Error | null) => void): unknown;
}

const call = (fn: (cb: (err: Error | null) => void) => unknown): Promise<void> =>
  new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

/**
 * Runs the steps, dropping what the port received before the board went into reset so
 * that lines from its previous run cannot be read as this run's. Resolves to the reason
 * when the port cannot drive the lines (a pseudo-terminal says "Inappropriate ioctl"),
 * which is not an error: the caller says so once and reads on.
 */
export async function resetBoard(port: ControlLines, steps: readonly LineStep[] = RUN_RESET): Promise<string | undefined> {
  for (const [i, s] of steps.entries()) {
    try {
      await call((cb) => port.set({ dtr: s.dtr, rts: s.rts }, cb));
    } catch (err) {
      return (err as Error).message.replace(/^Error:\s*/, "");
    }
    // Stale bytes only risk a misread old line; a port that cannot flush still reads.
    if (i === 0) await call((cb) => port.flush(cb)).catch(() => undefined);
    if (s.waitMs > 0) await new Promise((r) => setTimeout(r, s.waitMs));
  }
  return undefined;
}
