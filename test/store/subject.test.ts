// Issue 11, item 13: a new organization, country, state or locality re-issued nothing and said nothing.
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";


describe("a changed subject", () => {
  it("re-issues the broker and client certificates, says the CA keeps its subject and how to change it, then keeps them", () => {
    const dir = tmpProject();
    const ini = (extra: string) => writeFileSync(path.join(dir, "platformio.ini"), `[esp_certs]\nmqtt_host = win10.local\nkey_type = ec-p256\n${extra}\n[env:d1_mini]\nboard = d1_mini\n`);
    const run = (...args: string[]) => {
      const r = runCli(args, { cwd: dir });
      expect(r.status, r.stderr).toBe(0);
      return r;
    };
    ini("");
    run("generate");
    // Characters that node:crypto prints escaped (RFC 2253): they must not look changed on the next run.
    const org = 'ACME, Inc. + "Labs" \\ <x>;=';
    ini(`organization = ${org}\nlocality = Poole\n`);
    const r = run("generate");
    for (const item of ["broker certificate", "client dev01", "client dev02"]) expect(r.stdout).toMatch(new RegExp(`reissued\\s+${item}.*its subject changed`));
    expect(r.stdout).toMatch(/kept\s+CA/);
    expect(r.stderr).toContain("The CA keeps its subject (locality Bournemouth -> Poole, organization MOSQUITTO -> ");
    expect(r.stderr).toContain("esp-certs generate --new-ca");
    const client = new X509Certificate(readFileSync(path.join(dir, "certs/clients/dev01.crt.pem")));
    expect(client.subject).toContain("L=Poole");
    expect(client.subject).toContain("O=ACME\\, Inc. \\+ \\\"Labs\\\" \\\\ \\<x\\>\\;=");

    const again = run("generate");
    expect(again.stdout).not.toContain("reissued");
    expect(again.stderr).toBe("");
    expect(run("hook", "--env", "d1_mini").stdout).toBe("");
  });
});
