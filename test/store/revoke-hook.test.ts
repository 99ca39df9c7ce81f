// The pre-build hook with revocations: silent when a client that no environment builds is
// revoked, stopping with what to do when the environment's own client is, and re-signing a CRL
// that is due (or, without a passphrase, warning instead of failing the build).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { generatedProject } from "../render/helpers.js";
import { headerOf } from "../helpers/project.js";
import { loadConfig } from "../../src/config/config.js";
import { readCrl } from "../../src/pki/crl.js";
import { readManifest } from "../../src/store/manifest.js";
import { clockDeadlines } from "../../src/platformio/stamp.js";
import { resignCrlAt } from "./revoke-stale.js";

function revokedProject(id: string): string {
  const dir = generatedProject(undefined, "esp-certs-revoke-hook-");
  const r = runCli(["revoke", id], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

const hook = (dir: string, env: NodeJS.ProcessEnv = {}) => runCli(["hook", "--env", "d1_mini"], { cwd: dir, env });
const DAY = 86_400_000;

describe("the hook and revoked clients", () => {
  it("stays silent when a client no environment builds is revoked", () => {
    const dir = revokedProject("dev02");
    expect(hook(dir)).toMatchObject({ status: 0, stdout: "", stderr: "" });
  });

  it("stops the build of an environment whose client is revoked, and says how to bring it back", () => {
    const dir = revokedProject("dev01");
    const header = readFileSync(headerOf(dir));
    const r = hook(dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dev01 was revoked on \d{4}-\d\d-\d\d \(keyCompromise\)/);
    expect(r.stderr).toContain("esp-certs generate --rekey dev01");
    // It says the client is revoked, never that its files are missing and it is generating them.
    expect(r.stdout + r.stderr).not.toMatch(/is missing|generating/);
    expect(readFileSync(headerOf(dir))).toEqual(header);
    const generate = runCli(["generate"], { cwd: dir });
    expect(generate.status).toBe(1);
    expect(generate.stdout).not.toMatch(/kept\s+header/);
    expect(generate.stdout).toMatch(/left\s+header\s+\S+ \(client dev01, revoked on \d{4}-\d\d-\d\d \(keyCompromise\): the broker refuses/);
    expect(generate.stderr).toContain("esp-certs generate --rekey dev01");
    const doctor = runCli(["doctor", "--json", "--broker-address", "127.0.0.1:1"], { cwd: dir });
    const checks = JSON.parse(doctor.stdout).checks as { check: string; level: string; text: string }[];
    const crl = checks.filter((c) => c.check === "crl");
    expect(crl.find((c) => c.level === "problem")?.text).toMatch(/holds dev01's certificate revoked on/);
    expect(checks.filter((c) => c.check === "header" && c.level === "ok")).toEqual([]);
  });

  it("re-signs a CRL in its last 30 days, and without a passphrase warns instead of failing the build", async () => {
    const dir = revokedProject("dev02");
    expect(hook(dir).status).toBe(0);
    // Signed 820 days ago with 825 days: 5 days left.
    await resignCrlAt(dir, new Date(Date.now() - 820 * DAY), 825);
    const crlFile = path.join(dir, "certs", "ca.crl.pem");
    const before = readFileSync(crlFile, "utf8");
    // The hook script's stamp lets it skip Node.js until its earliest deadline: the CRL's is one.
    const config = loadConfig(dir);
    const crlDeadline = clockDeadlines(config, readManifest(path.join(dir, "certs", "manifest.json"))!, "dev01").find((d) => d.what === "the CRL");
    expect(crlDeadline!.at).toBeLessThanOrEqual(Date.now());

    const locked = hook(dir, { ESP_CERTS_CA_PASSPHRASE: "" });
    expect(locked.status, locked.stderr).toBe(0);
    expect(locked.stdout).toMatch(/the CRL expires \d{4}-\d\d-\d\d: generating/);
    expect(locked.stderr).toContain("The CRL must be re-signed");
    expect(locked.stderr).toContain("refuses every client");
    expect(readFileSync(crlFile, "utf8")).toBe(before);

    const signed = hook(dir);
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/reissued CRL/);
    const next = readCrl(readFileSync(crlFile, "utf8"));
    expect(next.nextUpdate.getTime()).toBeGreaterThan(Date.now() + 800 * DAY);
    expect(next.number).toBe(readCrl(before).number + 1n);
    expect(next.revoked).toHaveLength(1);
    expect(hook(dir)).toMatchObject({ status: 0, stdout: "", stderr: "" });
  });
});
