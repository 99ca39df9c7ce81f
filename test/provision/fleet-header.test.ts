// custom_esp_certs_client = none: an environment whose header carries no client (a fleet image).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";

const INI = "[esp_certs]\nmqtt_host = win10.local\n\n[env:d1_mini_fleet]\nboard = d1_mini\ncustom_esp_certs_client = none\n";

describe("an image with no identity", () => {
  const dirs: string[] = [];
  const project = (ini = INI) => {
    const dir = tmpProject();
    dirs.push(dir);
    writeFileSync(path.join(dir, "platformio.ini"), ini);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("the hook renders a header with the CA, host and port, and no client certificate or key", () => {
    const dir = project();
    const r = runCli(["hook", "--env", "d1_mini_fleet"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const header = readFileSync(path.join(dir, "firmware", "include", "esp_certs.h"), "utf8");
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

  it("refuses none as a client id, since it means no client", () => {
    const r = runCli(["generate"], { cwd: project("[esp_certs]\nmqtt_host = win10.local\nclients = dev01, none\n") });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Cannot use client id "none"');
  });
});
