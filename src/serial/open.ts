/**
 * Opening a serial port with `serialport`, loaded on demand (a native addon the hook never
 * needs), and turning its failures into errors that say what to do.
 */
import { readFileSync, statSync } from "node:fs";
import type { SerialPort } from "serialport";
import { EspCertsError } from "../errors.js";
import { canListPorts } from "./list.js";

/**
 * The user-facing error for a port that would not open. `message` is serialport's text:
 * "Error: No such file or directory, cannot open /dev/ttyUSB0", "Error Resource temporarily
 * unavailable Cannot lock port" (another serialport or esptool holds its lock),
 * "Opening COM3: Access denied" (Windows: another program has it open), "Resource busy" (macOS:
 * strerror(EBUSY), where Linux says "Device or resource busy").
 */
export function openError(path: string, message: string, platform: NodeJS.Platform = process.platform, group?: string, canListPorts = true): EspCertsError {
  const what = `Cannot open serial port ${path}`;
  if (/No such file or directory|File not found|ENOENT/i.test(message)) {
    const list = canListPorts
      ? 'List the ports with "esp-certs ports"'
      : 'List the ports with "ls /dev/ttyUSB* /dev/ttyACM*" ("esp-certs ports" needs udevadm, which this machine lacks)';
    return new EspCertsError(what, "there is no such port (is the board plugged in?)", `${list} and pass one with --port.`);
  }
  // ENOTTY: the path opened, but it is a file or a device that has no serial settings (/dev/null).
  if (/Inappropriate ioctl for device|ENOTTY|Not a typewriter/i.test(message)) {
    return new EspCertsError(what, "it is not a serial port", "Pass the board's port with --port, e.g. /dev/ttyUSB0 (Linux), /dev/cu.usbserial-0001 (macOS) or COM3 (Windows).");
  }
  if (/Cannot lock port|Resource temporarily unavailable|Resource busy|EBUSY/i.test(message) || (platform === "win32" && /Access denied/i.test(message))) {
    return new EspCertsError(what, "another program is using it (a serial monitor, `pio device monitor`, the Arduino IDE)", "Close that program, then try again.");
  }
  if (/Permission denied|EACCES/i.test(message)) {
    // Boards' ports belong to dialout (uucp on Arch); name the port's own group when it is a usable one.
    const g = group !== undefined && group !== "root" ? group : "dialout";
    const fix =
      platform === "linux"
        ? `Add yourself to the group that owns it: "sudo usermod -aG ${g} $USER", then log out and in again.`
        : "Give your user read and write access to the port.";
    return new EspCertsError(what, "permission denied", fix);
  }
  return new EspCertsError(what, message.replace(/^Error:?\s*/, ""), "This is usually the cable or the USB-serial driver (CP210x, CH340): replug the board, or try another cable or port.");
}

/** Opens `path` with an exclusive lock, as esptool does, so two readers never split the bytes. */
export async function openPort(path: string, baudRate: number): Promise<SerialPort> {
  const { SerialPort } = await import("serialport");
  const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => (err ? reject(openError(path, err.message, process.platform, groupOf(path), canListPorts())) : resolve())),
  );
  return port;
}

/** The name of the group that owns a device file (Linux), for the permission advice. */
function groupOf(file: string): string | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const gid = statSync(file).gid;
    const line = readFileSync("/etc/group", "utf8").split("\n").find((l) => l.split(":")[2] === String(gid));
    return line?.split(":")[0];
  } catch {
    return undefined; // no such file or no /etc/group: the advice falls back to dialout
  }
}

export function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

/** Checks that the port opens, and lets go of it again: for checks made before other tools use it. */
export async function probePort(path: string): Promise<void> {
  await closePort(await openPort(path, 115200));
}
