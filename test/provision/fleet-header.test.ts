// custom_esp_certs_client = none: an environment whose header carries no client (a fleet image).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliAsync } from "../helpers/cli.js";
import { headerOf, project } from "../helpers/project.js";

const FLEET = { after: "[env:d1_mini_fleet]\nboard = d1_mini\ncustom_esp_certs_client = none\n" };

describe("an image with no identity", () => {
  it("the hook renders a header with the CA, host and port, and no client certificate or key", () => {
    const dir = project(FLEET);
    const r = runCli(["hook", "--env", "d1_mini_fleet"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const header = readFileSync(headerOf(dir), "utf8");
    expect(header).toContain("#define ESP_CERTS_HAS_CLIENT 0");
    expect(header).toContain('#define ESP_CERTS_CLIENT_ID ""');
    expect(header).toContain("esp_certs_ca_der[]");
    expect(header).not.toContain("esp_certs_client_key_der");
    expect(header).not.toContain("PRIVATE KEY");
    // Nothing changed: the next build's hook is silent.
    const again = runCli(["hook", "--env", "d1_mini_fleet"], { cwd: dir });
    expect(again.status).toBe(0);
    expect(again.stdout + again.stderr).toBe("");
  });

  it("doctor takes the fleet header as matching the store", () => {
    const dir = project(FLEET);
    expect(runCli(["hook", "--env", "d1_mini_fleet"], { cwd: dir }).status).toBe(0);
    const r = runCli(["doctor", "--json"], { cwd: dir });
    const header = JSON.parse(r.stdout).checks.find((c: { check: string }) => c.check === "header");
    expect(header).toMatchObject({ level: "ok", text: expect.stringContaining("a fleet image") });
  });

  it("a provisioned client joins the store: status lists it, nodered may use it, dev## skips it", () => {
    const dir = project(FLEET);
    expect(runCli(["provision", "--client", "dev07", "--out", path.join(dir, "dev07.bin")], { cwd: dir }).status).toBe(0);
    expect(runCli(["status"], { cwd: dir }).stdout).toContain("client dev07");
    // generate keeps it (and would renew it), though it is not in clients.
    const gen = runCli(["generate"], { cwd: dir });
    expect(gen.stdout).toMatch(/kept\s+client dev07/);
    const manifest = JSON.parse(readFileSync(path.join(dir, "certs", "manifest.json"), "utf8"));
    expect(Object.keys(manifest.clients)).toEqual(["dev01", "dev02", "dev07", "esp-certs"]);
    expect(manifest.config.clients).toEqual(["dev01", "dev02"]);
    const flow = runCli(["nodered", "--client", "dev07", "--out", path.join(dir, "flow.json")], { cwd: dir });
    expect(flow.status, flow.stderr).toBe(0);
    const next = runCli(["provision", "--client", "dev0#", "--out", path.join(dir, "next.bin"), "--json"], { cwd: dir });
    expect(JSON.parse(next.stdout)).toMatchObject({ client: "dev03", issued: true, address: "0x3FA000" });
  });

  it("a revoked provisioned client: dev## never hands its id out again", () => {
    const dir = project(FLEET);
    expect(runCli(["provision", "--client", "dev03", "--out", path.join(dir, "dev03.bin")], { cwd: dir }).status).toBe(0);
    expect(runCli(["revoke", "dev03"], { cwd: dir }).status).toBe(0);
    const next = runCli(["provision", "--client", "dev##", "--out", path.join(dir, "next.bin"), "--json"], { cwd: dir });
    expect(JSON.parse(next.stdout)).toMatchObject({ client: "dev04" });
    // An unknown id: the message lists the provisioned clients too, not only those in clients.
    const unknown = runCli(["revoke", "dev55"], { cwd: dir });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no client "dev55" \(clients: [^)]*dev04/);
  });

  it("a revoked provisioned client comes back with generate --rekey too", () => {
    const dir = project(FLEET);
    expect(runCli(["provision", "--client", "dev03", "--out", path.join(dir, "dev03.bin")], { cwd: dir }).status).toBe(0);
    expect(runCli(["revoke", "dev03"], { cwd: dir }).status).toBe(0);
    const rekey = runCli(["generate", "--rekey", "dev03"], { cwd: dir });
    expect(rekey.status, rekey.stderr).toBe(0);
    expect(rekey.stdout).toMatch(/(created|reissued)\s+client dev03/);
    expect(runCli(["status", "--json"], { cwd: dir }).stdout).toMatch(/"name": "dev03"[^}]*"state": "active"/);
  });

  it("revoke's hint for bringing a provisioned client back is provision, which issues it again", () => {
    const dir = project(FLEET);
    expect(runCli(["provision", "--client", "dev07", "--out", path.join(dir, "dev07.bin")], { cwd: dir }).status).toBe(0);
    const revoked = runCli(["revoke", "dev07"], { cwd: dir });
    expect(revoked.status, revoked.stderr).toBe(0);
    const out = revoked.stdout + revoked.stderr;
    expect(out).toContain("esp-certs provision --client dev07");
    expect(out).not.toContain("--rekey");
    const again = runCli(["revoke", "dev07"], { cwd: dir });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("To bring it back with a new key: esp-certs provision --client dev07");
    // status says the same for it, and generate --rekey for a configured client.
    expect(runCli(["revoke", "dev02"], { cwd: dir }).status).toBe(0);
    const status = runCli(["status"], { cwd: dir }).stdout;
    expect(status).toContain('"esp-certs provision --client dev07" brings it back with a new key');
    expect(status).toContain('"esp-certs generate --rekey dev02" brings it back with a new key');
    // The hint works: provision issues dev07 a new certificate.
    const back = runCli(["provision", "--client", "dev07", "--out", path.join(dir, "dev07.bin"), "--json"], { cwd: dir });
    expect(back.status, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ client: "dev07", issued: true });
  });

  it("two runs at once with dev## get two ids (the store lock), and --out never replaces a file it did not write", async () => {
    const dir = project(FLEET);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    const runs = await Promise.all(["a", "b"].map((n) => runCliAsync(["provision", "--client", "dev##", "--out", path.join(dir, `${n}.bin`), "--json"], { cwd: dir })));
    const ids = runs.map((r) => JSON.parse(r.stdout).client);
    expect([...ids].sort()).toEqual(["dev03", "dev04"]);
    // Its own record may be written again (whichever run got dev03 wrote it); a user's file,
    // another client's record, the store and platformio.ini may not.
    const [own, other] = ids[0] === "dev03" ? ["a.bin", "b.bin"] : ["b.bin", "a.bin"];
    expect(runCli(["provision", "--client", "dev03", "--out", path.join(dir, own)], { cwd: dir }).status).toBe(0);
    writeFileSync(path.join(dir, "notes.txt"), "mine");
    for (const target of ["notes.txt", other, path.join("certs", "dev03.bin"), "platformio.ini"]) {
      const r = runCli(["provision", "--client", "dev03", "--out", path.join(dir, target)], { cwd: dir });
      expect(r.status, target).toBe(2);
      expect(r.stderr, target).toContain("Cannot write the credential record");
    }
    expect(readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("mine");
  });

  it("refuses none as a client id, since it means no client", () => {
    const r = runCli(["generate"], { cwd: project({ clients: "dev01, none" }) });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Cannot use client id "none"');
  });
});
