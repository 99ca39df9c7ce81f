import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";
import { project, projectIni } from "../helpers/project.js";
import { loadConfig } from "../../src/config/config.js";
import { writeHeader } from "../../src/render/header.js";
import type { CheckResult } from "../../src/doctor/check-types.js";
import { checkBrokerFolder, checkExpiry, checkHeader } from "../../src/doctor/checks.js";
import { headerBytes, headerDefine } from "../../src/doctor/header-reader.js";
import { parseAddress } from "../../src/config/address.js";
import { loadContext, type DoctorContext } from "../../src/doctor/context.js";
import { diagnose } from "../../src/doctor/diagnoses.js";

const fail = (code: string, connackCode?: number) => ({ ok: false as const, stage: "tls" as const, code, message: code, connackCode });

describe("diagnoses of a failed live connection", () => {
  const cases: [string, RegExp][] = [
    ["ECONNREFUSED", /^refused/],
    ["TIMEOUT", /no answer/],
    ["ENOTFOUND", /does not resolve/],
    ["ERR_TLS_CERT_ALTNAME_INVALID", /^name mismatch/],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", /^unknown CA/],
    ["SELF_SIGNED_CERT_IN_CHAIN", /^unknown CA/],
    ["CERT_HAS_EXPIRED", /validity/],
    ["ERR_SSL_WRONG_VERSION_NUMBER", /does not speak TLS/],
    ["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", /^client certificate rejected/],
    ["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", /^client certificate rejected/],
    ["ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE", /^client certificate rejected/],
    ["ECONNRESET", /closed the connection/],
    ["ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", /refuses TLS 1\.2/],
  ];
  it.each(cases)("%s", (code, cause) => {
    const d = diagnose(fail(code), "127.0.0.1:8883", "win10.local");
    expect(d.cause).toMatch(cause);
    expect(d.fix.length).toBeGreaterThan(0);
  });
  it("reads CONNACK return codes", () => {
    expect(diagnose(fail("CONNACK", 5), "a:1", "h").cause).toMatch(/not authorised/);
  });
});

describe("--broker-address", () => {
  it("takes ADDR, ADDR:PORT and [v6]:PORT", () => {
    expect(parseAddress(undefined, "win10.local", 8883)).toEqual({ host: "win10.local", port: 8883 });
    expect(parseAddress("127.0.0.1", "h", 8883)).toEqual({ host: "127.0.0.1", port: 8883 });
    expect(parseAddress("127.0.0.1:1884", "h", 8883)).toEqual({ host: "127.0.0.1", port: 1884 });
    expect(parseAddress("[::1]:1884", "h", 8883)).toEqual({ host: "::1", port: 1884 });
    expect(() => parseAddress("a:b:c", "h", 8883)).toThrow(/ADDR:PORT/);
  });
});

describe("offline checks on a real store", () => {
  let dir: string;
  let ctx: DoctorContext;
  const levels = (rs: CheckResult[]) => rs.map((r) => `${r.level} ${r.text}`).join("\n");
  beforeAll(async () => {
    dir = tmpProject("esp-certs-doctor-");
    writeFileSync(path.join(dir, "platformio.ini"), projectIni());
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    const config = loadConfig(dir);
    await writeHeader(config, "dev01");
    ctx = await loadContext(config, {});
  });

  it("expiry: a warning within 30 days, a problem once expired (injected clock)", () => {
    const dev02 = ctx.certs.find((e) => e.id.role === "client" && e.id.id === "dev02")!.cert!;
    const end = new Date(dev02.validTo).getTime();
    const soon = checkExpiry({ ...ctx, now: new Date(end - 10 * 86_400_000) });
    expect(levels(soon)).toMatch(/^warning client dev02: expires in 10 days/m);
    expect(soon.some((r) => r.level === "problem")).toBe(false);
    const late = checkExpiry({ ...ctx, now: new Date(end + 86_400_000) });
    expect(levels(late)).toMatch(/^problem client dev02: expired/m);
    expect(checkExpiry(ctx).map((r) => r.level)).toEqual(["ok"]);
  });

  it("header: reads the generated header and finds it in step", () => {
    const text = ctx.header.text!;
    expect(headerDefine(text, "ESP_CERTS_CLIENT_ID")).toBe("dev01");
    expect(headerBytes(text, "esp_certs_client_cert_der")).toEqual(ctx.certs.find((e) => e.id.role === "client" && e.id.id === "dev01")!.cert!.raw);
    expect(checkHeader(ctx)).toEqual([expect.objectContaining({ level: "ok" })]);
  });

  it("header: another CA, another host, an older client certificate, or none at all", () => {
    const text = ctx.header.text!;
    const sha = headerDefine(text, "ESP_CERTS_CA_SHA256")!;
    const with_ = (t: string) => checkHeader({ ...ctx, header: { ...ctx.header, text: t } });
    expect(levels(with_(text.replace(sha, "0".repeat(64))))).toMatch(/^problem .*holds another CA/m);
    expect(levels(with_(text.replace('"win10.local"', '"old.local"')))).toMatch(/^problem .*dials old\.local:8883/m);
    const other = readFileSync(path.join(dir, "certs/clients/dev02.crt.der"));
    const bytes = [...other].map((b) => `0x${b.toString(16).padStart(2, "0")}`).join(", ");
    const swapped = text.replace(/(esp_certs_client_cert_der\s*\[\s*\][^=]*=\s*\{)[^}]*\}/, `$1 ${bytes} }`);
    expect(levels(with_(swapped))).toMatch(/^problem .*older certificate of dev01/m);
    expect(with_(undefined as unknown as string)[0].level).toBe("warning");
  });
});

describe("the broker folder check", () => {
  it("reports a file it cannot read (a container gave the folder to its own user) instead of crashing", async () => {
    const dir = project({ prefix: "esp-certs-doctor-" });
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    // Unreadable even to root, like a 0600 key owned by uid 1883 is to the user.
    const key = path.join(dir, "broker/certs/server.key.pem");
    rmSync(key);
    mkdirSync(key);
    const ctx = await loadContext(loadConfig(dir), {});
    expect(checkBrokerFolder(ctx)).toEqual([expect.objectContaining({ level: "problem", text: expect.stringMatching(/certs\/server\.key\.pem \(cannot read it: EISDIR\)/) })]);
  });

  it("says nothing about the folder while the store lacks what it copies", async () => {
    const dir = project({ prefix: "esp-certs-doctor-" });
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    rmSync(path.join(dir, "certs/server.crt.pem"));
    expect(checkBrokerFolder(await loadContext(loadConfig(dir), {}))).toEqual([]);
  });
});
