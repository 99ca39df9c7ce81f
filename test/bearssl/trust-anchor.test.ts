// The trust anchor esp-certs precomputes must be byte for byte what BearSSL's own
// decoder makes of the same certificate (as `brssl ta` does), for RSA and EC CAs.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { trustAnchorFromCert, CertificateFormatError } from "../../src/bearssl/trust-anchor.js";
import { tmpProject } from "../helpers/cli.js";
import { requireHeader, requireTool } from "../helpers/tools.js";
import { generatedProject, INI, run } from "../render/helpers.js";

const hasCc = requireTool("gcc", "gcc") && requireTool("openssl", "openssl") && requireHeader("bearssl.h", "libbearssl-dev");
const source = fileURLToPath(new URL("./fixtures/ta_dump.c", import.meta.url));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** What our encoder makes of a DER file, in ta_dump's format. */
function ours(der: Buffer): string {
  const ta = trustAnchorFromCert(der);
  const key =
    ta.key.type === "rsa"
      ? [`rsa_n ${hex(ta.key.n)}`, `rsa_e ${hex(ta.key.e)}`]
      : [`ec_curve ${ta.key.curve}`, `ec_q ${hex(ta.key.q)}`];
  return [`dn ${hex(ta.dn)}`, `ca ${ta.isCa ? 1 : 0}`, ...key, ""].join("\n");
}

describe.skipIf(!hasCc)("trust anchors against BearSSL's decoder", () => {
  let work: string;
  let dump: string;
  let rsaProject: string;
  beforeAll(() => {
    work = tmpProject("esp-certs-ta-");
    dump = path.join(work, "ta_dump");
    run("gcc", ["-std=c99", "-Wall", "-Werror", source, "-lbearssl", "-o", dump]);
    // RSA CA and broker (the defaults), an EC client, and an RSA client in a second project.
    rsaProject = generatedProject(INI());
  });
  const bearssl = (kind: "cert" | "key", file: string) => run(dump, [kind, file]);

  it("matches for the store's RSA CA, with the CA flag", () => {
    const file = path.join(rsaProject, "certs", "ca.crt.der");
    const expected = bearssl("cert", file);
    expect(expected).toMatch(/^ca 1$/m);
    expect(expected).toMatch(/^rsa_n [0-9a-f]{512}$/m); // 2048 bits, no leading zero byte
    expect(ours(readFileSync(file))).toBe(expected);
  });

  it("matches for a leaf certificate: EC key, no CA flag", () => {
    const file = path.join(rsaProject, "certs", "clients", "dev01.crt.der");
    const expected = bearssl("cert", file);
    expect(expected).toMatch(/^ca 0$/m);
    expect(ours(readFileSync(file))).toBe(expected);
  });

  it("matches for the RSA broker certificate (RSA key, no CA flag)", () => {
    const file = path.join(rsaProject, "certs", "server.crt.der");
    expect(ours(readFileSync(file))).toBe(bearssl("cert", file));
  });

  it("matches for an EC P-256 CA made with openssl", () => {
    const key = path.join(work, "ec-ca.key.pem");
    const pem = path.join(work, "ec-ca.crt.pem");
    const der = path.join(work, "ec-ca.crt.der");
    run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
    run("openssl", ["req", "-x509", "-new", "-key", key, "-out", pem, "-days", "30", "-subj", "/C=GB/O=EC Test/CN=EC Root",
      "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    run("openssl", ["x509", "-in", pem, "-outform", "DER", "-out", der]);
    const expected = bearssl("cert", der);
    expect(expected).toMatch(/^ec_curve 23$/m); // BR_EC_secp256r1
    expect(expected).toMatch(/^ca 1$/m);
    const ta = trustAnchorFromCert(readFileSync(der));
    expect(ta.key.type === "ec" && ta.key.curveName).toBe("BR_EC_secp256r1");
    expect(ours(readFileSync(der))).toBe(expected);
  });

  it("writes client keys that br_skey_decoder reads: EC P-256 and RSA 2048 (PKCS#8)", () => {
    expect(bearssl("key", path.join(rsaProject, "certs", "clients", "dev01.key.der"))).toBe("key ec 23\n");
    const rsaClients = generatedProject(INI("client_key_type = rsa2048\n"));
    expect(bearssl("key", path.join(rsaClients, "certs", "clients", "dev01.key.der"))).toBe("key rsa 2048\n");
  });

  it("refuses a CA whose key BearSSL cannot use, naming it", () => {
    const ca = (name: string, keyArgs: string[]) => {
      const key = path.join(work, `${name}.key.pem`);
      const der = path.join(work, `${name}.crt.der`);
      run("openssl", ["genpkey", ...keyArgs, "-out", key]);
      run("openssl", ["req", "-x509", "-new", "-key", key, "-outform", "DER", "-out", der, "-days", "30", "-subj", `/CN=${name}`]);
      return readFileSync(der);
    };
    expect(() => trustAnchorFromCert(ca("ed25519", ["-algorithm", "ed25519"]))).toThrow(/key algorithm ed25519 is neither RSA nor EC/);
    expect(() => trustAnchorFromCert(ca("k1", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"]))).toThrow(/EC curve secp256k1 is not one BearSSL supports/);
    expect(() => trustAnchorFromCert(ca("brainpool", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1"]))).toThrow(/EC curve brainpoolP256r1 is not one BearSSL supports/);
  });

  it("refuses what is not a certificate, saying why", () => {
    expect(() => trustAnchorFromCert(Buffer.from("30030201", "hex"))).toThrow(CertificateFormatError);
    expect(() => trustAnchorFromCert(Buffer.from("not DER at all"))).toThrow(/not a well-formed DER certificate/);
    const der = readFileSync(path.join(rsaProject, "certs", "ca.crt.der"));
    expect(() => trustAnchorFromCert(der.subarray(0, der.length - 10))).toThrow(/runs past its container/);
  });
});
