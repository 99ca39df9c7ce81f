// The broker folder's CRL, as planned for both path styles, and what the user is told after it changes.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectIni } from "../helpers/project.js";
import { brokerAdvice } from "../../src/broker/broker.js";
import { planBrokerFolder, type PathsMode } from "../../src/broker/conf.js";
import { resolveConfig } from "../../src/config/config.js";

const config = resolveConfig("/p", projectIni());
const store = { caCertPem: Buffer.from("ca"), serverCertPem: Buffer.from("cert"), serverKeyPem: Buffer.from("key"), access: [] };
const confOf = async (mode: PathsMode, crlPem?: Buffer) => {
  const files = await planBrokerFolder({ config, dir: "/p/broker", mode, store: { ...store, crlPem } });
  return { files, conf: String(files.find((f) => f.path.endsWith("mosquitto.conf"))!.content) };
};

describe("the broker folder's CRL", () => {
  it("names the CRL in crlfile, as the container and as this machine see it, and copies it before the conf", async () => {
    const crl = Buffer.from("-----BEGIN X509 CRL-----\n");
    const docker = await confOf("docker", crl);
    expect(docker.conf).toMatch(/^crlfile \/mosquitto\/config\/certs\/ca\.crl\.pem$/m);
    const local = await confOf("local", crl);
    expect(local.conf).toMatch(new RegExp(`^crlfile ${path.join(path.resolve("/p/broker"), "certs", "ca.crl.pem").replace(/[/\\.]/g, "\\$&")}$`, "m"));
    const names = local.files.map((f) => path.basename(f.path));
    expect(names.indexOf("ca.crl.pem")).toBeGreaterThan(-1);
    expect(names.indexOf("ca.crl.pem")).toBeLessThan(names.indexOf("mosquitto.conf"));
    expect(local.files.find((f) => f.path.endsWith("ca.crl.pem"))!.content).toEqual(crl);
  });

  it("has no crlfile while nothing was ever revoked", async () => {
    for (const mode of ["docker", "local"] as const) {
      const { conf, files } = await confOf(mode);
      expect(conf).not.toMatch(/crlfile/);
      expect(files.some((f) => f.path.endsWith("ca.crl.pem"))).toBe(false);
    }
  });

  it("says a reload applies a CRL that mosquitto.conf names already, and a restart a new crlfile line", () => {
    const r = { dir: "/p/broker", created: false };
    for (const mode of ["docker", "local"] as const) {
      const again = brokerAdvice({ ...r, mode, changed: ["certs/ca.crl.pem", "acl"] }, 8883).join("\n");
      expect(again).toMatch(/^Reload the broker/);
      expect(again).not.toMatch(/Restart/);
      const first = brokerAdvice({ ...r, mode, changed: ["certs/ca.crl.pem", "acl", "mosquitto.conf"] }, 8883).join("\n");
      expect(first).toMatch(/Restart the broker/);
      expect(first).toMatch(/a revoked certificate still completes its handshake, but a reload leaves it no topic/);
    }
    expect(brokerAdvice({ ...r, mode: "docker", changed: ["certs/ca.crl.pem"] }, 8883).join("\n")).toContain("docker kill --signal=HUP mosquitto");
    expect(brokerAdvice({ ...r, mode: "docker", changed: ["certs/server.crt.pem"] }, 8883).join("\n")).not.toMatch(/reload/i);
  });

  it("tells a folder made before access rules that its acl applies at a reload, and the rest only at a restart", () => {
    const r = { dir: "/p/broker", created: false, changed: ["acl", "mosquitto.conf"], addedAccessRules: true };
    const local = brokerAdvice({ ...r, mode: "local" }, 8883).join("\n");
    expect(local).toMatch(/^Restart the broker/);
    expect(local).toContain("The access rules (acl) apply at a reload; use_username_as_clientid (no client may take another's id) and the pid_file that lets revoke reload the broker only from this restart on.");
    expect(brokerAdvice({ ...r, mode: "docker" }, 8883).join("\n")).not.toContain("pid_file");
  });
});
