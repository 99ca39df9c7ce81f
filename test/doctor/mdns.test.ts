import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import dnsPacket from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judgeReply, lwipQuery } from "../../src/mdns/lwip-query.js";
import { cliPath, TEST_PASSPHRASE } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";

// doctor's mdns check sends the query an ESP8266 sends for a .local name (lwIP 2.1's dns.c as
// core 3.1.2 builds it) and judges the replies as lwIP would.

const NAME = "win10.local";

describe("the ESP8266's query and how it reads replies", () => {
  it("is byte for byte lwIP's: ID, flags 0x0100, one question, type A, class IN without the unicast-response bit", () => {
    const labels = Buffer.from([5, ...Buffer.from("win10"), 5, ...Buffer.from("local"), 0]);
    const expected = Buffer.concat([Buffer.from([0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), labels, Buffer.from([0, 1, 0, 1])]);
    expect(lwipQuery(NAME, 1).equals(expected)).toBe(true);
  });

  const reply = (over: Partial<dnsPacket.Packet> = {}, answer: Partial<dnsPacket.StringAnswer> = {}) =>
    dnsPacket.encode({
      type: "response",
      id: 1,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [{ type: "A", name: NAME, class: "IN" }],
      answers: [{ type: "A", name: NAME, class: "IN", ttl: 10, data: "192.168.1.20", ...answer } as dnsPacket.StringAnswer],
      ...over,
    });

  it("takes a legacy unicast reply as RFC 6762 §6.7 has it", () => {
    expect(judgeReply(reply(), NAME, 1)).toEqual({ addresses: ["192.168.1.20"], taken: "192.168.1.20" });
    expect(judgeReply(reply({ questions: [{ type: "A", name: "WIN10.local", class: "IN" }] }), NAME, 1).taken).toBe("192.168.1.20");
  });

  it("refuses what lwIP drops or fails on, saying why", () => {
    expect(judgeReply(reply({ id: 0 }), NAME, 1).refused).toMatch(/ID 0, not the query's 1/);
    expect(judgeReply(reply({ questions: [] }), NAME, 1).refused).toMatch(/0 questions/);
    expect(judgeReply(reply({ questions: [{ type: "A", name: "other.local", class: "IN" }] }), NAME, 1).refused).toMatch(/does not echo/);
    expect(judgeReply(reply({}, { flush: true }), NAME, 1)).toMatchObject({ addresses: ["192.168.1.20"], refused: expect.stringMatching(/cache-flush bit/) });
    expect(judgeReply(reply({ flags: dnsPacket.AUTHORITATIVE_ANSWER | 3 }), NAME, 1).refused).toMatch(/error \(rcode 3\)/);
    expect(judgeReply(reply({ answers: [] }), NAME, 1).refused).toMatch(/no A record/);
    expect(judgeReply(Buffer.from([1, 2, 3]), NAME, 1).refused).toMatch(/not a DNS message/);
  });
});

// A network namespace of this run's own (a veth pair, 10.77.0.1 on one end): the queries never
// reach the real network, and another run's responder never answers this one.
const root = process.getuid?.() === 0;
const ready =
  process.platform === "linux" &&
  requireTool("ip", "iproute2") &&
  requireTool("unshare", "util-linux") &&
  requireTool("avahi-daemon", "avahi-daemon") &&
  (root || notRoot());

function notRoot(): boolean {
  const message = "doctor's mdns test makes a network namespace, which needs root";
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`SKIPPED: ${message}`);
  return false;
}

const ADDRESS = "10.77.0.1";
const FIXES = ["broker's PC", "Private", "multicast filtering", "mqtt_address = 10.77.0.1"];

interface MdnsLine {
  check: string;
  level: string;
  text: string;
  fix?: string;
}

describe.skipIf(!ready)("doctor's mdns check, in a network namespace", () => {
  const ns = `esp-certs-mdns-${process.pid}`;
  const children: ChildProcess[] = [];
  let dir: string;

  const ip = (...args: string[]) => {
    const r = spawnSync("ip", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  };

  /** Starts `argv` in the namespace; resolves once it printed `readyLine`. */
  function startIn(argv: string[], readyLine: RegExp): Promise<ChildProcess> {
    const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${argv.join(" ")} did not start:\n${out}`)), 15_000);
      const seen = (d: Buffer) => {
        out += d;
        if (readyLine.test(out)) {
          clearTimeout(timer);
          resolve(child);
        }
      };
      child.stdout!.on("data", seen);
      child.stderr!.on("data", seen);
      child.once("exit", () => reject(new Error(`${argv.join(" ")} exited:\n${out}`)));
    });
  }

  function doctor(host: string, extraIni = ""): MdnsLine[] {
    const dir = project({ host, extra: extraIni, prefix: "esp-certs-mdns-" });
    const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, cliPath, "doctor", "--json"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE, ESP_CERTS_MDNS: "on" },
    });
    const checks = (JSON.parse(r.stdout) as { checks: MdnsLine[] }).checks;
    return checks.filter((c) => c.check === "mdns");
  }

  beforeAll(async () => {
    dir = tmpDir("esp-certs-avahi-");
    ip("netns", "add", ns);
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1");
    ip("-n", ns, "link", "set", "lan0", "up");
    ip("-n", ns, "link", "set", "lan1", "up");
    ip("-n", ns, "addr", "add", `${ADDRESS}/24`, "dev", "lan0");
    ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "lan0");
    // No D-Bus, no chroot; its own /run and /etc/avahi (a private mount namespace), so its pid
    // file and static hosts are this run's alone.
    writeFileSync(
      path.join(dir, "avahi-daemon.conf"),
      "[server]\nhost-name=esp-certs-test\ndomain-name=local\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=lan0\nenable-dbus=no\n" +
        "[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n[reflector]\nenable-reflector=no\n",
    );
    writeFileSync(path.join(dir, "hosts"), "10.77.0.99 elsewhere.local\n");
    const setup = `mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /etc/avahi && cp "$0/avahi-daemon.conf" "$0/hosts" /etc/avahi/ && exec avahi-daemon -f /etc/avahi/avahi-daemon.conf --no-drop-root --no-chroot --no-rlimits --no-proc-title`;
    await startIn(["unshare", "--mount", "sh", "-c", setup, dir], /Static host name "elsewhere\.local" successfully established[\s\S]*Server startup complete|Server startup complete[\s\S]*Static host name "elsewhere\.local" successfully established/);
    const responder = path.join(import.meta.dirname, "fixtures", "mdns-responder.mjs");
    await startIn([process.execPath, responder, "multicast-only.local", ADDRESS, ADDRESS, "multicast"], /ready/);
    await startIn([process.execPath, responder, "full-querier.local", ADDRESS, ADDRESS, "flush"], /ready/);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill("SIGTERM");
          }),
      ),
    );
    spawnSync("ip", ["netns", "del", ns]);
  });

  it("finds avahi answering the device's query with this machine's address", () => {
    expect(doctor("esp-certs-test.local")).toEqual([
      { check: "mdns", level: "ok", text: `${ADDRESS} answers the device's query for esp-certs-test.local (sent on ${ADDRESS}): ${ADDRESS}, an address of this machine` },
    ]);
  });

  it("warns when the answer is another machine's address", () => {
    const [line] = doctor("elsewhere.local");
    expect(line).toMatchObject({ level: "warning", text: expect.stringContaining("10.77.0.99, which is not an address of this machine") });
  });

  it("warns when nothing answers, with the monitor's fixes in order, and names the fallback when there is one", () => {
    const [line] = doctor("nobody.local", "mqtt_address = 10.77.0.1\n");
    expect(line.level).toBe("warning");
    expect(line.text).toMatch(/^nothing answered the device's mDNS query for nobody\.local on lan0 10\.77\.0\.1 within 2\.5 s: .*"dns fail"\. The device will fall back to mqtt_address 10\.77\.0\.1\.$/);
    const at = FIXES.map((f) => line.fix!.indexOf(f));
    expect(at.every((i) => i >= 0), line.fix).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // Already set: not "set mqtt_address" again, but keep it this PC's address.
    expect(line.fix).toMatch(/\(4\) mqtt_address = 10\.77\.0\.1 is set: .*keep it this PC's address on the devices' network \(10\.77\.0\.1\)$/);
    expect(line.fix).not.toContain("or set mqtt_address");
  });

  it("warns about a responder that ignores legacy unicast queries: the device never hears its multicast answer", () => {
    const [line] = doctor("multicast-only.local");
    expect(line.level).toBe("warning");
    expect(line.text).toMatch(/^nothing answered .* 10\.77\.0\.1 answered only by multicast to port 5353, which the ESP8266 never hears/);
  });

  it("warns about a unicast answer an ESP8266 would not take, saying why", () => {
    const [line] = doctor("full-querier.local");
    expect(line.level).toBe("warning");
    expect(line.text).toMatch(/answers the device's query for full-querier\.local .* but an ESP8266 would not take the answer: the reply has ID 0/);
  });
});
