// `installIntoProject`: esp-certs added to a user's own PlatformIO project keeps what is
// there, adds the hook once (into every extra_scripts PlatformIO would read), and ignores
// the secrets in git. PlatformIO's own parser (Python configparser) must read the result.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { installIntoProject, withHookEntry } from "../../src/platformio/project.js";
import { repoRoot, tmpProject } from "../helpers/cli.js";
import { requirePython } from "../helpers/tools.js";

const python = requirePython();
const hasPython = python !== undefined;

/** extra_scripts of each section as PlatformIO reads them (config.py: ConfigParser + parse_multi_values). */
function platformioReads(ini: string): Record<string, string[]> {
  const py = `
import configparser, json, sys
c = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
c.read_string(sys.stdin.read())
def items(v):
    return [i.strip() for i in v.split("\\n" if "\\n" in v else ", ") if i.strip() and not i.strip().startswith((";", "#"))]
print(json.dumps({s: items(c.get(s, "extra_scripts")) for s in c.sections() if c.has_option(s, "extra_scripts")}))`;
  const r = spawnSync(python!, ["-c", py], { input: ini, encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const USER_INI = `; my weather station
[platformio]
default_envs = d1

[env]
platform = espressif8266
extra_scripts = pre:version.py, post:size.py ; mine

[env:d1]
board = d1_mini
extra_scripts =
    pre:version.py
    ; the OTA one
    post:ota.py

[env:nodemcu]
board = nodemcuv2

[esp_certs]
mqtt_host = win10.local
`;

describe("esp-certs in a user's PlatformIO project", () => {
  it("installs the hook, the extra_scripts entries and the .gitignore lines, once", () => {
    const dir = tmpProject("esp-certs-proj-");
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    writeFileSync(path.join(dir, ".gitignore"), ".pio\n");
    const first = installIntoProject(dir);
    expect(first.changed.sort()).toEqual([".gitignore", "esp_certs_hook.py", "platformio.ini"].map((f) => path.join(dir, f)));
    expect(readFileSync(path.join(dir, "esp_certs_hook.py"), "utf8")).toBe(readFileSync(path.join(repoRoot, "firmware", "esp_certs_hook.py"), "utf8"));
    const ini = readFileSync(path.join(dir, "platformio.ini"), "utf8");
    // Everything that was there is still there, comments included.
    for (const line of USER_INI.split("\n").filter((l) => !l.startsWith("extra_scripts = pre:version.py, post"))) expect(ini).toContain(line);
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toBe(
      ".pio\n\n# esp-certs: the certificate store, the firmware header, the broker folder and interrupted writes hold private keys; wifi_secrets.h the WiFi password\ncerts/\ninclude/esp_certs.h\nbroker/\ninclude/wifi_secrets.h\n*.esp-certs-tmp\n",
    );
    expect(installIntoProject(dir).changed).toEqual([]);
  });

  it.skipIf(!hasPython)("leaves PlatformIO reading every script it read before, plus the hook", () => {
    const after = withHookEntry(USER_INI);
    expect(platformioReads(after)).toEqual({
      env: ["pre:version.py", "post:size.py", "pre:esp_certs_hook.py"],
      "env:d1": ["pre:version.py", "post:ota.py", "pre:esp_certs_hook.py"],
    });
    expect(withHookEntry(after)).toBe(after);
  });

  it.skipIf(!hasPython)("adds an [env] section before the environments when there is none", () => {
    const after = withHookEntry("[platformio]\r\nsrc_dir = src\r\n\r\n[env:d1]\r\nboard = d1_mini\r\n");
    expect(after).toBe("[platformio]\r\nsrc_dir = src\r\n\r\n[env]\r\nextra_scripts = pre:esp_certs_hook.py\r\n\r\n[env:d1]\r\nboard = d1_mini\r\n");
    expect(platformioReads(after)).toEqual({ env: ["pre:esp_certs_hook.py"] });
  });

  it("keeps a hook the project already runs from elsewhere (this repository's firmware/)", () => {
    const dir = tmpProject("esp-certs-proj-");
    const ini = readFileSync(path.join(repoRoot, "platformio.ini"), "utf8");
    writeFileSync(path.join(dir, "platformio.ini"), ini);
    const { changed } = installIntoProject(dir);
    expect(changed).toEqual([path.join(dir, ".gitignore")]);
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toBe(ini);
  });
});

describe.skipIf(!hasPython)("this repository's platformio.ini", () => {
  it("is read by PlatformIO's parser and by esp-certs alike", async () => {
    const ini = readFileSync(path.join(repoRoot, "platformio.ini"), "utf8");
    expect(platformioReads(ini)).toEqual({ env: ["pre:firmware/esp_certs_hook.py"] });
    const { resolveConfig } = await import("../../src/config/config.js");
    const config = resolveConfig(repoRoot, ini, { host: "win10.local" });
    // Every environment links with esp-certs' variant of the 4 MB boards' layout, from [env].
    const ldscript = "esp-certs.flash.4m1m.ld";
    expect(config.environments).toEqual([
      { name: "d1_mini", client: "dev01", platform: "espressif8266", board: "d1_mini", ldscript },
      { name: "nodemcuv2", client: "dev01", platform: "espressif8266", board: "nodemcuv2", ldscript },
      { name: "d1_mini_fleet", client: "none", platform: "espressif8266", board: "d1_mini", ldscript },
    ]);
    expect(config.warnings).toEqual([]);
    expect(config.header).toBe(path.join(repoRoot, "firmware", "include", "esp_certs.h"));
  });
});
