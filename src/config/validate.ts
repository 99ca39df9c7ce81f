import { spawnSync } from "node:child_process";
import { isIP } from "node:net";
import { hostname as osHostname } from "node:os";
import { EspCertsError } from "../errors.js";
import { APP_ID } from "./app-identity.js";

/**
 * Pure checks of configuration values. Each throws EspCertsError (exit 2) saying what was
 * wrong and how to fix it, before anything is read from or written to the store.
 */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why a DNS name is not valid, or undefined when it is. */
export function dnsNameProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (/\s/.test(name)) return "it contains a space";
  if (name.length > 253) return `it is ${name.length} characters long (at most 253)`;
  for (const label of name.replace(/\.$/, "").split(".")) {
    if (label === "") return "it has an empty label (two dots in a row, or a leading dot)";
    if (label.length > 63) return `the label "${label.slice(0, 20)}…" is over 63 characters`;
    if (label.startsWith("-") || label.endsWith("-")) return `the label "${label}" starts or ends with a hyphen`;
    if (!LABEL.test(label)) return `the label "${label}" has characters other than letters, digits and hyphens`;
  }
  // No top-level domain is all digits (RFC 3696 section 2): such a name would be read as an address.
  if (/^[0-9]+$/.test(name.replace(/\.$/, "").split(".").at(-1)!)) return "its last label is all digits, so it would be read as an address";
  return undefined;
}

export function checkDnsName(name: string, key: string): string {
  const lower = name.toLowerCase();
  if (isIpAddress(lower)) {
    // A certificate would carry it as a DNS name, which no client matches against an address.
    throw new EspCertsError(`Cannot use ${key} "${name}"`, "it is an IP address, not a name", key === "server_names entry" ? 'Put it under "server_ips" instead.' : 'Give a host name such as "win10.local".');
  }
  const problem = dnsNameProblem(lower);
  if (problem) {
    throw new EspCertsError(`Cannot use ${key} "${name}"`, `${problem}`, `Give a host name such as "win10.local".`);
  }
  return lower;
}

/**
 * Whether `s` is an IPv4 or IPv6 address. Host names are told apart first: node's IPv6
 * pattern takes ~5 ms to compile, and config is read on every `pio run`.
 */
export function isIpAddress(s: string): boolean {
  return (/^[0-9.]+$/.test(s) || s.includes(":")) && isIP(s) !== 0;
}

/**
 * The device's MQTT host. BearSSL's X.509 engine on the ESP8266 matches the host only
 * against DNS subjectAltNames, so an IP address can never validate there (docs/configuration.md).
 */
export function checkMqttHost(host: string, allowIp: boolean, warnings: string[]): string {
  if (isIpAddress(host)) {
    if (!allowIp) {
      throw new EspCertsError(
        `Cannot use the IP address ${host} as mqtt_host`,
        "the ESP8266's TLS library (BearSSL) checks the broker only against DNS names in its certificate, so a device dialling an IP address can never verify it",
        `Use the broker machine's name, e.g. --host ${suggestedHost()}, or pass --allow-ip to go on anyway.`,
      );
    }
    const ip = checkIp(host, "mqtt_host");
    warnings.push(ipHostWarning(ip));
    return ip;
  }
  return checkDnsName(host, "mqtt_host");
}

/**
 * `mqtt_address`: where the device dials when the name does not resolve. IPv4 only (the
 * ESP8266's lwIP build), and an address one host can have: not 0.0.0.0, a multicast or a
 * broadcast address.
 */
