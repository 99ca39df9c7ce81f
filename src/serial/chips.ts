/**
 * USB-serial bridges found on ESP8266 boards, by USB vendor:product id: a guess at what is
 * on the other end of a port. Data only; ids as lower-case hex, as serialport reports them.
 */
export interface UsbChip {
  vendorId: string;
  /** Product ids; empty means any product of the vendor. */
  productIds: string[];
  chip: string;
  /** Boards that commonly carry it. */
  boards: string;
}

export const USB_CHIPS: readonly UsbChip[] = [
  { vendorId: "10c4", productIds: ["ea60"], chip: "CP210x (Silicon Labs)", boards: "NodeMCU v2 (nodemcuv2), Adafruit Feather HUZZAH" },
  { vendorId: "1a86", productIds: ["7523"], chip: "CH340", boards: "Wemos D1 mini (d1_mini), NodeMCU v3" },
  { vendorId: "1a86", productIds: ["5523"], chip: "CH341", boards: "programmer adapters" },
  { vendorId: "1a86", productIds: ["55d4"], chip: "CH9102", boards: "newer D1 mini and NodeMCU clones" },
  { vendorId: "0403", productIds: ["6001"], chip: "FTDI FT232R", boards: "USB-serial adapters, older boards" },
  { vendorId: "0403", productIds: ["6010"], chip: "FTDI FT2232", boards: "debug adapters" },
  { vendorId: "0403", productIds: ["6014"], chip: "FTDI FT232H", boards: "debug adapters" },
  { vendorId: "0403", productIds: ["6015"], chip: "FTDI FT231X", boards: "SparkFun ESP8266 Thing" },
  { vendorId: "067b", productIds: ["2303"], chip: "Prolific PL2303", boards: "USB-serial adapters" },
  { vendorId: "303a", productIds: [], chip: "Espressif native USB", boards: "ESP32-S2/S3/C3 (not an ESP8266)" },
];

export function guessChip(vendorId?: string, productId?: string): UsbChip | undefined {
  if (vendorId === undefined) return undefined;
  const vid = vendorId.toLowerCase();
  const pid = productId?.toLowerCase();
  return USB_CHIPS.find((c) => c.vendorId === vid && (c.productIds.length === 0 || (pid !== undefined && c.productIds.includes(pid))));
}
