// `esp-certs doctor` on the broker folder's access rules: the store's, hand-edited, or from an
// older esp-certs; and the role of the client it connects as.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";
import { projectIni } from "../helpers/project.js";
import { freePort } from "../helpers/mosquitto.js";

describe("doctor: access rules", () => {
  const dir = tmpProject("esp-certs-doctor-access-");
  const line = (out: string, check: string) => out.split("\n").filter((l) => new RegExp(`^\\S+\\s+${check}\\s`).test(l)).join("\n");

  it("says the rules are the store's, reports a hand edit and a missing use_username_as_clientid, and names the role it connects as", async () => {
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ extra: "clients = dev01, dev02, dev03\n" }));
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    expect(runCli(["broker", "--paths", "local"], { cwd: dir }).status).toBe(0);
    const address = `127.0.0.1:${await freePort()}`;
    const doctor = (...args: string[]) => runCli(["doctor", "--broker-address", address, ...args], { cwd: dir }).stdout;

    const healthy = doctor();
    expect(line(healthy, "access")).toMatch(/^ok\s+access\s+broker\/acl is the store's: apps dev02, esp-certs may use every topic, no client is revoked, every device only its own <id>\/#/);
    expect(line(healthy, "tls")).toContain("as esp-certs (app)");
    expect(line(doctor("--client", "dev03"), "tls")).toContain("as dev03 (device)");

    const acl = path.join(dir, "broker", "acl");
    writeFileSync(acl, `${readFileSync(acl, "utf8")}user dev03\ntopic readwrite #\n`);
    const conf = path.join(dir, "broker", "mosquitto.conf");
    writeFileSync(conf, readFileSync(conf, "utf8").replace(/^use_username_as_clientid true\n/m, ""));
    const brokenOut = doctor();
    // Its conf changed too: the broker line asks for a restart.
    expect(brokenOut).toMatch(/out of step with the store: .*\n\s+-> Run "esp-certs broker", then restart the broker\.\n/);
    const broken = line(brokenOut, "access");
    expect(broken).toMatch(/problem\s+access\s+broker\/mosquitto.conf lacks "use_username_as_clientid true"/);
    expect(broken).toMatch(/broker\/acl is not the store's \(hand-edited, or stale\): rules the store does not give: user dev03: topic readwrite #/);

    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);
    expect(line(doctor(), "access")).toMatch(/^ok/);

    // The acl alone: a reload applies it, and the broker line says so as the access line does.
    writeFileSync(acl, `${readFileSync(acl, "utf8")}user dev03\ntopic read #\n`);
    const aclOnly = doctor();
    expect(line(aclOnly, "broker")).toMatch(/^problem\s+broker\s+broker\/ is out of step with the store: acl$/);
    expect(aclOnly).toMatch(/out of step with the store: acl\n\s+-> Run "esp-certs broker", then reload the broker: kill -HUP /);
    expect(runCli(["broker"], { cwd: dir }).status).toBe(0);

    expect(runCli(["revoke", "dev03"], { cwd: dir }).status).toBe(0);
    expect(line(doctor(), "access")).toMatch(/^ok\s+access\s.* may use every topic, 1 revoked client has no topic, every device only its own <id>\/#/);
    // Its files moved with the revocation: the reason is that, not a store to generate.
    expect(line(doctor("--client", "dev03"), "tls")).toMatch(/^problem\s+tls\s+cannot try the broker as dev03: it is revoked, and the broker refuses it$/);
  }, 60_000);
});