export function checkMqttAddress(address: string, host: string, warnings: string[]): string {
  const problem =
    isIP(address) === 6
      ? "it is an IPv6 address, and the ESP8266's network stack is IPv4 only"
      : !/^\d{1,3}(\.\d{1,3}){3}$/.test(address) || isIP(address) !== 4
        ? "it is not an IPv4 address (four numbers from 0 to 255 separated by dots)"
        : addressKindProblem(address);
  if (problem !== undefined) {
    throw new EspCertsError(`Cannot use mqtt_address "${address}"`, problem, "Give the broker PC's IPv4 address on the devices' network, e.g. mqtt_address = 192.168.1.20 (ipconfig on Windows shows it), or remove the line.");
  }
  if (isIpAddress(host)) warnings.push(`mqtt_address ${address} is never used: mqtt_host ${host} is itself an address, so there is no name to resolve.`);
  return address;
}

function addressKindProblem(address: string): string | undefined {
  const [a] = address.split(".").map(Number);
  if (address === "0.0.0.0") return "0.0.0.0 is no host's address";
  if (address === "255.255.255.255") return "it is the broadcast address, no host's";
  if (a >= 224 && a <= 239) return "it is a multicast address, no host's";
  if (a >= 240) return "it is a reserved address (240.0.0.0/4), no host's";
  return undefined;
}

/** The warning an accepted IP mqtt_host gives (doctor's host check says it in its own words instead). */
export function ipHostWarning(host: string): string {
  return `mqtt_host ${host} is an IP address: an ESP8266 will fail to verify the broker (BearSSL error 56).`;
}

export function checkIp(ip: string, key = "server_ips entry"): string {
  if (ip.includes("%")) {
    // node:net accepts "fe80::1%eth0", but the zone names an interface of one machine: a certificate holds only the address.
    throw new EspCertsError(`Cannot use ${key} "${ip}"`, `"%${ip.split("%")[1]}" is an IPv6 zone (an interface of this machine), which a certificate cannot hold`, `Give the address without it ("${ip.split("%")[0]}"), or better a global address or a name.`);
  }
  if (isIP(ip) === 0) {
    throw new EspCertsError(`Cannot use ${key} "${ip}"`, "it is not an IPv4 or IPv6 address", "Remove it, or put names under server_names.");
  }
  return canonicalIp(ip);
}

/**
 * One spelling per address, so that "::1" in platformio.ini and the "0:0:0:0:0:0:0:1" that
 * node:crypto prints from a certificate compare equal (else every run re-issues).
 */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** File names Windows reserves for devices, with any extension. */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkClientIds(ids: string[]): string[] {
  // `--clients ''` splits into one empty id: an empty list, not a stray comma.
  if (ids.every((id) => id === "")) {
    throw new EspCertsError("Cannot read clients", "the list is empty", 'Name at least one client id, e.g. --clients dev01,dev02 (or "clients = dev01, dev02" in [esp_certs]).');
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (id === "") throw new EspCertsError("Cannot read clients", `a client id is empty in "${ids.join(",")}"`, "Remove the stray comma.");
    if (!CLIENT_ID.test(id) || id.endsWith(".")) {
      throw new EspCertsError(
        `Cannot use client id "${id}"`,
        "a client id names its certificate files, so it may hold only letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)",
        'Choose an id such as "dev03".',
      );
    }
    if (WINDOWS_DEVICE.test(id.split(".")[0])) {
      throw new EspCertsError(
        `Cannot use client id "${id}"`,
        `Windows keeps the name ${id.split(".")[0].toUpperCase()} for a device, whatever follows the dot, so its certificate files could not be written there (COM3 would be the serial port)`,
        'Choose an id such as "dev03".',
      );
    }
    if (id.toLowerCase() === APP_ID) {
      throw new EspCertsError(`Cannot use client id "${id}"`, "it is esp-certs' own client at the broker (push and status --live connect as it)", 'Choose an id such as "dev03".');
    }
    if (id.toLowerCase() === "none") {
      throw new EspCertsError(`Cannot use client id "${id}"`, 'custom_esp_certs_client = none means "no client in the header" (a fleet image)', 'Choose an id such as "dev03".');
    }
    if (seen.has(id.toLowerCase())) {
      throw new EspCertsError(`Cannot use client id "${id}"`, "it is listed twice (ids are compared without case, as file names are on Windows and macOS)", "List each client once.");
    }
    seen.add(id.toLowerCase());
  }
  return ids;
}

