// The mdns check: this machine sends the ESP8266's own query for mqtt_host (src/mdns) and
// says who answers, with which address, and whether the device would take it (docs/windows.md).
import { isIP } from "node:net";
import { askMdns, ownAddresses, type AskResult } from "../mdns/ask.js";
import type { CheckResult } from "./check-types.js";
import type { DoctorContext } from "./context.js";

/** How long answers are collected: past lwIP's second send, at 1 s. */
export const MDNS_WINDOW_MS = 2500;

/** The fixes in order, as the monitor gives them for `dns fail`; `fallback`: the mqtt_address already set. */
function fixes(host: string, lan: string, fallback?: string): string {
  return [
    "(1) run this check on the broker's PC, if this is not it",
    "(2) on Windows, make this network Private and allow the firewall's mDNS rule (UDP 5353 in), see docs/windows.md",
    "(3) on the access point, turn off multicast filtering and client (AP) isolation",
    fallback === undefined
      ? `(4) or set mqtt_address = ${lan} in [esp_certs]: the device dials it when ${host} does not resolve, and still checks the certificate against ${host}`
      : `(4) mqtt_address = ${fallback} is set: the device dials it when ${host} does not resolve; keep it this PC's address on the devices' network (${lan})`,
  ].join("; ");
}

export function mdnsResults(host: string, r: AskResult, own: Set<string>, fallback?: string): CheckResult[] {
  const check = "mdns";
  if (r.interfaces.length === 0) {
    return [{ check, level: "warning", text: `no LAN interface (IPv4) to send the device's mDNS query for ${host} on`, fix: "Connect this PC to the devices' network and run doctor again." }];
  }
  const addresses = [...new Set(r.interfaces.map((i) => i.address))];
  // Which interface faces the devices is unknown here (Docker and VPN adapters count too).
  const lan = addresses.length === 1 ? addresses[0] : `<one of ${addresses.join(", ")}: this PC's address on the devices' network>`;
  const out: CheckResult[] = [];
  for (const a of r.answers) {
    const where = `${a.from} answers the device's query for ${host} (sent on ${a.via})`;
    if (a.taken === undefined) {
      out.push({ check, level: "warning", text: `${where}, but an ESP8266 would not take the answer: ${a.refused}`, fix: fixes(host, lan, fallback) });
    } else if (own.has(a.taken)) {
      out.push({ check, level: "ok", text: `${where}: ${a.taken}, an address of this machine` });
    } else {
      out.push({
        check,
        level: "warning",
        text: `${where}: ${a.taken}, which is not an address of this machine: the device will dial that computer`,
        fix: `Run the broker there, or give ${host} to this machine only (two machines answering one name is a conflict).`,
      });
    }
  }
  if (out.length > 0) return out;
  const multicast = r.multicastOnly.length > 0 ? `; ${r.multicastOnly.join(", ")} answered only by multicast to port 5353, which the ESP8266 never hears` : "";
  const failed = r.failed.length > 0 ? `; could not send on ${r.failed.map((f) => `${f.via} (${f.error})`).join(", ")}` : "";
  const using = fallback !== undefined ? ` The device will fall back to mqtt_address ${fallback}.` : "";
  return [
    {
      check,
      level: "warning",
      text: `nothing answered the device's mDNS query for ${host} on ${r.interfaces.map((i) => `${i.name} ${i.address}`).join(", ")} within ${MDNS_WINDOW_MS / 1000} s${multicast}${failed}: an ESP8266 on this network would print "dns fail".${using}`,
      fix: fixes(host, lan, fallback),
    },
  ];
}

export async function checkMdns(ctx: DoctorContext): Promise<CheckResult[]> {
  const host = ctx.config.mqttHost;
  // Other names go to the network's DNS server, which the dns check asks.
  if (isIP(host) !== 0 || !/\.local\.?$/i.test(host)) return [];
  // For machines whose network must not see a multicast query (the test suite's, CI's).
  if (process.env.ESP_CERTS_MDNS === "off") {
    return [{ check: "mdns", level: "warning", text: `the device's mDNS query for ${host} was not sent (ESP_CERTS_MDNS=off)`, fix: "Unset ESP_CERTS_MDNS to run this check." }];
  }
  const r = await askMdns(host.replace(/\.$/, ""), MDNS_WINDOW_MS);
  return mdnsResults(host, r, ownAddresses(), ctx.config.mqttAddress);
}
