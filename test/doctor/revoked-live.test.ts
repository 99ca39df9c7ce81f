// doctor's live check with a revoked client's kept certificate (docs/revocation.md): after the first
// revocation the broker folder's mosquitto.conf gains a crlfile line, which a running Mosquitto
// reads only at start, so until a restart it still lets the revoked certificate in. Against a real
// mosquitto, in a project folder whose path holds a space (the restart command quotes it).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { project } from "../helpers/project.js";
import { requireTool } from "../helpers/tools.js";

const ready = requireTool("mosquitto", "mosquitto");

interface Line {
  check: string;
  level: string;
  text: string;
  fix?: string;
}

function doctor(dir: string, port: number): Line[] {
  const r = runCli(["doctor", "--broker-address", `127.0.0.1:${port}`, "--json"], { cwd: dir });
  return (JSON.parse(r.stdout) as { checks: Line[] }).checks;
}

const revokedLine = (checks: Line[]) => checks.filter((c) => c.check === "crl" && /running broker/.test(c.text));

describe.skipIf(!ready)("doctor: a running broker that has not loaded the CRL", () => {
  it("is a problem until Mosquitto restarts, then ok", async () => {
    const dir = project({ prefix: "esp-certs doctor crl-", clients: "dev01, dev02", broker: true });
    const conf = () => readFileSync(path.join(dir, "broker", "mosquitto.conf"), "utf8");
    let broker: Broker = await startMosquitto({ config: conf() });
    try {
      // Nothing revoked yet: nothing to try.
      expect(revokedLine(doctor(dir, broker.port))).toEqual([]);

      const revoke = runCli(["revoke", "dev01"], { cwd: dir });
      expect(revoke.status, revoke.stdout + revoke.stderr).toBe(0);
      expect(conf()).toMatch(/^crlfile /m);

      const before = doctor(dir, broker.port);
      expect(before.find((c) => c.check === "tls")?.level).toBe("ok");
      const [problem] = revokedLine(before);
      expect(problem).toMatchObject({ level: "problem", text: "the running broker accepts dev01's revoked certificate: it has not loaded the CRL" });
      expect(problem.fix).toBe(`Restart Mosquitto (a new crlfile line is read only at start): stop it, then mosquitto -c "${path.join(dir, "broker", "mosquitto.conf")}"`);

      await broker.stop();
      broker = await startMosquitto({ config: conf(), port: broker.port });
      expect(revokedLine(doctor(dir, broker.port))).toEqual([{ check: "crl", level: "ok", text: "the running broker refuses revoked dev01" }]);
    } finally {
      await broker.stop();
    }
  }, 60_000);
});
