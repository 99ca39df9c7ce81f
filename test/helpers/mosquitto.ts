import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { removeTmpDir, tmpDir } from "./tmp.js";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface Broker {
  port: number;
  /** Everything mosquitto logged so far (connections, client ids, TLS errors), or only its log file after `from` (a mark()). */
  log(from?: number): string;
  /** Where the log file ends now: `logged(text, ms, mark)` then looks only at what comes after. */
  mark(): number;
  /**
   * Resolves once the log holds `text` (after `from`, a mark() taken earlier), or throws after
   * `ms`. Mosquitto is one loop: what it logged, it has done, before it takes the next client.
   */
  logged(text: string, ms?: number, from?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface TlsListener {
  cafile: string;
  certfile: string;
  keyfile: string;
  requireCertificate?: boolean;
}

/**
 * Starts a real mosquitto on 127.0.0.1 with a free port (or `port`, e.g. to restart a broker
 * where its clients expect it) and a mutual-TLS listener. Pass `config` to run a generated
 * mosquitto.conf instead (its listener is rewritten to that port and loopback). As root,
 * mosquitto drops to user "mosquitto" unless told `user root`, and then cannot read 0600 keys.
 * `env` is added to mosquitto's environment.
 */
export async function startMosquitto(opts: { tls?: TlsListener; config?: string; port?: number; env?: NodeJS.ProcessEnv }): Promise<Broker> {
  const port = opts.port ?? (await freePort());
  const dir = tmpDir("mosq-");
  const logFile = path.join(dir, "mosquitto.log");
  let conf: string;
  if (opts.config !== undefined) {
    conf = opts.config
      .replace(/^listener\s+\d+.*$/m, `listener ${port} 127.0.0.1`)
      .replace(/^log_dest .*$/gm, "")
      .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`);
  } else {
    const t = opts.tls!;
    conf = [
      `listener ${port} 127.0.0.1`,
      `cafile ${t.cafile}`,
      `certfile ${t.certfile}`,
      `keyfile ${t.keyfile}`,
      `require_certificate ${t.requireCertificate === false ? "false" : "true"}`,
      "use_identity_as_username true",
      "allow_anonymous false",
    ].join("\n");
  }
  if (process.getuid?.() === 0 && !/^user /m.test(conf)) conf += "\nuser root";
  conf += `\nlog_dest file ${logFile}\nlog_type all\nconnection_messages true\n`;
  const confPath = path.join(dir, "mosquitto.conf");
  writeFileSync(confPath, conf);
  const child: ChildProcess = spawn("mosquitto", ["-c", confPath], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const fileLog = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const readLog = () => output + fileLog();
  // A bound for a broker that never starts, not a pace: a loaded machine with a large acl_file is slow.
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`mosquitto did not start on port ${port}:\n${readLog()}\nconfig:\n${conf}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    log: (from) => (from === undefined ? readLog() : fileLog().slice(from)),
    mark: () => fileLog().length,
    logged: async (text, ms = 30_000, from) => {
      const seen = () => (from === undefined ? readLog() : fileLog().slice(from)).includes(text);
      for (const end = Date.now() + ms; !seen(); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() > end) throw new Error(`mosquitto did not log "${text}"${from === undefined ? "" : ` after mark ${from}`} within ${ms} ms:\n${readLog()}`);
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          removeTmpDir(dir);
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once("exit", done);
        child.kill("SIGTERM");
      }),
  };
}

/**
 * Whether a client with `files` (its certificate and key) may publish at `broker` (mosquitto_pub,
 * topic `t` unless `args` names others). A mosquitto_pub that timed out throws: on a slow machine
 * that is a client that gave up, not a refusal.
 */
export function publishes(broker: Broker, cafile: string, files: { cert: string; key: string }, args: string[] = ["-t", "t"]): boolean {
  const r = spawnSync(
    "mosquitto_pub",
    ["-h", "localhost", "-p", String(broker.port), "--cafile", cafile, "--cert", files.cert, "--key", files.key, ...args, "-m", "x"],
    { encoding: "utf8", timeout: 30_000 },
  );
  if (r.status !== 0 && r.error !== undefined) throw r.error;
  return r.status === 0;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
