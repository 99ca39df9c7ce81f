/** The serial ports serialport can see, their USB ids, and a guess at the bridge chip. */
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { EspCertsError } from "../errors.js";
import { guessChip } from "./chips.js";

export interface PortEntry {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
  chip?: string;
  boards?: string;
}

/**
 * Whether `esp-certs ports` can list here: on Linux serialport asks udev (`udevadm info -e`),
 * which containers and minimal systems lack. Advice never sends the user to a command that fails.
 */
export function canListPorts(platform: NodeJS.Platform = process.platform, pathVar = process.env.PATH ?? ""): boolean {
  if (platform !== "linux") return true;
  return pathVar.split(path.delimiter).some((dir) => dir !== "" && isExecutable(path.join(dir, "udevadm")));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false; // not there, or not runnable: either way serialport cannot use it
  }
}

export async function listPorts(): Promise<PortEntry[]> {
  const { SerialPort } = await import("serialport");
  let found;
  try {
    found = await SerialPort.list();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // On Linux serialport asks udev (`udevadm info -e`); containers and minimal systems lack it.
    if (e.code === "ENOENT" && /udevadm/.test(e.message)) {
      throw new EspCertsError("Cannot list serial ports", "udevadm is not installed, and serialport lists ports through udev", "Install udev, or name the port directly, e.g. --port /dev/ttyUSB0.");
    }
    throw new EspCertsError("Cannot list serial ports", e.message, "Name the port directly with --port.");
  }
  return found.map((p) => {
    const chip = guessChip(p.vendorId, p.productId);
    return {
      path: p.path,
      vendorId: p.vendorId?.toLowerCase(),
      productId: p.productId?.toLowerCase(),
      manufacturer: p.manufacturer,
      serialNumber: p.serialNumber,
      chip: chip?.chip,
      boards: chip?.boards,
    };
  });
}
