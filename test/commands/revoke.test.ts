// `esp-certs revoke` against a real mosquitto started from the generated broker/ (--paths local):
// the revoked client is shut out and the others are not, OpenSSL agrees with every CRL written,
// a stale CRL is reported and re-signed, and a revoke killed at any rename leaves a store that is
// either revoked with a CRL that says so, or not revoked at all.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath, runCli, TEST_PASSPHRASE, tmpProject } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { publishes, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";
import { readCrl } from "../../src/pki/crl.js";
import { storePaths } from "../../src/store/paths.js";
import { resignCrlAt } from "../store/revoke-stale.js";

/** A project with its store and a broker folder for a local mosquitto. */
const STORE = { prefix: "esp-certs-revoke-", broker: true };

const ready = requireTool("mosquitto", "mosquitto") && requireTool("mosquitto_pub", "mosquitto-clients") && requireTool("openssl", "openssl");
const hasStrace = requireTool("strace", "strace");

function cli(dir: string, ...args: string[]) {
  const r = runCli(args, { cwd: dir });
  return { ...r, out: r.stdout + r.stderr };
}


const conf = (dir: string) => readFileSync(path.join(dir, "broker", "mosquitto.conf"), "utf8");
const serialOf = (pem: string) => spawnSync("openssl", ["x509", "-in", pem, "-noout", "-serial"], { encoding: "utf8" }).stdout.trim().split("=")[1].toLowerCase();

/** The certificate and key files of a client: in clients/, or where revoke moved them. */
function clientFiles(dir: string, id: string): { cert: string; key: string } {
  const live = path.join(dir, "certs", "clients", `${id}.crt.pem`);
  if (existsSync(live)) return { cert: live, key: path.join(dir, "certs", "clients", `${id}.key.pem`) };
  const revoked = path.join(dir, "certs", "revoked");
  const folder = readdirSync(revoked).find((n) => n.startsWith(`${id}-`))!;
  return { cert: path.join(revoked, folder, `${id}.crt.pem`), key: path.join(revoked, folder, `${id}.key.pem`) };
}


const publishesAt = (dir: string, broker: Broker, files: { cert: string; key: string }) => publishes(broker, path.join(dir, "certs", "ca.crt.pem"), files);

/** The alert the broker sends a client, as a device speaking TLS 1.2 receives it. */
function alertFor(broker: Broker, ca: string, files: { cert: string; key: string }): string {
  const r = spawnSync("openssl", ["s_client", "-connect", `127.0.0.1:${broker.port}`, "-tls1_2", "-CAfile", ca, "-cert", files.cert, "-key", files.key, "-servername", "localhost"], {
    encoding: "utf8",
    input: "",
    timeout: 30_000,
  });
  return /SSL alert number (\d+)/.exec(r.stderr)?.[1] ?? "none";
}

const brokerOf = (dir: string) => startMosquitto({ config: conf(dir) });