export function checkCountry(country: string): string {
  const upper = country.toUpperCase();
  if (!/^[A-Z]{2}$/.test(upper)) {
    throw new EspCertsError(`Cannot use country "${country}"`, "it must be a two-letter ISO 3166 code", 'Use e.g. "GB", "DE" or "US".');
  }
  return upper;
}

/** Plain decimal digits only: Number() would also take "1e3", "0x22b3" and " 12 ". */
const wholeNumber = (value: string): number => (/^[0-9]{1,6}$/.test(value) ? Number(value) : NaN);

export function checkDays(value: string, key: string): number {
  const n = wholeNumber(value);
  if (!Number.isInteger(n) || n < 1 || n > 36500) {
    throw new EspCertsError(`Cannot use ${key} "${value}"`, "it must be a whole number of days from 1 to 36500", `Set e.g. "${key} = 825".`);
  }
  return n;
}

export function checkPort(value: string): number {
  const n = wholeNumber(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new EspCertsError(`Cannot use mqtt_port "${value}"`, "it must be a whole number from 1 to 65535, in decimal digits", "MQTT over TLS is usually 8883.");
  }
  return n;
}

/**
 * The upper bounds of X.520 (ITU-T X.520 Annex A, as RFC 5280 Appendix A.1 repeats them):
 * a longer subject field makes a certificate that strict parsers refuse, and its bytes
 * go into the device's header and flash.
 */
export const SUBJECT_LIMITS = { state: 128, locality: 128, organization: 64 } as const;

export function checkSubjectField(value: string, key: keyof typeof SUBJECT_LIMITS): string {
  const max = SUBJECT_LIMITS[key];
  const length = [...value].length;
  if (length > max) {
    throw new EspCertsError(`Cannot use ${key} "${value.slice(0, 20)}…"`, `it is ${length} characters long, and a certificate's ${key} holds at most ${max} (X.520)`, `Shorten it to ${max} characters or fewer.`);
  }
  if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new EspCertsError(`Cannot use ${key}`, "it holds a control character (a line break in platformio.ini continues the value)", `Write ${key} on one line.`);
  }
  return value;
}

/** The workshop's rule: the machine's host name up to its first dot, plus ".local". */
export function suggestedHost(hostname?: string): string {
  return `${defaultHostLabel(hostname)}.local`;
}

/**
 * This machine's name as its mDNS responder announces it (NAME.local). Windows and Linux
 * (Avahi) announce the host name; macOS its LocalHostName (System Settings > Sharing), which
 * os.hostname() does not return when DHCP gave the Mac another name ("dhcp-42.fritz.box").
 */
export function machineName(platform: NodeJS.Platform = process.platform, localHostName = macLocalHostName): string {
  return (platform === "darwin" ? localHostName() : undefined) || osHostname();
}

function macLocalHostName(): string | undefined {
  const r = spawnSync("scutil", ["--get", "LocalHostName"], { encoding: "utf8", timeout: 2000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** mqtt_host when none is set: suggestedHost, refused with words about the machine's name. */
export function defaultMqttHost(hostname = machineName()): string {
  const host = suggestedHost(hostname);
  const problem = dnsNameProblem(host);
  if (problem) {
    throw new EspCertsError(
      `Cannot use this machine's name "${hostname.split(".")[0]}" as mqtt_host`,
      `${host} is not a valid host name: ${problem}`,
      'Set "mqtt_host = <the name devices dial>.local" in [esp_certs], e.g. with: esp-certs init --host broker.local',
    );
  }
  return host;
}

function defaultHostLabel(hostname?: string): string {
  return (hostname ?? machineName()).split(".")[0].toLowerCase();
}
