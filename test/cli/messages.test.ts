// Wording found wanting by a new user's trial (issue 25): each message says the right file,
// setting or next step.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { shellWord } from "../../src/ui.js";
import { EspCertsError } from "../../src/errors.js";
import { DIAGNOSES } from "../../src/monitor/diagnoses.js";
import { runCli } from "../helpers/cli.js";
import { freePort, startMosquitto } from "../helpers/mosquitto.js";
import { project } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";

const hasMosquitto = requireTool("mosquitto", "mosquitto");
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

  it("a misspelt custom_esp_certs_client in an environment gets a 'did you mean'; other custom_ options do not", () => {
    const c = resolveConfig("/p", "[env]\ncustom_esp_certs_clients = dev02\n\n[env:d1_mini]\ncustom_esp_certs_clinet = dev02\ncustom_fw_version = 3\n\n[esp_certs]\nmqtt_host = win10.local\n");
    expect(c.warnings).toEqual([
      "[env] custom_esp_certs_clients is not an option esp-certs knows; it is ignored. Did you mean custom_esp_certs_client?",
      "[env:d1_mini] custom_esp_certs_clinet is not an option esp-certs knows; it is ignored. Did you mean custom_esp_certs_client?",
    ]);
  });

  it("generate that fails still says which [esp_certs] key is misspelt (mqtt_hots: it wanted to sign for the default host)", () => {
    const dir = project(EC);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_hots = win10.local\nkey_type = ec-p256\n\n[env:d1_mini]\nboard = d1_mini\n");
    const r = runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Cannot use the CA key");
    expect(r.stderr).toContain("[esp_certs] mqtt_hots is not a setting esp-certs knows; it is ignored. Did you mean mqtt_host?");
  });

  it.skipIf(!hasMosquitto)("push's fix fits why the broker could not be used: nothing listening, or a broker with another store's certificates", async () => {
    const dir = project(EC);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    const closed = runCli(["push", "--broker-address", `127.0.0.1:${await freePort()}`], { cwd: dir });
    expect(closed.status).toBe(2);
    expect(closed.stderr).toContain("nothing listens there");
    expect(closed.stderr).toContain("Start Mosquitto with the broker folder (esp-certs broker)");
    const other = project(EC);
    expect(runCli(["generate"], { cwd: other }).status).toBe(0);
    const certs = path.join(other, "certs");
    const broker = await startMosquitto({ tls: { cafile: path.join(certs, "ca.crt.pem"), certfile: path.join(certs, "server.crt.pem"), keyfile: path.join(certs, "server.key.pem") } });
    try {
      const stranger = runCli(["push", "--broker-address", `127.0.0.1:${broker.port}`], { cwd: dir });
      expect(stranger.status).toBe(2);
      expect(stranger.stderr).toContain("its certificate is not the store's broker certificate");
      expect(stranger.stderr).toContain("Run esp-certs broker and restart Mosquitto");
      expect(stranger.stderr).not.toContain("Start Mosquitto");
    } finally {
      await broker.stop();
    }
  }, 60_000);

  it("broker --paths local after a docker folder says to start the local broker, not only to restart it", () => {
    const dir = project(EC);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    expect(runCli(["broker"], { cwd: dir }).stdout).toContain("docker compose up -d");
    const local = runCli(["broker", "--paths", "local"], { cwd: dir });
    expect(local.status, local.stderr).toBe(0);
    expect(local.stdout).toContain(`Restart the broker so that it loads them, or start it if none runs: mosquitto -c ${shellWord(path.join(dir, "broker", "mosquitto.conf"))}`);
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
    // init settles the passphrase before it generates: still said once, not once per step.
    const init = runCli(["init", "--yes", "--host", "win10.local"], { cwd: project({ ini: "[env:d1_mini]\nboard = d1_mini\n" }), env: { ESP_CERTS_CA_PASSPHRASE: "x" } });
    expect(init.status, init.stderr).toBe(0);
    expect(init.stderr.match(/the new CA passphrase is 1 character long/g)).toHaveLength(1);
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
