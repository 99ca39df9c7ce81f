// The one way a test makes a PlatformIO project: its platformio.ini from options, in a folder of
// the suite's temp helper (removed after the test file by test/helpers/cleanup.ts, nowhere else).
// A test whose point is a particular ini text passes it whole as `ini`.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { runCli } from "./cli.js";
import { tmpDir } from "./tmp.js";

export interface ProjectOptions {
  /** mqtt_host of [esp_certs]. Default win10.local. */
  host?: string;
  /** clients of [esp_certs], as written ("dev01, dev02, dev03"). Default: none, esp-certs' own. */
  clients?: string;
  /** Further [esp_certs] lines, as written ("key_type = ec-p256\n"). */
  extra?: string;
  /** [platformio] include_dir. Default: none, PlatformIO's include/. */
  includeDir?: string;
  /** An environment: true for [env:d1_mini] (board d1_mini), or the environment's name. Default none. */
  env?: boolean | string;
  /** Sections after [esp_certs], as written. */
  after?: string;
  /** The whole platformio.ini instead, as written. */
  ini?: string;
  /** The temp folder's name prefix. */
  prefix?: string;
  /** Runs `generate` in it, which must exit 0. */
  generate?: boolean;
  /** Then `broker --paths local` (a broker folder for a mosquitto run here), which must exit 0. */
  broker?: boolean;
}

/** platformio.ini's text for `o`: [platformio], the environment, [esp_certs], then `after`. */
export function projectIni(o: ProjectOptions = {}): string {
  if (o.ini !== undefined) return o.ini;
  const env = o.env === true ? "d1_mini" : o.env || undefined;
  return [
    o.includeDir !== undefined ? `[platformio]\ninclude_dir = ${o.includeDir}\n\n` : "",
    env !== undefined ? `[env:${env}]\nboard = d1_mini\n\n` : "",
    `[esp_certs]\nmqtt_host = ${o.host ?? "win10.local"}\n`,
    o.clients !== undefined ? `clients = ${o.clients}\n` : "",
    o.extra ?? "",
    o.after !== undefined ? `\n${o.after}` : "",
  ].join("");
}

/** A new project folder with platformio.ini written from `o`. */
export function project(o: ProjectOptions = {}): string {
  const dir = tmpDir(o.prefix);
  writeFileSync(path.join(dir, "platformio.ini"), projectIni(o));
  const steps = [...(o.generate || o.broker ? [["generate"]] : []), ...(o.broker ? [["broker", "--paths", "local"]] : [])];
  for (const args of steps) {
    const r = runCli(args, { cwd: dir });
    if (r.status !== 0) throw new Error(`esp-certs ${args.join(" ")} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  }
  return dir;
}

/** Where a project of `project()` gets its header: esp_certs.h in its include_dir. */
export function headerOf(dir: string, includeDir = "include"): string {
  return path.join(dir, includeDir, "esp_certs.h");
}
