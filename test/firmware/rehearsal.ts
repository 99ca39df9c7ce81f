import { spawn, spawnSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot, runCli, tmpProject } from "../helpers/cli.js";
import { headerOf, projectIni } from "../helpers/project.js";
import { requireHeader, requireTool } from "../helpers/tools.js";

/** A project made by the real CLI: `generate` for the store, `header` for its include/. */
export interface Project {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  header: string;
}

function cli(args: string[], dir: string): void {
  const r = runCli(args, { cwd: dir });
  if (r.status !== 0) throw new Error(`esp-certs ${args.join(" ")} failed (${r.status}):\n${r.stdout}${r.stderr}`);
}

function projectAt(dir: string): Project {
  const certs = path.join(dir, "certs");
  return {
    dir,
    caCert: path.join(certs, "ca.crt.pem"),
    serverCert: path.join(certs, "server.crt.pem"),
    serverKey: path.join(certs, "server.key.pem"),
    header: headerOf(dir),
  };
}

function writeIni(dir: string, host: string, port: number, extra = ""): void {
  writeFileSync(path.join(dir, "platformio.ini"), projectIni({ host, extra: `mqtt_port = ${port}\n${extra}` }));
}

/** A fresh project with its own CA, its broker certificate naming `host`. */
export function generateProject(host = "win10.local", extraIni = ""): Project {
  const dir = tmpProject("esp-certs-fw-");
  writeIni(dir, host, 8883, extraIni);
  cli(["generate"], dir);
  return projectAt(dir);
}

/** A copy of `p` (same CA) whose broker certificate was re-issued for another host. */
export function reissuedFor(p: Project, host: string): Project {
  const dir = tmpProject("esp-certs-fw-");
  cpSync(path.join(p.dir, "certs"), path.join(dir, "certs"), { recursive: true });
  writeIni(dir, host, 8883);
  cli(["generate"], dir);
  return projectAt(dir);
}

/**
 * For a test or hook that builds the rehearsal: g++ -O2 over a dozen files, which on a loaded
 * machine takes a minute by itself.
 */
/**
 * What building the rehearsal and running it against a broker needs (each missing one fails
 * under CI=true); `pty` adds socat, for the monitor reading it through a pseudo-terminal.
 */
export function rehearsalTools(opts: { pty?: boolean } = {}): boolean {
  return (
    (!opts.pty || requireTool("socat", "socat")) &&
    requireTool("mosquitto", "mosquitto") &&
    requireTool("make", "make") &&
    requireTool("g++", "g++") &&
    requireHeader("bearssl.h", "libbearssl-dev")
  );
}

export const BUILD_TIMEOUT_MS = 150_000;

/**
 * Renders the header for broker port `port` (and `client`, default the project's first;
 * "none" for a fleet image) and builds the rehearsal against it: the library's main example, or
 * the sketch in `sketchDir`.
 */
export function buildFirmware(p: Project, port: number, client?: string, sketchDir?: string): string {
  const ini = readFileSync(path.join(p.dir, "platformio.ini"), "utf8");
  writeFileSync(path.join(p.dir, "platformio.ini"), ini.replace(/^mqtt_port = .*$/m, `mqtt_port = ${port}`));
  cli(client === undefined ? ["header"] : ["header", "--client", client], p.dir);
  const sketch = sketchDir === undefined ? "" : `${path.basename(sketchDir)}-`;
  const buildDir = path.join(p.dir, client === undefined ? `build-${sketch}${port}` : `build-${sketch}${client}-${port}`);
  const hostDir = path.join(repoRoot, "firmware", "host");
  const args = ["-s", "-j2", "-C", hostDir, `HEADER_DIR=${path.dirname(p.header)}`, `BUILD_DIR=${buildDir}`];
  const make = spawnSync("make", sketchDir === undefined ? args : [...args, `SKETCH_DIR=${sketchDir}`], {
    encoding: "utf8",
  });
  if (make.status !== 0) throw new Error(`make failed:\n${make.stdout}${make.stderr}`);
  return path.join(buildDir, "firmware");
}

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Serial lines, without "\r". */
  lines: string[];
}

/** Runs the rehearsal with win10.local mapped to loopback; resolves when it exits by itself. */
export function runFirmware(binary: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(binary, [], {
      env: { ...process.env, ESP_CERTS_HOSTS: "win10.local=127.0.0.1", ESP_CERTS_RUN_SECONDS: "3", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("close", (status, signal) => {
      const serial = env.ESP_CERTS_SERIAL !== undefined ? readFileSync(env.ESP_CERTS_SERIAL, "utf8") : out;
      resolve({ status, signal, lines: serial.split("\n").map((l) => l.replace(/\r$/, "")) });
    });
  });
}

/** A rehearsal still running: its serial lines so far, and a wait for the next one that matches. */
export interface Live {
  lines(): string[];
  /** Resolves with the first line after the `after`-th that matches; rejects after `timeoutMs`. */
  waitFor(re: RegExp, after?: number, timeoutMs?: number): Promise<string>;
  /** Ends the run (the shim exits 0 on SIGALRM, as when its time is up). */
  stop(): Promise<void>;
}

export function startFirmware(binary: string, env: Record<string, string> = {}): Live {
  const child = spawn(binary, [], {
    env: { ...process.env, ESP_CERTS_HOSTS: "win10.local=127.0.0.1", ESP_CERTS_RUN_SECONDS: "60", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const lines = () => out.split("\n").filter((l) => l.endsWith("\r")).map((l) => l.replace(/\r$/, ""));
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    lines,
    waitFor: (re, after = 0, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = setInterval(() => {
          const hit = lines().slice(after).find((l) => re.test(l));
          if (hit !== undefined || Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
            clearInterval(poll);
            if (hit !== undefined) resolve(hit);
            else reject(new Error(`no line matching ${re} after line ${after}; serial so far:\n${lines().join("\n")}`));
          }
        }, 50);
      }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGALRM");
      return exited;
    },
  };
}

/** The value of `#define NAME value` in a generated header. */
export function headerDefine(header: string, name: string): string {
  const m = new RegExp(`^#define ${name} (\\S+)`, "m").exec(readFileSync(header, "utf8"));
  if (!m) throw new Error(`${name} is not defined in ${header}`);
  return m[1].replace(/^"|"$/g, "");
}