describe.skipIf(!ready)("esp-certs revoke with a real mosquitto", () => {
  let dir: string;
  let broker: Broker | undefined;
  beforeAll(() => {
    dir = project(STORE);
  });
  afterAll(async () => broker?.stop());

  it("shuts the revoked client out after a broker restart and keeps the others in", async () => {
    const dev02 = clientFiles(dir, "dev02");
    const serial = serialOf(dev02.cert);
    broker = await brokerOf(dir);
    expect(publishesAt(dir, broker, dev02)).toBe(true);

    const r = cli(dir, "revoke", "dev02", "--reason", "cessationOfOperation");
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`Revoked dev02 (serial ${serial}, cessationOfOperation)`);
    expect(r.out).toMatch(/Restart the broker/);
    expect(conf(dir)).toMatch(new RegExp(`^crlfile ${path.join(dir, "broker", "certs", "ca.crl.pem").replace(/[/\\.]/g, "\\$&")}$`, "m"));
    expect(existsSync(path.join(dir, "certs", "clients", "dev02.key.pem"))).toBe(false);

    await broker.stop();
    broker = await brokerOf(dir);
    const moved = clientFiles(dir, "dev02");
    expect(publishesAt(dir, broker, moved)).toBe(false);
    expect(publishesAt(dir, broker, clientFiles(dir, "dev01"))).toBe(true);
    // What the ESP8266 receives: certificate_revoked, which its core reports as 256 + 44.
    expect(alertFor(broker, path.join(dir, "certs", "ca.crt.pem"), moved)).toBe("44");

    const status = JSON.parse(cli(dir, "status", "--json").stdout);
    const byName = Object.fromEntries(status.certificates.map((c: { name: string }) => [c.name, c]));
    expect(byName.dev02).toMatchObject({ state: "revoked", serial, revoked: { reason: "cessationOfOperation" } });
    expect(byName.dev01.state).toBe("active");
    expect(status.crl).toMatchObject({ number: "1", revoked: 1 });
  });

  it("writes CRLs that openssl crl -verify accepts, and that make openssl verify -crl_check reject only the revoked certificate", () => {
    const ca = path.join(dir, "certs", "ca.crt.pem");
    const crl = path.join(dir, "certs", "ca.crl.pem");
    for (const [file, form] of [[crl, "PEM"], [path.join(dir, "certs", "ca.crl.der"), "DER"], [path.join(dir, "broker", "certs", "ca.crl.pem"), "PEM"]]) {
      const v = spawnSync("openssl", ["crl", "-inform", form, "-in", file, "-noout", "-verify", "-CAfile", ca], { encoding: "utf8" });
      expect(v.stderr, file).toContain("verify OK");
    }
    const verify = (cert: string) => spawnSync("openssl", ["verify", "-crl_check", "-CAfile", ca, "-CRLfile", crl, cert], { encoding: "utf8" });
    expect(verify(clientFiles(dir, "dev01").cert).status).toBe(0);
    expect(verify(path.join(dir, "certs", "server.crt.pem")).status).toBe(0);
    const revoked = verify(clientFiles(dir, "dev02").cert);
    expect(revoked.status).not.toBe(0);
    expect(revoked.stdout + revoked.stderr).toContain("certificate revoked");
  });

  it("refuses what it cannot revoke, and a revoked id is not issued again without --rekey", () => {
    const again = cli(dir, "revoke", "dev02");
    expect(again.status).toBe(2);
    expect(again.out).toContain("it was revoked on");
    expect(again.out).toContain("esp-certs generate --rekey dev02");
    for (const [id, says] of [["ca", "--new-ca"], ["server", "--new-ca"], ["win10.local", "server.key.pem"], ["dev09", 'no client "dev09"']]) {
      const r = cli(dir, "revoke", id);
      expect(r.status, id).toBe(2);
      expect(r.out).toContain(says);
    }
    const g = cli(dir, "generate");
    expect(g.status, g.out).toBe(0);
    expect(g.out).toMatch(/revoked\s+client dev02/);
    expect(existsSync(path.join(dir, "certs", "clients", "dev02.crt.pem"))).toBe(false);
    expect(cli(dir, "generate", "--client", "dev02").status).toBe(2);
    const flow = cli(dir, "nodered", "--client", "dev02");
    expect(flow.status).toBe(2);
    expect(flow.out).toContain("revoked");
    const before = readFileSync(path.join(dir, "certs", "ca.crl.pem"));
    expect(cli(dir, "revoke", "dev02").status).toBe(2);
    expect(readFileSync(path.join(dir, "certs", "ca.crl.pem"))).toEqual(before);
  });

  it("a CRL past its nextUpdate: the broker refuses everyone, doctor says so, generate re-signs it, and after a restart every active client is back", async () => {
    // Signed as if two cert_days ago: the injected clock.
    const p = storePaths(path.join(dir, "certs"));
    const old = readCrl(readFileSync(p.crlPem, "utf8"));
    await resignCrlAt(dir, new Date(Date.now() - 2 * 825 * 86_400_000), 825);
    expect(cli(dir, "broker").status).toBe(0);
    await broker!.stop();
    broker = await brokerOf(dir);
    const dev01 = clientFiles(dir, "dev01");
    expect(publishesAt(dir, broker, dev01)).toBe(false);
    // OpenSSL reports the stale CRL to the client as certificate_expired.
    expect(alertFor(broker, p.caCertPem, dev01)).toBe("45");

    const doctor = cli(dir, "doctor", "--broker-address", `127.0.0.1:${broker.port}`, "--json");
    expect(doctor.status).toBe(1);
    const checks = JSON.parse(doctor.stdout).checks as { check: string; level: string; text: string }[];
    expect(checks.find((c) => c.check === "crl" && c.level === "problem")?.text).toMatch(/expired on .*refuses EVERY client/);

    const g = cli(dir, "generate");
    expect(g.status, g.out).toBe(0);
    expect(g.out).toMatch(/reissued\s+CRL\s+\S+ca\.crl\.pem \(until \d{4}-\d\d-\d\d\): it expired/);
    expect(g.out).toContain("certs/ca.crl.pem");
    await broker.stop();
    broker = await brokerOf(dir);
    expect(publishesAt(dir, broker, dev01)).toBe(true);
    expect(publishesAt(dir, broker, clientFiles(dir, "dev02"))).toBe(false);
    expect(readCrl(readFileSync(p.crlPem, "utf8")).number).toBe(old.number + 2n);
    const after = JSON.parse(cli(dir, "doctor", "--broker-address", `127.0.0.1:${broker.port}`, "--json").stdout).checks as { check: string; level: string; text: string }[];
    // The store's CRL, the broker folder's, the live handshake, and the live broker refusing revoked dev02.
    expect(after.filter((c) => c.check === "crl" || c.check === "tls").map((c) => c.level)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(after.find((c) => c.check === "crl" && /refuses revoked/.test(c.text))?.text).toContain("refuses revoked dev02");
  });

  it("generate --rekey brings a revoked id back with a new key, which the broker accepts", async () => {
    const oldKey = readFileSync(clientFiles(dir, "dev02").key);
    const r = cli(dir, "generate", "--rekey", "dev02");
    expect(r.status, r.out).toBe(0);
    const back = clientFiles(dir, "dev02");
    expect(back.cert).toBe(path.join(dir, "certs", "clients", "dev02.crt.pem"));
    expect(readFileSync(back.key)).not.toEqual(oldKey);
    await broker!.stop();
    broker = await brokerOf(dir);
    expect(publishesAt(dir, broker, back)).toBe(true);
    expect(JSON.parse(cli(dir, "status", "--json").stdout).certificates.find((c: { name: string }) => c.name === "dev02").state).toBe("active");
  });
});

