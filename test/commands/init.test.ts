import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, tmpProject } from "../helpers/cli.js";

const USER_INI = `; my weather station
[platformio]
default_envs = d1_mini

[env:d1_mini]
platform = espressif8266
board = d1_mini
framework = arduino
lib_deps =
  bblanchon/ArduinoJson
extra_scripts = pre:version.py
`;

describe("esp-certs init: the main job on its defaults", () => {
  it("sets up an existing PlatformIO project, keeping what is there, and is quiet the second time", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    const r = runCli(["init", "--host", "weather-pc.local", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const ini = readFileSync(path.join(dir, "platformio.ini"), "utf8");
    for (const line of USER_INI.split("\n")) expect(ini).toContain(line);
    expect(ini).toMatch(/\[esp_certs\]\nmqtt_host = weather-pc\.local\nclients = dev01, dev02\napps = dev02\n/);
    // The header follows include_dir by default: no header line to go stale when include_dir changes.
    expect(ini).not.toMatch(/^header\s*=/m);
    expect(ini).toMatch(/extra_scripts = pre:version\.py\n\s+pre:esp_certs_hook\.py/);
    expect(existsSync(path.join(dir, "esp_certs_hook.py"))).toBe(true);
    // d1_mini's default layout, 4m1m, as esp-certs' variant: the identity never shares EEPROM's sector.
    expect(ini).toMatch(/\[env:d1_mini\][^[]*\nboard_build\.ldscript = esp-certs\.flash\.4m1m\.ld\n/);
    expect(readFileSync(path.join(dir, "esp-certs.flash.4m1m.ld"), "utf8")).toMatch(/^PROVIDE \( _FS_end = 0x405F8000 \);$/m);
    expect(r.stdout).toMatch(/\[env:d1_mini\] links with esp-certs\.flash\.4m1m\.ld: the device's identity has two flash sectors of its own; the filesystem is 992 KiB \(1000 KiB before\)/);
    // The header lands where PlatformIO's compiler looks, with the device's host in it.
    expect(readFileSync(path.join(dir, "include/esp_certs.h"), "utf8")).toContain('#define ESP_CERTS_MQTT_HOST "weather-pc.local"');
    expect(readFileSync(path.join(dir, "broker/mosquitto.conf"), "utf8")).toMatch(/^listener 8883/m);
    expect(readFileSync(path.join(dir, ".gitignore"), "utf8").split("\n")).toEqual(expect.arrayContaining(["certs/", "include/esp_certs.h", "broker/", "include/wifi_secrets.h"]));

    const again = runCli(["init", "--host", "weather-pc.local", "--yes"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/^(wrote|created|reissued)/m);
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toBe(ini);
  });

  it("leaves an environment's own board_build.ldscript as it is, and says what would free the EEPROM sector", () => {
    const dir = tmpProject();
    const ini = USER_INI.replace("board = d1_mini\n", "board = d1_mini\nboard_build.ldscript = eagle.flash.4m2m.ld\n") + "\n[env:esp01]\nboard = esp01_1m\nboard_build.ldscript = eagle.flash.1m256.ld\n\n[env:custom]\nboard = my_board\n";
    writeFileSync(path.join(dir, "platformio.ini"), ini);
    const r = runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const after = readFileSync(path.join(dir, "platformio.ini"), "utf8");
    expect(after.match(/board_build\.ldscript/g)).toHaveLength(2);
    expect(existsSync(path.join(dir, "esp-certs.flash.4m2m.ld"))).toBe(false);
    expect(r.stderr).toMatch(/\[env:d1_mini\] links with eagle\.flash\.4m2m\.ld: one of the device's two credential sectors is the EEPROM library's .*\. Set "board_build\.ldscript = esp-certs\.flash\.4m2m\.ld" in \[env:d1_mini\]/);
    expect(r.stderr).toMatch(/\[env:esp01\] links with eagle\.flash\.1m256\.ld: the device's identity is in the EEPROM library's sector \(a sketch writing EEPROM erases it\), and there is no second sector for a renewal in the field/);
    expect(r.stderr).toMatch(/esp-certs does not know the flash layout of \[env:custom\] \(board my_board\)/);
  });

  it("gives no ESP8266 flash layout, and no advice, to a native test environment or an ESP32 one", () => {
    const dir = tmpProject();
    const ini = `${USER_INI}\n[env:native]\nplatform = native\ntest_framework = unity\n\n[env:esp32]\nplatform = espressif32\nboard = esp32dev\n\n[env:pinned]\nplatform = espressif8266@4.2.1\nboard = esp01_1m\n`;
    writeFileSync(path.join(dir, "platformio.ini"), ini);
    const r = runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const after = readFileSync(path.join(dir, "platformio.ini"), "utf8");
    expect(after).toMatch(/\[env:native\]\nplatform = native\ntest_framework = unity\n\n\[env:esp32\]\nplatform = espressif32\nboard = esp32dev\n\n/);
    expect(after).toMatch(/\[env:pinned\][^[]*\nboard_build\.ldscript = esp-certs\.flash\.1m256\.ld\n/);
    expect(r.stderr).not.toMatch(/flash layout/);
  });

  it("says what a layout without a filesystem gives up for the identity's sectors", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), "[env:slot]\nplatform = espressif8266\nboard = wifi_slot\n");
    const r = runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("[env:slot] links with esp-certs.flash.1m.ld: the device's identity has two flash sectors of its own; the sketch and OTA updates have 8 KiB less room (no filesystem).\n");
    // Above 1 MB the sketch keeps its first MB: only the OTA area ends below the two sectors.
    const big = tmpProject();
    writeFileSync(path.join(big, "platformio.ini"), "[env:wroom]\nplatform = espressif8266\nboard = esp_wroom_02\n");
    const w = runCli(["init", "--host", "win10.local", "--yes"], { cwd: big });
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout).toContain("[env:wroom] links with esp-certs.flash.2m.ld: the device's identity has two flash sectors of its own; OTA updates have 8 KiB less room (no filesystem).\n");
  });

  it("refuses a folder where its linker script goes, before writing anything", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    mkdirSync(path.join(dir, "esp-certs.flash.4m1m.ld"));
    const r = runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^esp-certs: Cannot read .*esp-certs\.flash\.4m1m\.ld: it is a folder, not a file\n/);
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toBe(USER_INI);
    expect(existsSync(path.join(dir, "certs"))).toBe(false);
  });

  it("says how to get the user's own file of its linker script's name out of the way, before writing anything", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    writeFileSync(path.join(dir, "esp-certs.flash.4m1m.ld"), "/* mine */\n");
    const r = runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(2);
    // No environment names it yet: init chose the name.
    expect(r.stderr).toBe(
      "esp-certs: Cannot write esp-certs.flash.4m1m.ld: a file of that name is there, and esp-certs did not write it\n" +
        "  Move your esp-certs.flash.4m1m.ld away, or rename it (and board_build.ldscript where an environment names it), so that esp-certs can write its layout there.\n",
    );
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toBe(USER_INI);
    expect(readFileSync(path.join(dir, "esp-certs.flash.4m1m.ld"), "utf8")).toBe("/* mine */\n");
  });

  it("makes platformio.ini in an empty folder", () => {
    const dir = tmpProject();
    const r = runCli(["init", "--host", "win10.local", "--clients", "board1,nodered", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toContain("[esp_certs]\nmqtt_host = win10.local\nclients = board1, nodered\napps = nodered\n");
    expect(existsSync(path.join(dir, "certs/clients/nodered.crt.pem"))).toBe(true);
  });

  it("leaves a broker/ folder with the user's own mosquitto.conf alone, and says so", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    mkdirSync(path.join(dir, "broker"));
    writeFileSync(path.join(dir, "broker/mosquitto.conf"), "listener 1883\n");
    const r = runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/mosquitto\.conf is your own: left as it is/);
    expect(readFileSync(path.join(dir, "broker/mosquitto.conf"), "utf8")).toBe("listener 1883\n");
  });

  it("settles the new CA's passphrase before writing anything", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    const r = runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/passphrase/);
    expect(r.stdout).toBe("");
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toBe(USER_INI);
    expect(existsSync(path.join(dir, "esp_certs_hook.py"))).toBe(false);
    expect(existsSync(path.join(dir, ".gitignore"))).toBe(false);
  });

  // Regression: with an existing CA and a wrong passphrase, init wrote the new clients and
  // mqtt_host into platformio.ini, then exited 2; every build after that failed in the hook.
  it("checks an existing CA's passphrase before writing anything", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    expect(runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir }).status).toBe(0);
    const ini = readFileSync(path.join(dir, "platformio.ini"), "utf8");
    const header = readFileSync(path.join(dir, "include/esp_certs.h"), "utf8");
    const r = runCli(["init", "--host", "other.local", "--clients", "dev01,dev03", "--yes"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "not-the-passphrase" } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Cannot unlock the CA key: the passphrase does not decrypt/);
    expect(r.stdout).toBe("");
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toBe(ini);
    expect(readFileSync(path.join(dir, "include/esp_certs.h"), "utf8")).toBe(header);
    expect(existsSync(path.join(dir, "certs/clients/dev03.crt.pem"))).toBe(false);
    // Nothing to sign: no passphrase needed, and the project builds as before.
    expect(runCli(["init", "--host", "win10.local", "--yes"], { cwd: dir, env: { ESP_CERTS_CA_PASSPHRASE: "" } }).status).toBe(0);
  });

  it("says which mqtt_host the devices will dial, and how to change it", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    // An installed esp-certs on PATH (as after Install): the lines name it.
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(path.join(bin, "esp-certs"), "", { mode: 0o755 });
    const chosen = runCli(["init", "--yes"], { cwd: dir, env: { PATH: `${bin}${path.delimiter}${process.env.PATH}` } });
    expect(chosen.status, chosen.stderr).toBe(0);
    expect(chosen.stdout).toContain("Next: the Node-RED flow with  esp-certs nodered");
    const host = /^mqtt_host = (.+)$/m.exec(readFileSync(path.join(dir, "platformio.ini"), "utf8"))![1];
    expect(chosen.stdout).toContain(`Devices dial mqtt_host = ${host} (this machine's name, which the devices find by mDNS). For another broker name: esp-certs init --host <name>`);
    expect(runCli(["init", "--yes"], { cwd: dir }).stdout).toContain(`mqtt_host = ${host} (as platformio.ini has it)`);
    expect(runCli(["init", "--host", "pc2.local", "--yes"], { cwd: dir }).stdout).toContain("mqtt_host = pc2.local (from --host)");

    // The project's own copy (npm install --save-dev, run with npx): the lines say npx.
    const local = path.join(dir, "node_modules", ".bin");
    mkdirSync(local, { recursive: true });
    writeFileSync(path.join(local, "esp-certs"), "", { mode: 0o755 });
    const npx = runCli(["init", "--yes"], { cwd: dir, env: { PATH: `${local}${path.delimiter}${process.env.PATH}` } });
    expect(npx.stdout).toContain("For another broker name: npx esp-certs init --host <name>");
    expect(npx.stdout).toContain("Next: the Node-RED flow with  npx esp-certs nodered ; build and flash with  npx esp-certs flash --port <port>");
    expect(npx.stdout).not.toContain("not on PATH");
  });

  it("--clients '' is an empty list, not a stray comma", () => {
    const dir = tmpProject();
    const empty = runCli(["init", "--clients", "", "--yes"], { cwd: dir });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain("Cannot read clients: the list is empty");
    expect(empty.stderr).toContain("--clients dev01,dev02");
    expect(empty.stderr).not.toContain("comma");
    const stray = runCli(["init", "--clients", "dev01,,dev02", "--yes"], { cwd: dir });
    expect(stray.stderr).toContain('a client id is empty in "dev01,,dev02"');
    expect(stray.stderr).toContain("Remove the stray comma.");
  });

  it("refuses a bad host before writing anything", () => {
    const dir = tmpProject();
    writeFileSync(path.join(dir, "platformio.ini"), USER_INI);
    const r = runCli(["init", "--host", "192.168.1.20", "--yes"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/IP address/);
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toBe(USER_INI);
    expect(existsSync(path.join(dir, "certs"))).toBe(false);
    expect(existsSync(path.join(dir, "esp_certs_hook.py"))).toBe(false);
  });

  // Regression: with Notepad's byte-order mark the first section went unseen, and init
  // appended a second [esp_certs] (which PlatformIO refuses).
  it("edits a Windows platformio.ini in place: byte-order mark, CRLF, keys in another case", () => {
    const dir = tmpProject();
    const before = "\uFEFF[esp_certs]\r\nMQTT_HOST = old.local # the old PC\r\n\r\n[env:d1_mini]\r\nboard = d1_mini\r\n";
    writeFileSync(path.join(dir, "platformio.ini"), before);
    const r = runCli(["init", "--host", "new.local", "--yes"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const after = readFileSync(path.join(dir, "platformio.ini"), "utf8");
    expect(after.startsWith("\uFEFF[esp_certs]\r\nmqtt_host = new.local\r\n")).toBe(true);
    expect(after.match(/\[esp_certs\]/g)).toHaveLength(1);
    expect(after.replace(/\r\n/g, "")).not.toMatch(/\n/);
    expect(after).toContain("\r\n[env:d1_mini]\r\nboard = d1_mini\r\n");
    expect(r.stderr).toMatch(/byte-order mark/);
  });

  it("keeps the user's own lines: comments, and ${sysenv.X} references, when their value stays", () => {
    const dir = tmpProject();
    const own = "[esp_certs]\nmqtt_host = ${sysenv.BROKER_HOST} ; set per machine\nclients = dev01, dev02 ; the board, Node-RED\nheader = include/esp_certs.h\n";
    writeFileSync(path.join(dir, "platformio.ini"), `[env:d1_mini]\nboard = d1_mini\n\n${own}`);
    const r = runCli(["init", "--yes"], { cwd: dir, env: { BROKER_HOST: "pc7.local" } });
    expect(r.status, r.stderr).toBe(0);
    const before = readFileSync(path.join(dir, "platformio.ini"), "utf8");
    expect(before).toContain(own);
    expect(readFileSync(path.join(dir, "include/esp_certs.h"), "utf8")).toContain('#define ESP_CERTS_MQTT_HOST "pc7.local"');
    // Given again on the command line, the same value leaves the line as it is too.
    expect(runCli(["init", "--host", "pc7.local", "--clients", "dev01,dev02", "--yes"], { cwd: dir, env: { BROKER_HOST: "pc7.local" } }).status).toBe(0);
    expect(readFileSync(path.join(dir, "platformio.ini"), "utf8")).toBe(before);
  });

  it("a missing --project-dir is refused and left missing; an empty folder gets a word about [env:...] and a readable include/", () => {
    const parent = tmpProject();
    const missing = path.join(parent, "missing");
    const r = runCli(["init", "--project-dir", missing, "--host", "win10.local", "--yes"], { cwd: parent });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the folder does not exist");
    expect(existsSync(missing)).toBe(false);

    const empty = path.join(parent, "empty");
    mkdirSync(empty);
    const made = runCli(["init", "--project-dir", empty, "--host", "win10.local", "--yes"], { cwd: parent });
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toContain("platformio.ini has no [env:NAME] section, so PlatformIO has nothing to build");
    if (process.platform !== "win32") expect((statSync(path.join(empty, "include")).mode & 0o077).toString(8)).not.toBe("0");
  });
});
