import { coreLayout, type FlashLayout } from "./flash-map.js";

/**
 * The flash layout each PlatformIO espressif8266 board builds with when its environment sets no
 * board_build.ldscript (the board manifests' build.arduino.ldscript, boards/<id>.json).
 */
const BOARD_LAYOUTS: Readonly<Record<string, string>> = {
  agruminolemon: "2m1m",
  d1: "4m1m",
  d1_mini: "4m1m",
  d1_mini_lite: "1m64",
  d1_mini_pro: "16m14m",
  d1_wroom_02: "2m64",
  eduinowifi: "4m1m",
  esp01: "512k64",
  esp01_1m: "1m256",
  esp07: "1m256",
  esp07s: "4m1m",
  esp12e: "4m1m",
  esp210: "4m1m",
  esp8285: "1m256",
  esp_wroom_02: "2m",
  espduino: "4m1m",
  espectro: "4m1m",
  espino: "4m1m",
  espinotee: "4m1m",
  espmxdevkit: "1m256",
  espresso_lite_v1: "4m1m",
  espresso_lite_v2: "4m1m",
  gen4iod: "512k64",
  heltec_wifi_kit_8: "4m1m",
  huzzah: "4m1m",
  inventone: "4m1m",
  modwifi: "2m",
  nodemcu: "4m1m",
  nodemcuv2: "4m1m",
  oak: "4m1m",
  phoenix_v1: "4m1m",
  phoenix_v2: "4m1m",
  sonoff_basic: "1m256",
  sonoff_s20: "1m256",
  sonoff_sv: "1m256",
  sonoff_th: "1m256",
  sparkfunBlynk: "4m1m",
  thing: "512k64",
  thingdev: "512k64",
  wifi_slot: "1m",
  wifiduino: "4m1m",
  wifinfo: "1m256",
  wio_link: "4m1m",
  wio_node: "4m1m",
  xinabox_cw01: "4m1m",
};

/** The core layout a board builds with when its environment names none; undefined for a board esp-certs does not know. */
export function boardLayout(board: string | undefined): FlashLayout | undefined {
  return board !== undefined && Object.hasOwn(BOARD_LAYOUTS, board) ? coreLayout(BOARD_LAYOUTS[board]) : undefined;
}