describe.skipIf(!ready)("a new CA", () => {
  it("starts a new, empty CRL; the old one goes to the backup with the old CA, and what it revoked stays revoked", () => {
    const dir = project(STORE);
    const serial = serialOf(clientFiles(dir, "dev02").cert);
    expect(cli(dir, "revoke", "dev02").status).toBe(0);
    const g = cli(dir, "generate", "--new-ca");
    expect(g.status, g.out).toBe(0);
    expect(g.out).toMatch(/created\s+CRL\s+certs\/ca\.crl\.pem/);
    const backups = readdirSync(path.join(dir, "certs", "backup"));
    expect(backups).toHaveLength(1);
    const old = readCrl(readFileSync(path.join(dir, "certs", "backup", backups[0], "ca.crl.pem"), "utf8"));
    expect(old.revoked.map((r) => r.serial)).toEqual([serial]);
    const fresh = readCrl(readFileSync(path.join(dir, "certs", "ca.crl.pem"), "utf8"));
    expect(fresh.revoked).toEqual([]);
    expect(fresh.number).toBe(old.number + 1n);
    const v = spawnSync("openssl", ["crl", "-in", path.join(dir, "certs", "ca.crl.pem"), "-noout", "-verify", "-CAfile", path.join(dir, "certs", "ca.crt.pem")], { encoding: "utf8" });
    expect(v.stderr).toContain("verify OK");
    expect(readFileSync(path.join(dir, "broker", "certs", "ca.crl.pem"))).toEqual(readFileSync(path.join(dir, "certs", "ca.crl.pem")));
    expect(existsSync(path.join(dir, "certs", "clients", "dev02.crt.pem"))).toBe(false);
    const dev02 = JSON.parse(cli(dir, "status", "--json").stdout).certificates.find((c: { name: string }) => c.name === "dev02");
    expect(dev02).toMatchObject({ state: "revoked", serial });
  });
});

