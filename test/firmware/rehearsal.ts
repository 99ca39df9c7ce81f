import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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

/**
 * For a test or hook that builds the rehearsal: g++ -O2 over a dozen files, a minute on a
 * loaded machine and well over two (measured: 150-210 s at a load of 15 on two cores), so
 * the bound is for a build that hangs, not a pace.
 */
export const BUILD_TIMEOUT_MS = 600_000;

/** The last build of each project, sketch and layout: a new one starts from its objects. */
const lastBuild = new Map<string, string>();

/**
 * The flash layout the rehearsal is built for (docs/rehearsal.md): `core`, the core's own
 * linker script; `own`, esp-certs' own, whose credential sectors are not the EEPROM sector.
 */
export type Layout = "core" | "own";

/**
 * Renders the header for broker port `port` (and `client`, default the project's first;
 * "none" for a fleet image) and builds the rehearsal against it: the library's main example, or
 * the sketch in `sketchDir`; for the `layout` (default the core's).
 */
export function buildFirmware(p: Project, port: number, client?: string, sketchDir?: string, layout: Layout = "core"): string {
  const ini = readFileSync(path.join(p.dir, "platformio.ini"), "utf8");
  writeFileSync(path.join(p.dir, "platformio.ini"), ini.replace(/^mqtt_port = .*$/m, `mqtt_port = ${port}`));
  cli(client === undefined ? ["header"] : ["header", "--client", client], p.dir);
  const sketch = sketchDir === undefined ? "" : `${path.basename(sketchDir)}-`;
  // Each layout in folders of its own: its objects are never reused for the other's.
  const kind = layout === "own" ? "own-" : "";
  const buildDir = path.join(p.dir, client === undefined ? `build-${kind}${sketch}${port}` : `build-${kind}${sketch}${client}-${port}`);
  // make's dependency files (-MMD) then rebuild only what includes the header, which was
  // just rewritten: on a loaded machine a full build takes minutes, this one seconds. The
  // dependency files name their object by the old folder: renamed to the new one.
  const key = `${p.dir}\n${sketchDir}\n${layout}`;
  const last = lastBuild.get(key);
  if (last !== undefined && last !== buildDir && !existsSync(buildDir)) {
    cpSync(last, buildDir, { recursive: true, preserveTimestamps: true });
    for (const entry of readdirSync(buildDir, { recursive: true, encoding: "utf8" })) {
      if (!entry.endsWith(".d")) continue;
      const file = path.join(buildDir, entry);
      writeFileSync(file, readFileSync(file, "utf8").replaceAll(`${last}/`, `${buildDir}/`));
    }
  }
  const hostDir = path.join(repoRoot, "firmware", "host");
  const args = ["-s", "-j2", "-C", hostDir, `HEADER_DIR=${path.dirname(p.header)}`, `BUILD_DIR=${buildDir}`, `LAYOUT=${layout}`];
  const make = spawnSync("make", sketchDir === undefined ? args : [...args, `SKETCH_DIR=${sketchDir}`], {
    encoding: "utf8",
  });
  if (make.status !== 0) throw new Error(`make failed:\n${make.stdout}${make.stderr}`);
  lastBuild.set(key, buildDir);
  return path.join(buildDir, "firmware");
}

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Serial lines, without "\r". */
  lines: string[];
}

/** Serial lines the run has finished so far (a line ends in "\r\n"), without "\r". */
function finishedLines(serial: string): string[] {
  return serial.split("\n").filter((l) => l.endsWith("\r")).map((l) => l.replace(/\r$/, ""));
}

/** Where a run may stop: a line that matches, or a test on all the lines so far. */
export type Until = RegExp | ((lines: string[]) => boolean);

/**
 * Runs the rehearsal with win10.local mapped to loopback. Without `until` it resolves when the
 * run ends by itself (ESP_CERTS_RUN_SECONDS, default 3 s, or a deep sleep). With `until` it
 * ends the run (as when its time is up) once the serial lines reach it, however long a loaded
 * machine takes to get there: the run's own limit is then 60 s, a bound for a firmware that
 * never gets there, not a pace it must keep.
 */
export function runFirmware(binary: string, env: Record<string, string> = {}, until?: Until): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(binary, [], {
      env: { ...process.env, ESP_CERTS_HOSTS: "win10.local=127.0.0.1", ESP_CERTS_RUN_SECONDS: until === undefined ? "3" : "60", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const serial = () => {
      if (env.ESP_CERTS_SERIAL === undefined) return out;
      try {
        return readFileSync(env.ESP_CERTS_SERIAL, "utf8");
      } catch {
        return ""; // not opened yet
      }
    };
    const reached = typeof until === "function" ? until : (lines: string[]) => until !== undefined && lines.some((l) => until.test(l));
    child.stdout.on("data", (d) => (out += d));
    const poll = until === undefined ? undefined : setInterval(() => {
      if (reached(finishedLines(serial())) && child.exitCode === null && child.signalCode === null) child.kill("SIGALRM");
    }, 50);
    child.on("close", (status, signal) => {
      clearInterval(poll);
      resolve({ status, signal, lines: serial().split("\n").map((l) => l.replace(/\r$/, "")) });
    });
  });
}

/** A rehearsal still running: its serial lines so far, and a wait for the next one that matches. */
export interface Live {
  lines(): string[];
  /**
   * Resolves with the first line after the `after`-th that matches; rejects after `timeoutMs`
   * (default 60 s: a reconnect may follow a backoff of up to 8 s on a loaded machine), or
   * once the run has ended and all it printed was read.
   */
  waitFor(re: RegExp, after?: number, timeoutMs?: number): Promise<string>;
  /** Ends the run (the shim exits 0 on SIGALRM, as when its time is up). */
  stop(): Promise<void>;
}

export function startFirmware(binary: string, env: Record<string, string> = {}): Live {
  const child = spawn(binary, [], {
    env: { ...process.env, ESP_CERTS_HOSTS: "win10.local=127.0.0.1", ESP_CERTS_RUN_SECONDS: "120", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const lines = () => finishedLines(out);
  child.stdout.on("data", (d) => (out += d));
  // "close", not "exit": the last lines may still be in the pipe when the process has exited.
  let closed = false;
  const exited = new Promise<void>((resolve) =>
    child.once("close", () => {
      closed = true;
      resolve();
    }),
  );
  return {
    lines,
    waitFor: (re, after = 0, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = setInterval(() => {
          const hit = lines().slice(after).find((l) => re.test(l));
          if (hit !== undefined || Date.now() > deadline || closed) {
            clearInterval(poll);
            if (hit !== undefined) resolve(hit);
            else reject(new Error(`no line matching ${re} after line ${after}${closed ? " before the run ended" : ` within ${timeoutMs} ms`}; serial so far:\n${lines().join("\n")}`));
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
