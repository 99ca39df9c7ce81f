// The acl_file as data (renderAcl, parseAcl, aclDrift), and a real mosquitto that starts with the
// rules of a 10 000-client store and applies them.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { aclDrift, appsDiffer, parseAcl, renderAcl, type AccessClient } from "../../src/broker/acl.js";
import { runCli } from "../helpers/cli.js";
import { startMosquitto } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";
import { generateProject } from "../firmware/rehearsal.js";

const clients: AccessClient[] = [
  { id: "dev01", role: "device", revoked: false },
  { id: "dev02", role: "app", revoked: false },
  { id: "dev03", role: "device", revoked: true },
  { id: "dash", role: "app", revoked: true },
];

describe("the acl_file", () => {
  it("gives apps every topic, revoked clients (a revoked app too) none, and every other client its own <id>/#", () => {
    const rules = parseAcl(renderAcl(clients));
    expect(rules).toEqual([
      { user: "dev02", pattern: false, access: "readwrite", topic: "#" },
      { user: "dev02", pattern: false, access: "read", topic: "$SYS/#" },
      { user: "dev03", pattern: false, access: "deny", topic: "#" },
      { user: "dash", pattern: false, access: "deny", topic: "#" },
      { user: undefined, pattern: true, access: "readwrite", topic: "%u/#" },
    ]);
  });

  it("says how a hand-edited or stale file differs, what gives more access first", () => {
    const wanted = renderAcl(clients);
    expect(aclDrift(wanted.replace("# Apps", "# my note"), wanted)).toEqual([]);
    const edited = `${wanted.replace("user dev03\ntopic deny #\n", "")}user dev01\ntopic readwrite #\n`;
    expect(aclDrift(edited, wanted)).toEqual(["rules the store does not give: user dev01: topic readwrite #", "revoked dev03 not denied"]);
    expect(aclDrift("", wanted)).toEqual(["revoked dev03, dash not denied", "missing user dev02: topic readwrite #, user dev02: topic read $SYS/#, pattern readwrite %u/#"]);
  });

  it("tells the hook when its apps are not [esp_certs] apps, leaving out esp-certs' own client and revoked ones", () => {
    const text = renderAcl([...clients, { id: "esp-certs", role: "app", revoked: false }]);
    expect(appsDiffer(text, ["dev02"], "esp-certs")).toBe(false);
    // dash is revoked: denied whatever apps says.
    expect(appsDiffer(text, ["dev02", "dash"], "esp-certs")).toBe(false);
    expect(appsDiffer(text, ["dev02", "dev01"], "esp-certs")).toBe(true);
    expect(appsDiffer(text, [], "esp-certs")).toBe(true);
  });
});

const hasMosquitto = requireTool("mosquitto", "mosquitto") && requireTool("mosquitto_sub", "mosquitto-clients");

describe.skipIf(!hasMosquitto)("a store of 10 000 clients", () => {
  it("gives an acl_file that mosquitto starts with and applies (npm run bench acl measures how long it takes)", async () => {
    const project = generateProject("localhost", "clients = dev01, dev02\n");
    try {
      expect(runCli(["broker", "--paths", "local"], { cwd: project.dir }).status).toBe(0);
      // Every one a block of its own, the largest file; the store's app last, where Mosquitto's list ends.
      const fleet = Array.from({ length: 10_000 }, (_, i): AccessClient => ({ id: `d${i}`, role: i % 2 ? "app" : "device", revoked: i % 2 === 0 }));
      writeFileSync(path.join(project.dir, "broker", "acl"), renderAcl([...fleet, ...clients.slice(0, 2)]));
      const broker = await startMosquitto({ config: readFileSync(path.join(project.dir, "broker", "mosquitto.conf"), "utf8") });
      try {
        const c = path.join(project.dir, "certs");
        const tls = (id: string) => ["-h", "localhost", "-p", String(broker.port), "--cafile", path.join(c, "ca.crt.pem"), "--cert", path.join(c, `clients/${id}.crt.pem`), "--key", path.join(c, `clients/${id}.key.pem`)];
        // dev01's own retained message, on the last topic of the subscription: the broker offers
        // retained messages in the order of the topics, so what comes first is all it may read before it.
        const own = spawnSync("mosquitto_pub", [...tls("dev01"), "-q", "1", "-r", "-t", "dev01/mark", "-m", "own"], { encoding: "utf8", timeout: 30_000 });
        expect(own.status, own.stderr).toBe(0);
        // -W: a bound for a broker that never answers, not a wait for something that does not come.
        const first = (id: string) => spawnSync("mosquitto_sub", [...tls(id), "-t", "d7/x", "-t", "$SYS/broker/version", "-t", "dev01/mark", "-C", "1", "-W", "60", "-v"], { encoding: "utf8" });
        expect(first("dev02").stdout).toMatch(/^\$SYS\/broker\/version mosquitto version/);
        expect(first("dev01").stdout).toBe("dev01/mark own\n");
      } finally {
        await broker.stop();
      }
    } finally {
      rmSync(project.dir, { recursive: true, force: true });
    }
  });
});
