import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { EspCertsError } from "../../src/errors.js";

// mqtt_address (docs/configuration.md, docs/windows.md): the device's fallback when the name
// does not resolve; an IPv4 address one host can have.
const resolve = (value: string, host = "win10.local") => resolveConfig("/p", `[esp_certs]\nmqtt_host = ${host}\nallow_ip = true\nmqtt_address = ${value}\n`);

function refusal(value: string): string {
  try {
    resolve(value);
  } catch (err) {
    expect(err).toBeInstanceOf(EspCertsError);
    expect((err as EspCertsError).exitCode).toBe(2);
    return `${(err as EspCertsError).message} ${(err as EspCertsError).fix}`;
  }
  throw new Error(`mqtt_address = ${value} was accepted`);
}

describe("mqtt_address", () => {
  it("is absent unless set, and taken as given when it is an IPv4 address", () => {
    expect(resolveConfig("/p", "[esp_certs]\nmqtt_host = win10.local\n").mqttAddress).toBeUndefined();
    expect(resolve("192.168.1.20").mqttAddress).toBe("192.168.1.20");
    expect(resolve("192.168.1.20").warnings).toEqual([]);
  });

  it("refuses what no device could dial, saying why and what to write", () => {
    expect(refusal("win10.local")).toMatch(/Cannot use mqtt_address "win10\.local".*not an IPv4 address.*mqtt_address = 192\.168\.1\.20/s);
    expect(refusal("192.168.1")).toMatch(/not an IPv4 address/);
    expect(refusal("192.168.1.256")).toMatch(/not an IPv4 address/);
    expect(refusal("fe80::1")).toMatch(/IPv6 address, and the ESP8266's network stack is IPv4 only/);
    expect(refusal("0.0.0.0")).toMatch(/no host's address/);
    expect(refusal("224.0.0.251")).toMatch(/multicast address/);
    expect(refusal("255.255.255.255")).toMatch(/broadcast address/);
    expect(refusal("240.1.2.3")).toMatch(/reserved address/);
  });

  it("is never used with an IP mqtt_host, and says so", () => {
    expect(resolve("192.168.1.20", "192.168.1.21").warnings).toContain("mqtt_address 192.168.1.20 is never used: mqtt_host 192.168.1.21 is itself an address, so there is no name to resolve.");
  });
});