describe.skipIf(!ready || !hasStrace)("revoke killed at every rename (strace inject)", () => {
  let template: string;
  let serial: string;
  beforeAll(() => {
    template = project(STORE);
    serial = serialOf(clientFiles(template, "dev02").cert);
  });

  const listed = (dir: string) => {
    const crl = path.join(dir, "certs", "ca.crl.pem");
    return existsSync(crl) && readCrl(readFileSync(crl, "utf8")).revoked.some((r) => r.serial === serial);
  };

  // revoke renames 9 times: CRL DER and PEM, 4 client files, the manifest, the broker's CRL and mosquitto.conf.
  for (let n = 1; n <= 9; n++) {
    it(`leaves dev02 either revoked with a CRL that says so, or not revoked at all (killed at rename ${n})`, () => {
      const dir = tmpProject("esp-certs-revoke-kill-");
      cpSync(template, dir, { recursive: true });
      const killed = spawnSync("strace", ["-f", "-qq", "-o", "/dev/null", "-e", "trace=rename", "-e", `inject=rename:signal=KILL:when=${n}`, process.execPath, cliPath, "revoke", "dev02"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE, NO_COLOR: "1" },
      });
      expect(killed.signal, killed.stdout + killed.stderr).toBe("SIGKILL");
      // The CRL's PEM (rename 2) is the commit point.
      expect(listed(dir)).toBe(n > 2);

      const status = JSON.parse(cli(dir, "status", "--json").stdout);
      const dev02 = status.certificates.find((c: { name: string }) => c.name === "dev02");
      expect(dev02.state).toBe(listed(dir) ? "revoked" : "active");
      if (existsSync(path.join(dir, "certs", "ca.crl.pem"))) {
        const v = spawnSync("openssl", ["crl", "-in", path.join(dir, "certs", "ca.crl.pem"), "-noout", "-verify", "-CAfile", path.join(dir, "certs", "ca.crt.pem")], { encoding: "utf8" });
        expect(v.stderr).toContain("verify OK");
      }

      // The next run finishes (or does) the revocation; the store ends whole either way.
      const next = cli(dir, "revoke", "dev02");
      expect([0, 2], next.out).toContain(next.status);
      if (next.status === 2) expect(next.out).toContain("it was revoked on");
      expect(listed(dir)).toBe(true);
      expect(readdirSync(path.join(dir, "certs", "clients")).filter((f) => f.startsWith("dev02"))).toEqual([]);
      expect(readdirSync(path.dirname(clientFiles(dir, "dev02").cert)).sort()).toEqual(["dev02.crt.der", "dev02.crt.pem", "dev02.key.der", "dev02.key.pem"]);
      expect(readdirSync(path.join(dir, "certs")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
      const manifest = JSON.parse(readFileSync(path.join(dir, "certs", "manifest.json"), "utf8"));
      expect(manifest.history.find((h: { serial: string }) => h.serial === serial).revoked.reason).toBe("keyCompromise");
      expect(manifest.clients.dev02).toBeUndefined();
      // The broker folder catches up on the next run that syncs it.
      expect(cli(dir, "broker").status).toBe(0);
      expect(readFileSync(path.join(dir, "broker", "certs", "ca.crl.pem"))).toEqual(readFileSync(path.join(dir, "certs", "ca.crl.pem")));
      expect(conf(dir)).toMatch(/^crlfile /m);
    });
  }
});
