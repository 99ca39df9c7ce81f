import { readFileSync } from "node:fs";
import { requireHeader } from "../helpers/tools.js";
import { describe, expect, it } from "vitest";
import { BEARSSL_ERRORS, EXCEPTION_CAUSES, MQTT_STATES, TLS_ALERTS, WIFI_STATUS } from "../../src/monitor/codes.js";
import { DIAGNOSES, diagnosis, render, type DiagnosisContext, type DiagnosisId } from "../../src/monitor/diagnoses.js";

// libbearssl-dev's headers are the source of the numbers; CI must have them.
const HEADERS = ["/usr/include/bearssl/bearssl_ssl.h", "/usr/include/bearssl/bearssl_x509.h"];
const hasHeaders = requireHeader("bearssl.h", "libbearssl-dev");

describe.skipIf(!hasHeaders)("the BearSSL error table", () => {
  it("has exactly the codes and names of the installed headers", () => {
    const fromHeaders: Record<number, string> = {};
    for (const h of HEADERS) {
      for (const m of readFileSync(h, "utf8").matchAll(/^#define\s+(BR_ERR_\w+)\s+(\d+)\s*$/gm)) {
        const n = Number(m[2]);
        if (m[1] !== "BR_ERR_OK" && n < 256) fromHeaders[n] = m[1];
      }
    }
    expect(BEARSSL_ERRORS).toEqual(fromHeaders);
    expect([BEARSSL_ERRORS[54], BEARSSL_ERRORS[56], BEARSSL_ERRORS[62]]).toEqual(["BR_ERR_X509_EXPIRED", "BR_ERR_X509_BAD_SERVER_NAME", "BR_ERR_X509_NOT_TRUSTED"]);
  });
});

describe("the other tables", () => {
  it("hold the values the sources define", () => {
    expect(TLS_ALERTS[40]).toBe("handshake_failure");
    expect(TLS_ALERTS[48]).toBe("unknown_ca");
    expect(WIFI_STATUS[6]).toBe("WL_WRONG_PASSWORD");
    expect(MQTT_STATES[5]).toBe("MQTT_CONNECT_UNAUTHORIZED");
    expect(MQTT_STATES[-4]).toBe("MQTT_CONNECTION_TIMEOUT");
    expect(EXCEPTION_CAUSES[28].name).toBe("LoadProhibitedCause");
  });
});

describe("the diagnosis table", () => {
  const ctx: Required<DiagnosisContext> = {
    host: "win10.local",
    port: 8883,
    serial: "COM3",
    code: 56,
    name: "BR_ERR_X509_BAD_SERVER_NAME = 56",
    text: "Expected server name was not found in the chain.",
    meaning: "a read through an invalid pointer",
    deviceHost: "pi.local",
    devicePort: 1883,
    deviceCa: "0123456789abcdef",
    localCa: "ef8ec94449e9ab38",
    certDir: "/p/certs",
    seen: " (ctx: cont)",
    client: "dev07",
    reason: "checksum",
    bringBack: "`esp-certs provision --port COM3 --client dev07`",
    dnsMs: 7012,
    address: "192.168.1.20",
    from: "mqtt_address",
  };

  it("uses only placeholders the monitor can fill, and gives every failure a fix", () => {
    for (const [id, d] of Object.entries(DIAGNOSES) as [DiagnosisId, (typeof DIAGNOSES)[DiagnosisId]][]) {
      const rendered = diagnosis(id, ctx);
      for (const part of [rendered.title, rendered.cause, rendered.fix]) expect(part, id).not.toMatch(/\{\w+\}|\?/);
      expect(d.fix.length, id).toBeGreaterThan(10);
    }
  });

  it("names the command that fixes the common failures", () => {
    expect(diagnosis("tls-56", ctx).fix).toContain("esp-certs generate --host win10.local");
    expect(diagnosis("tls-54-floor", ctx).fix).toContain("esp-certs generate");
    expect(diagnosis("tls-62", ctx).fix).toContain("esp-certs flash --port COM3");
    expect(diagnosis("alert-received-48", ctx).fix).toContain("esp-certs broker");
  });

  it("shows a missing value as ? and an absent note as nothing", () => {
    expect(render("{host} {deviceCa}{seen}.", { host: "h", port: 1, serial: "s" })).toBe("h ?.");
  });

  it("has an entry for every id the monitor can give: an id without one does not compile", () => {
    // @ts-expect-error -- not an id of the table; `npm test` runs tsc, which fails if this compiles
    const unknown: DiagnosisId = "no-such-id";
    expect(Object.keys(DIAGNOSES)).not.toContain(unknown);
  });
});
