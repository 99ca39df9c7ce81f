// Issue 11, item 3: a CA passphrase over OpenSSL's 1024-byte buffer made a CA that the same
// passphrase could not unlock.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_PASSPHRASE_BYTES } from "../../src/pki/passphrase.js";
import { runCli } from "../helpers/cli.js";
import { project } from "../helpers/project.js";

const EC = { extra: "key_type = ec-p256\n" };


describe("CA passphrase length", () => {
  it("refuses one over the limit before writing anything", () => {
    const dir = project(EC);
    const r = runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "p".repeat(MAX_PASSPHRASE_BYTES + 1) } });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`at most ${MAX_PASSPHRASE_BYTES}`);
    expect(existsSync(path.join(dir, "certs")) ? readdirSync(path.join(dir, "certs")) : []).toEqual([]);
    // Counted in bytes: 513 two-byte characters are over it too.
    const r2 = runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "é".repeat(513) } });
    expect(r2.status, r2.stderr).toBe(2);
  });

  it("makes a CA with one at the limit that the same passphrase unlocks, and a longer one does not", () => {
    const dir = project(EC);
    const secret = "q".repeat(MAX_PASSPHRASE_BYTES);
    expect(runCli(["generate"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: secret } }).status).toBe(0);
    const again = runCli(["generate", "--rekey", "dev01"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: secret } });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain("reissued");
    const longer = runCli(["generate", "--rekey", "dev01"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: `${secret}x` } });
    expect(longer.status).toBe(2);
    expect(longer.stderr).toContain(`at most ${MAX_PASSPHRASE_BYTES}`);
  });
});
