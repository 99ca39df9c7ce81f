// `generate --rekey` reloads a running broker as `revoke` does (docs/revocation.md, "Replaced
// certificates"): at a real mosquitto started from the generated broker/ (--paths local), the
// old certificate connects before the run and is refused after it, with no reload by hand.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";
import { publishes, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { requireTool } from "../helpers/tools.js";
import { shellWord } from "../../src/ui.js";

const ready = requireTool("mosquitto", "mosquitto") && requireTool("mosquitto_pub", "mosquitto-clients");

const brokers: Broker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop();
});

function cli(dir: string, ...args: string[]) {
  const r = runCli(args, { cwd: dir });
  return { ...r, out: r.stdout + r.stderr };
}

/** A project with its broker folder, and the broker running from it (its pid file is broker/mosquitto.pid). */
async function project(): Promise<{ dir: string; start: () => Promise<Broker> }> {
  const dir = tmpProject("esp-certs-rekey-reload-");
  writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = win10.local\n");
  expect(cli(dir, "generate").status).toBe(0);
  expect(cli(dir, "broker", "--paths", "local").status).toBe(0);
  const start = async () => {
    const b = await startMosquitto({ config: readFileSync(path.join(dir, "broker", "mosquitto.conf"), "utf8") });
    brokers.push(b);
    return b;
  };
  return { dir, start };
}

/** A copy of dev01's current certificate and key, as the board holding them has. */
function keep(dir: string, as: string): { cert: string; key: string } {
  const out = path.join(dir, "kept", as);
  mkdirSync(out, { recursive: true });
  const files = { cert: path.join(out, "c.pem"), key: path.join(out, "k.pem") };
  copyFileSync(path.join(dir, "certs", "clients", "dev01.crt.pem"), files.cert);
  copyFileSync(path.join(dir, "certs", "clients", "dev01.key.pem"), files.key);
  return files;
}

function connects(dir: string, broker: Broker, files: { cert: string; key: string }): boolean {
  return publishes(broker, path.join(dir, "certs", "ca.crt.pem"), files, ["-i", "dev01", "-t", "dev01/t"]);
}


describe.skipIf(!ready)("generate --rekey at a running broker", () => {
  it("reloads it: the old certificate, which connected before, is refused after the run, with no reload by hand", async () => {
    const { dir, start } = await project();
    // An earlier revocation put crlfile into mosquitto.conf: from then on a reload applies a new CRL.
    expect(cli(dir, "revoke", "dev02").status).toBe(0);
    const broker = await start();
    const old = keep(dir, "old");
    expect(connects(dir, broker, old), broker.log()).toBe(true);

    // The board with the old key, connected through the run.
    const held = await mqtt.connectAsync({
      protocol: "mqtts",
      host: "localhost",
      port: broker.port,
      ca: readFileSync(path.join(dir, "certs", "ca.crt.pem")),
      cert: readFileSync(old.cert),
      key: readFileSync(old.key),
      clientId: "dev01",
      reconnectPeriod: 0,
    });
    try {
      const mark = broker.mark();
      const r = cli(dir, "generate", "--rekey", "dev01");
      expect(r.status, r.out).toBe(0);
      expect(r.out).toMatch(/^Reloaded the broker \(SIGHUP to mosquitto \(pid \d+\)\): it refuses the replaced certificate of dev01 from now on\. A connection it has open stays up until dev01 connects with the new key/m);
      expect(r.out).not.toMatch(/kill -HUP|Restart/);
      expect(r.out).toMatch(/dev01's earlier certificate \(serial [0-9a-f]+\) is revoked as superseded: the board that holds the old key is shut out/);
      // A reload is a signal, applied at mosquitto's next pass. Probing before it would connect as
      // dev01 and take the held connection's session over, so wait for the pass to log it.
      await broker.logged("Reloading config", undefined, mark);
      expect(connects(dir, broker, old), broker.log()).toBe(false);
      // What the run says of the open connection: up, until the new key takes the id's session over.
      expect(held.connected).toBe(true);
      await held.publishAsync("dev01/t", "still", { qos: 1 });
      const closed = new Promise<void>((resolve) => (held.connected ? held.once("close", () => resolve()) : resolve()));
      expect(connects(dir, broker, keep(dir, "new")), broker.log()).toBe(true);
      // Mosquitto closed the held connection as it took the new one's CONNECT; MQTT.js sees it next.
      expect(broker.log(mark)).toContain("Client dev01 already connected, closing old connection");
      await closed;
      expect(held.connected).toBe(false);
    } finally {
      held.end(true);
    }
  });

  it("as the first revocation (a new crlfile line), says what the reload cannot do: the old certificate connects until the restart", async () => {
    const { dir, start } = await project();
    let broker = await start();
    const old = keep(dir, "old");
    expect(connects(dir, broker, old)).toBe(true);

    const mark = broker.mark();
    const r = cli(dir, "generate", "--rekey", "dev01");
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/^Reloaded the broker \(SIGHUP to mosquitto \(pid \d+\)\): that applies the access rules, not the new crlfile line\.$/m);
    expect(r.out).toMatch(/^Restart the broker so that it loads them.*mosquitto -c (.*)$/m);
    expect(/^Restart the broker .*mosquitto -c (.*)$/m.exec(r.out)![1]).toBe(shellWord(path.join(dir, "broker", "mosquitto.conf")));
    // The access rules go by the CN, which the new certificate shares: the old one keeps dev01's topics.
    expect(r.out).toContain("Until that restart dev01's replaced certificate still connects, with dev01's topics");
    // Probed once mosquitto has applied the reload, not before.
    await broker.logged("Reloading config", undefined, mark);
    expect(connects(dir, broker, old)).toBe(true);

    const port = broker.port;
    await broker.stop();
    brokers.splice(brokers.indexOf(broker), 1);
    broker = await startMosquitto({ config: readFileSync(path.join(dir, "broker", "mosquitto.conf"), "utf8"), port });
    brokers.push(broker);
    expect(connects(dir, broker, old)).toBe(false);
    expect(connects(dir, broker, keep(dir, "new"))).toBe(true);
  });
});
