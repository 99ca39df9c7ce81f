import { describe, expect, it } from "vitest";
import { readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { clientForEnv, loadConfig, resolveConfig } from "../../src/config/config.js";
import { parseIni, replaceSection, setKeys } from "../../src/config/ini.js";
import { defaultMqttHost, dnsNameProblem, machineName } from "../../src/config/validate.js";
import { EspCertsError } from "../../src/errors.js";
import { spawnSync } from "node:child_process";
import { cliPath, tmpProject } from "../helpers/cli.js";

const resolve = (ini: string, overrides = {}) => resolveConfig("/p", ini, overrides);
const rejects = (ini: string, overrides = {}) => {
  try {
    resolve(ini, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(EspCertsError);
    expect((err as EspCertsError).exitCode).toBe(2);
    return (err as EspCertsError).message;
  }
  throw new Error("expected the configuration to be refused");
};

describe("configuration (docs/configuration.md)", () => {
  it("has the documented defaults", () => {
    const c = resolve("", { host: "win10.local" });
    expect(c).toMatchObject({
      mqttPort: 8883,
      serverNames: ["localhost", "mosquitto"],
      serverIps: [],
      clients: ["dev01", "dev02"],
      subject: { country: "GB", state: "DOR", locality: "Bournemouth", organization: "MOSQUITTO" },
      keyType: "rsa2048",
      clientKeyType: "ec-p256",
      caDays: 3650,
      certDays: 825,
      certDir: "/p/certs",
      header: "/p/include/esp_certs.h",
    });
  });

  it("puts the header in the project's include_dir, as PlatformIO resolves it, unless header says where", () => {
    const header = (platformio: string, own = "") => resolve(`[platformio]\n${platformio}\n[common]\ninc = shared/inc\n[esp_certs]\nmqtt_host = w.local\n${own}`).header;
    expect(header("")).toBe("/p/include/esp_certs.h");
    expect(header("include_dir = firmware/include")).toBe("/p/firmware/include/esp_certs.h");
    expect(header("include_dir = lib\\inc\\")).toBe("/p/lib/inc/esp_certs.h");
    expect(header("include_dir = ${PROJECT_DIR}/src/inc")).toBe("/p/src/inc/esp_certs.h");
    expect(header("include_dir = ${common.inc}")).toBe("/p/shared/inc/esp_certs.h");
    expect(header("include_dir = /abs/inc")).toBe("/abs/inc/esp_certs.h");
    expect(header("include_dir = firmware/include", "header = my.h")).toBe("/p/my.h");
  });

  it("defaults mqtt_host to the host name's first label plus .local", () => {
    expect(resolve("").mqttHost).toMatch(/^[a-z0-9-]+\.local$/);
  });

  it("reads [esp_certs], multi-line lists and environments", () => {
    const c = resolve(
      "[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = dev02\n\n[esp_certs]\nmqtt_host = Win10.Local ; the PC\nclients =\n  dev01\n  dev02\n  dev03\nserver_ips = 192.168.1.10\n",
    );
    expect(c.mqttHost).toBe("win10.local");
    expect(c.clients).toEqual(["dev01", "dev02", "dev03"]);
    expect(c.serverIps).toEqual(["192.168.1.10"]);
    expect(clientForEnv(c, "d1_mini")).toBe("dev02");
    expect(clientForEnv(c)).toBe("dev02");
  });

  it("resolves custom_esp_certs_client as PlatformIO does: own, then extends, then [env]", () => {
    const c = resolve(
      "[env]\ncustom_esp_certs_client = dev02\n\n[base]\ncustom_esp_certs_client = dev03\n\n[env:a]\nboard = x\n\n[env:b]\nextends = base\n\n[env:c]\ncustom_esp_certs_client = dev01\nextends = base\n\n[esp_certs]\nmqtt_host = w.local\nclients = dev01, dev02, dev03\n",
    );
    expect(c.environments).toEqual([
      { name: "a", client: "dev02", board: "x" },
      { name: "b", client: "dev03" },
      { name: "c", client: "dev01" },
    ]);
  });

  it("takes a Mac's name from its LocalHostName, the name it answers to on .local, not from DHCP's host name", () => {
    expect(defaultMqttHost(machineName("darwin", () => "Johns-MacBook-Pro"))).toBe("johns-macbook-pro.local");
    expect(machineName("darwin", () => undefined)).toBe(hostname());
    expect(machineName("win32", () => "never asked")).toBe(hostname());
  });

  // Regression: a machine named "My_PC" got "Cannot use mqtt_host", a setting never written.
  it("says so when the machine's own name cannot be the default mqtt_host", () => {
    expect(defaultMqttHost("Win10.fritz.box")).toBe("win10.local");
    expect(() => defaultMqttHost("My_PC")).toThrow(/Cannot use this machine's name "My_PC" as mqtt_host/);
    try {
      defaultMqttHost("My_PC");
    } catch (err) {
      expect((err as EspCertsError).fix).toMatch(/mqtt_host = .*esp-certs init --host/);
    }
  });

  it("lets flags override the file for one run", () => {
    const c = resolve("[esp_certs]\nmqtt_host = a.local\n", { host: "b.local", clients: ["x1"] });
    expect(c.mqttHost).toBe("b.local");
    expect(c.clients).toEqual(["x1"]);
  });

  it("refuses an IP address as the MQTT host, and says why", () => {
    expect(rejects("[esp_certs]\nmqtt_host = 192.168.1.50\n")).toMatch(/BearSSL/);
  });

  it("accepts an IP host with --allow-ip, with a warning and an IP SAN", () => {
    const c = resolve("[esp_certs]\nmqtt_host = 192.168.1.50\n", { allowIp: true });
    expect(c.warnings.join()).toMatch(/56/);
    expect(c.serverIps).toContain("192.168.1.50");
  });

  it.each([
    ["an empty label", "win10..local", /empty label/],
    ["a leading hyphen", "-win10.local", /hyphen/],
    ["over 253 characters", `${"a".repeat(60)}.`.repeat(5) + "local", /253/],
    ["a space", "win 10.local", /space/],
  ])("refuses a host name with %s", (_what, host, reason) => {
    expect(rejects(`[esp_certs]\nmqtt_host = ${host}\n`, {})).toMatch(reason);
  });

  it.each([
    ["a country that is not two letters", "[esp_certs]\ncountry = GBR\n", /two-letter/],
    ["duplicate client ids", "[esp_certs]\nclients = dev01, DEV01\n", /twice/],
    ["an empty client id", "[esp_certs]\nclients = dev01,,dev02\n", /empty/],
    ["a client id that cannot be a file name", "[esp_certs]\nclients = dev01, ../x\n", /file/],
    ["a client id Windows keeps for a device (its files would be the serial port)", "[esp_certs]\nclients = dev01, com3\n", /Windows/],
    ["a client id Windows keeps for a device, before a dot", "[esp_certs]\nclients = Nul.board\n", /Windows/],
    ["an unknown key_type", "[esp_certs]\nkey_type = rsa1024\n", /rsa2048, ec-p256/],
    ["cert_days that is not a number of days", "[esp_certs]\ncert_days = soon\n", /whole number/],
    ["an environment naming an unknown client", "[env:x]\ncustom_esp_certs_client = dev09\n", /dev09/],
  ])("refuses %s", (_what, ini, reason) => {
    expect(rejects(ini, { host: "win10.local" })).toMatch(reason);
  });

  // PlatformIO reads platformio.ini with configparser(inline_comment_prefixes=("#", ";")),
  // which lower-cases keys; esp-certs must read the same values from it.
  it("reads platformio.ini as PlatformIO does: ' #' comments, keys in any case", () => {
    const c = resolve("[esp_certs]\nMQTT_Host = win10.local # the PC\nClients =\n  dev01 # the board\n  nodered\nserver_names = a.local ; b.local\n");
    expect(c.mqttHost).toBe("win10.local");
    expect(c.clients).toEqual(["dev01", "nodered"]);
    expect(c.serverNames).toEqual(["a.local"]);
    expect(c.warnings).toEqual([]);
    expect(resolve("[env:d1]\nCustom_ESP_Certs_Client = dev02\n[esp_certs]\nmqtt_host = w.local\n").environments).toEqual([{ name: "d1", client: "dev02" }]);
  });

  it("expands ${sysenv.NAME} and ${section.option} in values, as PlatformIO does", () => {
    const ini = "[common]\nids = dev01, board7\nboard = board7\n\n[env:d1]\ncustom_esp_certs_client = ${common.board}\n\n[esp_certs]\nmqtt_host = ${sysenv.BROKER_HOST}\nclients = ${common.ids}\norganization = ${sysenv.UNSET_HERE}\n";
    const c = resolveConfig("/p", ini, {}, { BROKER_HOST: "pc7.local" });
    expect(c.mqttHost).toBe("pc7.local");
    expect(c.clients).toEqual(["dev01", "board7"]);
    expect(clientForEnv(c, "d1")).toBe("board7");
    // An unset variable is empty to PlatformIO, so the default applies.
    expect(c.subject.organization).toBe("MOSQUITTO");
    expect(() => resolveConfig("/p", "[esp_certs]\nmqtt_host = ${nowhere.host}\n", {}, {})).toThrow(/\[nowhere\] has no host/);
    expect(() => resolveConfig("/p", "[a]\nx = ${a.x}\n[esp_certs]\nmqtt_host = ${a.x}\n", {}, {})).toThrow(/refers to itself/);
  });

  // Notepad's "UTF-8 with BOM": the first section was not seen, so its settings were lost.
  it("reads a file that starts with a byte-order mark, and warns that PlatformIO cannot", () => {
    const c = resolve("\uFEFF[esp_certs]\r\nmqtt_host = win10.local\r\n");
    expect(c.mqttHost).toBe("win10.local");
    expect(c.hasSection).toBe(true);
    expect(c.warnings.join()).toMatch(/byte-order mark.*UTF-8 without/);
  });

  it("refuses a section or a key given twice, as PlatformIO does", () => {
    expect(rejects("[esp_certs]\nmqtt_host = a.local\n\n[env:d1]\nboard = x\n\n[esp_certs]\nclients = dev01\n")).toMatch(/\[esp_certs\] appears twice \(lines 1 and 7\)/);
    expect(rejects("[esp_certs]\nmqtt_host = a.local\nMQTT_HOST = b.local\n")).toMatch(/mqtt_host.*twice.*\[esp_certs\] \(lines 2 and 3\)/);
  });

  // Regression: a file given as --project-dir crashed later with ENOTDIR from mkdir.
  it("refuses a --project-dir that is missing or is a file", () => {
    const file = path.join(tmpProject(), "platformio.ini");
    writeFileSync(file, "");
    expect(() => loadConfig(file)).toThrow(/Cannot open project .*: it is a file, not a folder/);
    expect(() => loadConfig(path.join(file, "..", "nope"))).toThrow(/the folder does not exist/);
  });

  it("knows what a valid DNS name is", () => {
    expect(dnsNameProblem("win10.local")).toBeUndefined();
    expect(dnsNameProblem("a-b.c-d.example")).toBeUndefined();
    expect(dnsNameProblem("a_b.local")).toMatch(/characters/);
  });
});

describe("platformio.ini editing keeps the user's file", () => {
  const ini = "; my project\n[env:d1_mini]\nboard = d1_mini\nlib_deps =\n  foo\n  bar\n\n[esp_certs]\nmqtt_host = old.local\n; a comment\nclients = dev01\n\n[env:other]\nboard = x\n";

  it("replaces a key written in another case where it stands", () => {
    const out = setKeys("[esp_certs]\nMQTT_HOST = old.local\n", "esp_certs", [["mqtt_host", "new.local"]]);
    expect(out).toBe("[esp_certs]\nmqtt_host = new.local\n");
  });

  it("replaces keys where they stand and appends new ones", () => {
    const out = setKeys(ini, "esp_certs", [["mqtt_host", "new.local"], ["allow_ip", "true"]]);
    expect(out).toBe(ini.replace("mqtt_host = old.local", "mqtt_host = new.local").replace("clients = dev01\n", "clients = dev01\nallow_ip = true\n"));
  });

  it("appends a missing section and keeps every other byte", () => {
    const without = "[env:d1_mini]\r\nboard = d1_mini\r\n";
    const out = setKeys(without, "esp_certs", [["mqtt_host", "a.local"]]);
    expect(out.startsWith(without)).toBe(true);
    expect(out).toContain("[esp_certs]\r\nmqtt_host = a.local");
    expect(parseIni(out).map((s) => s.name)).toEqual(["env:d1_mini", "esp_certs"]);
  });

  it("replaces a whole section in place", () => {
    const out = replaceSection(ini, "esp_certs", ["mqtt_host = z.local"]);
    expect(parseIni(out).map((s) => s.name)).toEqual(["env:d1_mini", "esp_certs", "env:other"]);
    expect(out).toContain("lib_deps =\n  foo\n  bar\n");
    expect(out).not.toContain("old.local");
  });

  // Issue 11, item 9: each of these was accepted, or crashed with a TypeError.
  it("refuses an IPv6 zone, an address among server_names, subject fields over X.520's bounds, and ports not in decimal", () => {
    const host = "[esp_certs]\nmqtt_host = win10.local\n";
    expect(rejects(`${host}server_ips = fe80::1%eth0\n`)).toContain("IPv6 zone");
    expect(rejects("[esp_certs]\nmqtt_host = fe80::1%eth0\nallow_ip = yes\n")).toContain("IPv6 zone");
    expect(rejects(`${host}server_names = localhost, 1.2.3.4\n`)).toContain("it is an IP address");
    expect(rejects(`${host}server_names = ::1\n`)).toContain("it is an IP address");
    expect(rejects(`${host}server_names = broker.123\n`)).toContain("all digits");
    expect(rejects(`${host}locality = ${"x".repeat(70000)}\n`)).toContain("at most 128");
    expect(rejects(`${host}state = ${"é".repeat(129)}\n`)).toContain("at most 128");
    expect(rejects(`${host}organization = ${"o".repeat(65)}\n`)).toContain("at most 64");
    expect(rejects(`${host}organization = ACME\n  Labs\n`)).toContain("control character");
    for (const port of ["1e3", "0x22b3", "8883.0", "+8883", "0", "65536"]) expect(rejects(`${host}mqtt_port = ${port}\n`)).toContain("mqtt_port");
    for (const days of ["1e3", "0x10"]) expect(rejects(`${host}cert_days = ${days}\n`)).toContain("cert_days");
    const ok = resolve(`${host}server_ips = fe80::1, 10.0.0.2\nlocality = ${"l".repeat(128)}\norganization = ${"o".repeat(64)}\nmqtt_port = 08883\n`);
    expect(ok.serverIps).toEqual(["fe80::1", "10.0.0.2"]);
    expect(ok.mqttPort).toBe(8883);
  });
});

describe("${...} references: bounded", () => {
  // A 2,000-deep chain overflowed the stack; a doubling one (each level naming the next twice) ran for minutes.
  const deep = (n: number) => ["[esp_certs]", "mqtt_host = ${c.v0}", "", "[c]", ...Array.from({ length: n }, (_, i) => `v${i} = \${c.v${i + 1}}`), `v${n} = win10.local`].join("\n");
  const doubling = (n: number) => ["[esp_certs]", "mqtt_host = ${c.v0}", "", "[c]", ...Array.from({ length: n }, (_, i) => `v${i} = \${c.v${i + 1}}\${c.v${i + 1}}`), `v${n} = a`].join("\n");

  it("refuses a chain deeper than 32 and one that expands without end, quickly, with exit 2", () => {
    expect(rejects(deep(2000))).toMatch(/mqtt_host|\$\{c\.v0\}.*deeper than 32 levels/);
    const t = Date.now();
    expect(rejects(doubling(20))).toMatch(/past 1000 expansions/);
    // Bounded, not fast: unbounded it ran for minutes; the bound leaves room for a loaded machine.
    expect(Date.now() - t).toBeLessThan(10_000);
    // A wide value within the budget but far too long.
    const wide = ["[esp_certs]", "mqtt_host = ${c.v0}", "", "[c]", `v0 = ${"${c.x}".repeat(500)}`, `x = ${"a".repeat(1000)}`].join("\n");
    expect(rejects(wide)).toMatch(/more than 64 KiB/);
    // An ordinary chain still works.
    expect(resolve(deep(10)).mqttHost).toBe("win10.local");
  });

  it("in the CLI and the pre-build hook's command: a message, no stack trace, no hang", () => {
    const dir = tmpProject();
    for (const ini of [deep(2000), doubling(20)]) {
      writeFileSync(path.join(dir, "platformio.ini"), `${ini}\n\n[env:d1_mini]\nboard = d1_mini\n`);
      for (const args of [["generate"], ["hook", "--env", "d1_mini"]]) {
        const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
        expect(r.signal, `${args[0]}: timed out`).toBeNull();
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/Cannot read .* in platformio\.ini: its \$\{\.\.\.\} references/);
        expect(r.stderr).not.toMatch(/RangeError|\n\s+at /);
      }
    }
  }, 90_000);
});

describe("cert_dir and the broker folder", () => {
  it("refuses cert_dir = broker (or inside it, or holding it) before anything is written", () => {
    for (const v of ["broker", "broker/certs", "./broker/", "."]) {
      expect(rejects(`[esp_certs]\nmqtt_host = win10.local\ncert_dir = ${v}\n`)).toMatch(/Cannot use cert_dir = .*broker folder/);
    }
    expect(resolve("[esp_certs]\nmqtt_host = win10.local\ncert_dir = brokers-certs\n").certDir).toBe(path.resolve("/p", "brokers-certs"));
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = win10.local\ncert_dir = broker\n\n[env:d1_mini]\nboard = d1_mini\n");
    const r = spawnSync(process.execPath, [cliPath, "generate"], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: "test-passphrase-not-a-secret" } });
    expect(r.status, r.stderr).toBe(2);
    expect(readdirSync(dir)).toEqual(["platformio.ini"]);
  });
});
