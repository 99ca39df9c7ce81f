// `esp-certs ports` through serialport's real Linux lister, which reads `udevadm info -e`:
// a stand-in udevadm prints a recorded udev database.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";

// Two USB-serial boards and a port that is not one (serialport keeps ttyUSB/ttyACM/ttyS...).
const UDEV_DB = `P: /devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0
N: ttyUSB0
S: serial/by-id/usb-Silicon_Labs_CP2102_USB_to_UART_Bridge_Controller_0001-if00-port0
E: DEVNAME=/dev/ttyUSB0
E: SUBSYSTEM=tty
E: ID_VENDOR_ENC=Silicon\\x20Labs
E: ID_VENDOR_ID=10c4
E: ID_MODEL_ID=ea60
E: ID_SERIAL_SHORT=0001

P: /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/ttyUSB1/tty/ttyUSB1
N: ttyUSB1
E: DEVNAME=/dev/ttyUSB1
E: SUBSYSTEM=tty
E: ID_VENDOR_ENC=1a86
E: ID_VENDOR_ID=1a86
E: ID_MODEL_ID=7523

P: /devices/virtual/input/input3
N: input/event3
E: DEVNAME=/dev/input/event3
`;

function binWith(tools: Record<string, string>): string {
  const bin = path.join(tmpProject("esp-certs-bin-"), "bin");
  mkdirSync(bin);
  for (const [name, script] of Object.entries(tools)) {
    writeFileSync(path.join(bin, name), script);
    chmodSync(path.join(bin, name), 0o755);
  }
  return bin;
}

// serialport lists ports through udevadm on Linux only (the Windows and macOS listers ask the OS).
describe.skipIf(process.platform !== "linux")("esp-certs ports", () => {
  it("lists the ports with USB ids and the bridge chip", () => {
    const bin = binWith({ udevadm: `#!/bin/sh\ncat <<'EOF'\n${UDEV_DB}EOF\n` });
    const r = runCli(["ports"], { cwd: tmpProject(), env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/ttyUSB0\s+10c4:ea60\s+CP210x \(Silicon Labs\): NodeMCU v2/);
    expect(r.stdout).toMatch(/\/dev\/ttyUSB1\s+1a86:7523\s+CH340: Wemos D1 mini/);
    expect(r.stdout).not.toContain("event3");
  });

  it("prints them as JSON", () => {
    const bin = binWith({ udevadm: `#!/bin/sh\ncat <<'EOF'\n${UDEV_DB}EOF\n` });
    const r = runCli(["ports", "--json"], { cwd: tmpProject(), env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ path: "/dev/ttyUSB0", vendorId: "10c4", productId: "ea60", manufacturer: "Silicon Labs", serialNumber: "0001", chip: "CP210x (Silicon Labs)" }),
      expect.objectContaining({ path: "/dev/ttyUSB1", vendorId: "1a86", productId: "7523", chip: "CH340" }),
    ]);
  });

  it("says when it cannot list (no udevadm) and exits 2", () => {
    const r = runCli(["ports"], { cwd: tmpProject(), env: { PATH: binWith({}) } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Cannot list serial ports: udevadm is not installed");
    expect(r.stderr).toContain("--port /dev/ttyUSB0");
    expect(r.stdout).toBe("");
  });
});
