import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { project, projectIni } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";

requireTool("openssl", "openssl");

const openssl = (...args: string[]) => {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

function store(keyType: string, clientKeyType: string): string {
  const dir = project({ extra: `key_type = ${keyType}\nclient_key_type = ${clientKeyType}\n` });
  const r = runCli(["generate"], { cwd: dir });
  if (r.status !== 0) throw new Error(r.stderr);
  return dir;
}

const ALG = { rsa2048: /rsaEncryption[\s\S]*2048 bit/, "ec-p256": /id-ecPublicKey[\s\S]*prime256v1/ } as const;

describe("key types: rsa2048 and ec-p256 for every role (issue 7)", () => {
  it.each([
    ["rsa2048", "rsa2048"],
    ["rsa2048", "ec-p256"],
    ["ec-p256", "ec-p256"],
  ] as const)("CA and broker %s, clients %s: every certificate verifies for its purpose", (keyType, clientKeyType) => {
    const dir = store(keyType, clientKeyType);
    const c = (f: string) => path.join(dir, "certs", f);
    expect(openssl("verify", "-CAfile", c("ca.crt.pem"), "-purpose", "sslserver", c("server.crt.pem"))).toContain("OK");
    expect(openssl("verify", "-CAfile", c("ca.crt.pem"), "-purpose", "sslclient", c("clients/dev01.crt.pem"))).toContain("OK");
    expect(openssl("x509", "-in", c("ca.crt.pem"), "-noout", "-text")).toMatch(ALG[keyType]);
    expect(openssl("x509", "-in", c("server.crt.pem"), "-noout", "-text")).toMatch(ALG[keyType]);
    const client = openssl("x509", "-in", c("clients/dev01.crt.pem"), "-noout", "-text");
    expect(client).toMatch(ALG[clientKeyType]);
    expect(client).toMatch(keyType === "rsa2048" ? /Signature Algorithm: sha256WithRSAEncryption/ : /Signature Algorithm: ecdsa-with-SHA256/);
    // An EC key cannot encipher: keyEncipherment only on RSA leaves.
    expect(client).toMatch(clientKeyType === "rsa2048" ? /Digital Signature, Key Encipherment/ : /Key Usage: critical\s+Digital Signature\n/);
    // The DER key is what the header embeds; openssl (like br_skey_decoder) reads it as PKCS#8.
    expect(openssl("pkey", "-inform", "DER", "-in", c("clients/dev01.key.der"), "-noout", "-text_pub")).toMatch(clientKeyType === "rsa2048" ? /2048 bit/ : /prime256v1/);
  });

  it("keeps an existing RSA client when client_key_type becomes ec-p256, until --rekey names it", () => {
    const dir = store("rsa2048", "rsa2048");
    const cert = path.join(dir, "certs/clients/dev01.crt.pem");
    const before = readFileSync(cert, "utf8");
    writeFileSync(path.join(dir, "platformio.ini"), projectIni({ extra: "client_key_type = ec-p256\nclients = dev01, dev02, dev03\n" }));
    const kept = runCli(["generate"], { cwd: dir });
    expect(kept.status, kept.stderr).toBe(0);
    expect(readFileSync(cert, "utf8")).toBe(before);
    expect(openssl("x509", "-in", path.join(dir, "certs/clients/dev03.crt.pem"), "-noout", "-text")).toMatch(ALG["ec-p256"]);

    const rekeyed = runCli(["generate", "--rekey", "dev01"], { cwd: dir });
    expect(rekeyed.status, rekeyed.stderr).toBe(0);
    expect(rekeyed.stdout).toMatch(/reissued client dev01.*new ec-p256 key/);
    expect(openssl("x509", "-in", cert, "-noout", "-text")).toMatch(ALG["ec-p256"]);
    expect(openssl("x509", "-in", path.join(dir, "certs/clients/dev02.crt.pem"), "-noout", "-text")).toMatch(ALG.rsa2048);

    // Again: --rekey replaces even a key of the configured type.
    const ecKey = readFileSync(path.join(dir, "certs/clients/dev01.key.pem"), "utf8");
    const again = runCli(["generate", "--rekey", "dev01"], { cwd: dir });
    expect(again.stdout).toMatch(/reissued client dev01.*new ec-p256 key \(--rekey\)/);
    expect(readFileSync(path.join(dir, "certs/clients/dev01.key.pem"), "utf8")).not.toBe(ecKey);

    const unknown = runCli(["generate", "--rekey", "dev09"], { cwd: dir });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/dev09/);
  });
});
