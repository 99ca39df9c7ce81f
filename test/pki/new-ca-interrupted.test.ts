// Issue 11 item 4: a --new-ca killed between moving the old CA's certificate and its key
// came back on the next run as a "new" CA made from the old key. Each rename of the CA
// switch is interrupted in turn (strace's fault injection kills the run at exactly that
// call); the next plain run must find the old CA whole, or the new one with a new key.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cliPath, runCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";
import { generatedProject } from "../render/helpers.js";

const hasTools = requireTool("strace", "strace") && requireTool("openssl", "openssl");

const openssl = (...args: string[]) => {
  const r = spawnSync("openssl", args, { encoding: "utf8", env: { ...process.env, PASS: TEST_PASSPHRASE } });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

/** The renames of a --new-ca run that touch the CA: 4 to stage it, 6 to switch (docs/store.md). */
const CA_RENAMES = 10;

describe.skipIf(!hasTools)("--new-ca killed at each rename of the CA", () => {
  let base: string;
  beforeAll(() => {
    base = generatedProject(undefined, "esp-certs-newca-");
  });

  it("counts the CA's renames as the test expects", () => {
    const dir = copy();
    const log = path.join(dir, "strace.log");
    const r = spawnSync("strace", ["-f", "-qq", "-e", "trace=rename", "-o", log, process.execPath, cliPath, "generate", "--new-ca"], { cwd: dir, env: env() });
    expect(r.status).toBe(0);
    const renames = readFileSync(log, "utf8").split("\n").filter((l) => /rename\(/.test(l));
    // The last of them puts the new CA certificate in place.
    expect(renames.map((l) => /\/certs\/ca\.crt\.pem"\) = 0/.test(l)).lastIndexOf(true) + 1).toBe(CA_RENAMES);
  });

  it.each(Array.from({ length: CA_RENAMES + 1 }, (_, i) => i + 1))("killed at rename %i: the old CA whole, or a new CA with a new key", (n) => {
    const dir = copy();
    const store = (f: string) => path.join(dir, "certs", f);
    const oldCert = readFileSync(store("ca.crt.pem"), "utf8");
    const oldKeyPub = openssl("pkey", "-in", store("ca.key.pem"), "-passin", "env:PASS", "-pubout");

    const killed = spawnSync("strace", ["-f", "-qq", "-o", "/dev/null", "-e", `inject=rename:signal=KILL:when=${n}`, process.execPath, cliPath, "generate", "--new-ca"], { cwd: dir, env: env() });
    expect(killed.status === 0, "the kill must land inside the run").toBe(false);

    const next = runCli(["generate"], { cwd: dir });
    expect(next.status, next.stderr).toBe(0);
    expect(next.stdout).not.toMatch(/from the existing CA key/);
    const certPub = openssl("x509", "-in", store("ca.crt.pem"), "-noout", "-pubkey");
    const keyPub = openssl("pkey", "-in", store("ca.key.pem"), "-passin", "env:PASS", "-pubout");
    expect(keyPub).toBe(certPub);
    const cert = readFileSync(store("ca.crt.pem"), "utf8");
    if (cert === oldCert) {
      expect(keyPub).toBe(oldKeyPub);
    } else {
      expect(keyPub).not.toBe(oldKeyPub);
      // The old CA is in a backup, whole.
      const backups = readdirSync(store("backup"));
      expect(backups).toHaveLength(1);
      expect(readFileSync(path.join(store("backup"), backups[0], "ca.crt.pem"), "utf8")).toBe(oldCert);
      expect(openssl("pkey", "-in", path.join(store("backup"), backups[0], "ca.key.pem"), "-passin", "env:PASS", "-pubout")).toBe(oldKeyPub);
    }
    expect(openssl("verify", "-CAfile", store("ca.crt.pem"), store("clients/dev01.crt.pem"))).toContain("OK");
    expect(existsSync(store(".new-ca"))).toBe(false);
  });

  function copy(): string {
    const dir = tmpDir("esp-certs-newca-");
    cpSync(base, dir, { recursive: true });
    return dir;
  }
  function env(): NodeJS.ProcessEnv {
    return { ...process.env, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE };
  }
});
