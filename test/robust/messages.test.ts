// Wording found wanting by a new user's trial (issue 25): each message says the right file,
// setting or next step.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { EspCertsError } from "../../src/errors.js";
import { DIAGNOSES } from "../../src/monitor/diagnoses.js";
import { runCli } from "../helpers/cli.js";
import { project } from "../helpers/project.js";

const EC = { extra: "key_type = ec-p256\n", env: true };

const refusal = (ini: string): EspCertsError => {
  try {
    resolveConfig("/p", ini);
  } catch (err) {
    return err as EspCertsError;
  }
  throw new Error("not refused");
};

describe("messages", () => {
  it("client_key_type = ec256 suggests ec-p256; key_type = rsa suggests rsa2048", () => {
    expect(refusal("[esp_certs]\nmqtt_host = win10.local\nclient_key_type = ec256\n").fix).toBe('Set "client_key_type = ec-p256".');
    expect(refusal("[esp_certs]\nmqtt_host = win10.local\nkey_type = rsa4096\n").fix).toBe('Set "key_type = rsa2048".');
  });

  it("an unknown [esp_certs] key gets a 'did you mean'", () => {
    const c = resolveConfig("/p", "[esp_certs]\nmqtt_host = win10.local\nclient_keytype = ec-p256\nservr_names = a\nzzzz = 1\n");
    expect(c.warnings).toContain("[esp_certs] client_keytype is not a setting esp-certs knows; it is ignored. Did you mean client_key_type?");
    expect(c.warnings).toContain("[esp_certs] servr_names is not a setting esp-certs knows; it is ignored. Did you mean server_names?");
    expect(c.warnings).toContain("[esp_certs] zzzz is not a setting esp-certs knows; it is ignored.");
  });

  it("wifi fail status=6 and status=1 name wifi_secrets.h", () => {
    expect(DIAGNOSES["wifi-6"].fix).toContain("WIFI_PASSWORD in wifi_secrets.h");
    expect(DIAGNOSES["wifi-1"].fix).toContain("WIFI_SSID in wifi_secrets.h");
  });

  it("nodered --host with an IP the certificate lacks says server_ips; a name says server_names", () => {
    const dir = project(EC);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    expect(runCli(["nodered", "--host", "10.0.0.5"], { cwd: dir }).stderr).toContain("add it to server_ips in [esp_certs]");
    expect(runCli(["nodered", "--host", "other.local"], { cwd: dir }).stderr).toContain("add it to server_names in [esp_certs]");
  });

  it("a one-character new CA passphrase is warned about; a long one is not; unlocking says nothing", () => {
    const weak = project(EC);
    const r = runCli(["generate"], { cwd: weak, env: { ESP_CERTS_CA_PASSPHRASE: "x" } });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("the new CA passphrase is 1 character long");
    expect(runCli(["generate", "--rekey", "dev01"], { cwd: weak, env: { ESP_CERTS_CA_PASSPHRASE: "x" } }).stderr).not.toContain("passphrase is");
    expect(runCli(["generate"], { cwd: project(EC) }).stderr).not.toContain("passphrase is");
  });

  it("generate --new-ca says every board must be reflashed or provisioned again, and earlier records are useless", () => {
    const dir = project(EC);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    const r = runCli(["generate", "--new-ca"], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/every board .* reflashed \(esp-certs flash --port P\) or, for a fleet image, provisioned again/);
    expect(r.stderr).toContain("Credential records written before (provision --out files) are useless now");
  });
});

describe("revoking the Node-RED client", () => {
  it("says that the exported flow used it, and how to give Node-RED another client", () => {
    const dir = project(EC);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    expect(runCli(["nodered", "--client", "dev02"], { cwd: dir }).status).toBe(0);
    const r = runCli(["revoke", "dev02"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("Node-RED: nodered-flow.json connects as dev02");
    expect(r.stdout).toContain('esp-certs nodered --client ID');
    expect(runCli(["revoke", "dev01"], { cwd: dir }).stdout).not.toContain("Node-RED:");
  });
});

describe("doctor --client", () => {
  it("takes a provisioned client, as status and nodered do, and refuses an unknown one naming the store's", () => {
    const dir = project(EC);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    const p = runCli(["provision", "--client", "dev09", "--out", path.join(dir, "dev09.bin")], { cwd: dir });
    expect(p.status, p.stderr).toBe(0);
    const d = runCli(["doctor", "--json", "--client", "dev09", "--broker-address", "127.0.0.1:1"], { cwd: dir });
    const tls = (JSON.parse(d.stdout).checks as { check: string; text: string }[]).find((c) => c.check === "tls");
    expect(tls?.text).toContain("connection as dev09");
    const unknown = runCli(["doctor", "--client", "dev99", "--broker-address", "127.0.0.1:1"], { cwd: dir });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/not one of the store's clients \(.*dev09/);
  });
});
