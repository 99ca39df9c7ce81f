import { describe, expect, it } from "vitest";
import { feedLine } from "../../src/monitor/feed.js";
import { finish, initialState, type Expected, type MonitorState } from "../../src/monitor/verdict.js";
import { LineSplitter } from "../../src/serial/lines.js";
import { CASES, fixtureBytes } from "./cases.js";

const CA = "ef8ec94449e9ab38";
const EXPECTED: Expected = { host: "win10.local", port: 8883, ca: CA, certDir: "/p/certs", serial: "/dev/ttyUSB0" };

/** Plays lines into the state machine as the monitor does; undefined verdict = still waiting. */
function play(lines: string[], expected: Expected = EXPECTED): MonitorState {
  let s = initialState(expected);
  for (const line of lines) s = feedLine(s, line).state;
  return s;
}

const BOOT = `[esp-certs] boot client=dev01 host=win10.local port=8883 ca=${CA}`;
const UP = [BOOT, "[esp-certs] wifi ok ip=192.168.1.50", "[esp-certs] time ok epoch=1795760300 source=ntp"];
const TLS_OK = "[esp-certs] tls ok host=win10.local port=8883 ms=1840 heap=21440 mfln=none";

describe("recorded logs, replayed without a port", () => {
  for (const c of CASES) {
    it(`${c.log} -> ${c.diagnosis}`, () => {
      // Odd-sized chunks: lines split across reads must come out whole.
      const bytes = fixtureBytes(c.log, CA);
      const splitter = new LineSplitter();
      let s = initialState(EXPECTED);
      for (let i = 0; i < bytes.length; i += 7) {
        for (const line of splitter.push(bytes.subarray(i, i + 7))) s = feedLine(s, line).state;
      }
      const v = finish(s, 1);
      expect(v.id).toBe(c.diagnosis);
      expect(v.exitCode).toBe(c.exit);
    });
  }

  it("reads the boot line glued to the ROM's noise", () => {
    const s = play(fixtureBytes("tls-56-bad-server-name.log", CA).toString("latin1").split("\n"));
    expect(s.device).toMatchObject({ client: "dev01", host: "win10.local", ca: CA });
  });
});

describe("verdict", () => {
  it("is verified only after tls ok and mqtt ok for the configured host, port and CA", () => {
    const s = play([...UP, TLS_OK]);
    expect(s.verdict).toBeUndefined();
    const v = play([...UP, TLS_OK, "[esp-certs] mqtt ok client=dev01"]).verdict!;
    expect(v).toMatchObject({ result: "verified", exitCode: 0 });
  });

  it("keeps resumed= from the tls ok line, and verifies firmware that predates it all the same", () => {
    const resumed = play([...UP, `${TLS_OK} resumed=1`, "[esp-certs] mqtt ok client=dev01"]);
    expect(resumed.verdict).toMatchObject({ result: "verified" });
    expect(resumed.device.resumed).toBe(true);
    const older = play([...UP, TLS_OK, "[esp-certs] mqtt ok client=dev01"]);
    expect(older.verdict).toMatchObject({ result: "verified" });
    expect(older.device.resumed).toBeUndefined();
  });

  it("is not verified without a local CA to compare with", () => {
    const v = play([...UP, TLS_OK, "[esp-certs] mqtt ok client=dev01"], { ...EXPECTED, ca: undefined }).verdict!;
    expect(v).toMatchObject({ result: "failed", id: "no-local-ca" });
    expect(v.cause).toContain("/p/certs");
  });

  it("is not verified when the boot line (and so the device's CA) was missed", () => {
    const v = play(["[esp-certs] wifi ok ip=1.2.3.4", TLS_OK, "[esp-certs] mqtt ok client=dev01"]).verdict!;
    expect(v.id).toBe("no-boot-line");
    expect(v.fix).toContain("without --no-reset");
  });

  it("is not verified when the firmware never says which host and port it connected to", () => {
    const bare = [`[esp-certs] boot client=dev01 ca=${CA}`, "[esp-certs] wifi ok ip=1.2.3.4", "[esp-certs] tls ok ms=1840 heap=21440", "[esp-certs] mqtt ok client=dev01"];
    const v = play(bare).verdict!;
    expect(v).toMatchObject({ result: "failed", exitCode: 1, id: "unconfirmed-host" });
    expect(v.cause).toContain("win10.local:8883");
    // The boot line named them: a tls ok line without them still counts, and the title names them.
    const named = play([BOOT, "[esp-certs] wifi ok ip=1.2.3.4", "[esp-certs] tls ok ms=1840 heap=21440", "[esp-certs] mqtt ok client=dev01"]).verdict!;
    expect(named).toMatchObject({ result: "verified" });
    expect(named.title).toContain("win10.local:8883");
  });

  it("fails at once on another CA, another host or another port", () => {
    expect(play([BOOT.replace(CA, "0000000000000000")]).verdict?.id).toBe("ca-mismatch");
    expect(play([BOOT.replace("win10.local", "WIN10.LOCAL")]).verdict).toBeUndefined();
    expect(play([BOOT.replace("port=8883", "port=1883")]).verdict?.id).toBe("wrong-host");
    expect(play([...UP, TLS_OK.replace("port=8883", "port=8884")]).verdict?.id).toBe("wrong-host");
    // Each field on its own: a line that names only one of them is still checked.
    expect(play([BOOT.replace("host=win10.local ", "").replace("port=8883", "port=1883")]).verdict?.id).toBe("wrong-host");
  });

  it("reads a TLS alert both as 256 + alert and as the stripped number with the alert's words", () => {
    for (const line of ['code=296 text="SSL received fatal alert - Unknown error code."', 'code=40 text="SSL received fatal alert - Decoding error: extraneous element."']) {
      expect(play([...UP, `[esp-certs] tls fail ${line}`]).verdict?.id).toBe("alert-received-40");
    }
    expect(play([...UP, '[esp-certs] tls fail code=304 text="SSL received fatal alert - Unknown error code."']).verdict?.id).toBe("alert-received-48");
    expect(play([...UP, '[esp-certs] tls fail code=326 text="SSL received fatal alert - x"']).verdict?.id).toBe("alert-received-70");
    // What a revoked device receives from Mosquitto (OpenSSL's alert for X509_V_ERR_CERT_REVOKED).
    const revoked = play([...UP, '[esp-certs] tls fail code=300 text="SSL received fatal alert - Unknown error code."']).verdict!;
    expect(revoked.id).toBe("alert-received-44");
    expect(revoked.title).toContain("revoked, or not trusted");
    expect(revoked.fix).toContain("esp-certs status");
    // It names the device's id, and the way back for where its identity lives.
    expect(revoked.fix).toContain("`esp-certs generate --rekey dev01`, then `esp-certs flash --port /dev/ttyUSB0`");
    const flashUp = [`${BOOT} cred=flash`, ...UP.slice(1)];
    const provisioned = play([...flashUp, '[esp-certs] tls fail code=300 text="SSL received fatal alert - x"']).verdict!;
    expect(provisioned.fix).toContain("`esp-certs provision --port /dev/ttyUSB0 --client dev01`");
    expect(provisioned.fix).not.toContain("flash --port");
    const sent = play([...UP, '[esp-certs] tls fail code=554 text="SSL sent fatal alert - Unknown error code."']).verdict!;
    expect(sent.id).toBe("alert-sent");
    expect(sent.title).toContain("bad_certificate (alert 42)");
    const other = play([...UP, '[esp-certs] tls fail code=336 text="SSL received fatal alert - x"']).verdict!;
    expect(other).toMatchObject({ id: "alert-received" });
    expect(other.title).toContain("internal_error (alert 80)");
  });

  it("tells the clock's two stories for 54, and the CA's two for 62", () => {
    expect(play([...UP, '[esp-certs] tls fail code=54 text="x"']).verdict?.id).toBe("tls-54");
    expect(play([BOOT, '[esp-certs] time ok epoch=1 source=floor', '[esp-certs] tls fail code=54 text="x"']).verdict?.id).toBe("tls-54-floor");
    expect(play([...UP, '[esp-certs] tls fail code=62 text="x"']).verdict?.id).toBe("tls-62-broker-ca");
    const unknownCa = play(["[esp-certs] wifi ok", '[esp-certs] tls fail code=62 text="x"']).verdict!;
    expect(unknownCa.id).toBe("tls-62");
    expect(unknownCa.fix).toContain("esp-certs flash --port /dev/ttyUSB0");
    expect(unknownCa.fix).toContain("esp-certs broker");
  });

  it("does not offer an IP address as a name to put in the certificate for 56: BearSSL never matches one", () => {
    const ip: Expected = { ...EXPECTED, host: "192.168.1.10" };
    const v = play([BOOT.replace("win10.local", "192.168.1.10"), '[esp-certs] tls fail code=56 text="Expected server name was not found in the chain."'], ip).verdict!;
    expect(v.id).toBe("tls-56-ip");
    expect(v.fix).not.toContain("--host 192.168.1.10");
    expect(v.fix).toContain("esp-certs init --host");
    expect(play([...UP, '[esp-certs] tls fail code=56 text="x"']).verdict?.id).toBe("tls-56");
  });

  // Regression: the fix for 56 said to re-issue for the host when the store's certificate
  // already named it; generate then kept it, and the device failed the same way.
  it("56 while the store's broker certificate names the host: the broker runs another certificate", () => {
    const named: Expected = { ...EXPECTED, brokerNames: ["WIN10.local", "localhost"] };
    const v = play([...UP, '[esp-certs] tls fail code=56 text="x"'], named).verdict!;
    expect(v.id).toBe("tls-56-broker-stale");
    expect(v.cause).toContain("/p/certs/server.crt.pem) does name win10.local");
    expect(v.cause).toContain("another store's");
    expect(v.fix).toContain("esp-certs broker");
    expect(v.fix).not.toContain("generate");
    const other: Expected = { ...EXPECTED, brokerNames: ["other.local"] };
    expect(play([...UP, '[esp-certs] tls fail code=56 text="x"'], other).verdict?.id).toBe("tls-56");
  });

  it("names every BearSSL code, with a generic diagnosis where no specific one exists", () => {
    const v = play([...UP, '[esp-certs] tls fail code=23 text="Internal limit exceeded"']).verdict!;
    expect(v).toMatchObject({ id: "tls" });
    expect(v.title).toContain("BR_ERR_LIMIT_EXCEEDED = 23");
    expect(play([...UP, '[esp-certs] tls fail code=47 text="Invalid distinguished name."']).verdict?.id).toBe("tls-x509");
    for (const code of [28, 31, 57, 58]) expect(play([...UP, `[esp-certs] tls fail code=${code} text="x"`]).verdict?.id).toBe(`tls-${code}`);
    expect(play([...UP, '[esp-certs] tls fail code=-1000 text="x"']).verdict?.id).toBe("tls-oom");
  });

  it("diagnoses WiFi and every PubSubClient failure state", () => {
    expect(play([BOOT, "[esp-certs] wifi fail status=6"]).verdict?.id).toBe("wifi-6");
    expect(play([BOOT, "[esp-certs] wifi fail status=7"]).verdict?.title).toContain("WL_DISCONNECTED = 7");
    for (const state of [-4, -3, -2, 1, 2, 4, 5]) expect(play([...UP, TLS_OK, `[esp-certs] mqtt fail state=${state}`]).verdict?.id).toBe(`mqtt-${state}`);
    expect(play([...UP, TLS_OK, "[esp-certs] mqtt fail state=-1"]).verdict?.title).toContain("MQTT_DISCONNECTED = -1");
  });

  it("reads the firmware's code 0 as a connection that never opened", () => {
    const v = play([...UP, '[esp-certs] tls fail code=0 text="no TCP connection to win10.local:8883 (name not resolved, or no broker listening)"']).verdict!;
    expect(v.id).toBe("no-connection");
    expect(v.fix).toContain("esp-certs doctor");
  });

  it("understands the workshop sketch: SSL error 0 is no TLS failure", () => {
    const s = play(["WiFi Connected", "last SSL Error = 0 : OK"]);
    expect(s.verdict).toBeUndefined();
    expect(play(["WiFi Connected", "last SSL Error = 0 : OK", "MQTT Failed to connect! ... retrying"]).verdict?.id).toBe("mqtt-plain");
  });

  it("sees a reboot loop in three boots without a result, and a ROM reset plus its boot line as one", () => {
    expect(play([BOOT, BOOT]).verdict).toBeUndefined();
    expect(play([BOOT, BOOT, BOOT]).verdict?.id).toBe("reboot-loop");
    const romThenBoot = [" ets Jan  8 2013,rst cause:2, boot mode:(3,6)", "load 0x4010f000, len 3460, room 16", BOOT];
    expect(play([...romThenBoot, ...romThenBoot]).boots).toBe(2);
  });

  it("counts a wake from deep sleep as no restart: after a sleep line, or the ROM's rst cause 5", () => {
    const SLEEP = "[esp-certs] sleep ms=15000 us=300000000";
    const afterSleep = play([BOOT, SLEEP, BOOT, SLEEP, BOOT, SLEEP, BOOT]);
    expect(afterSleep.verdict).toBeUndefined();
    expect(afterSleep).toMatchObject({ boots: 1, wakes: 3, stage: "booted" });
    const rom5 = [" ets Jan  8 2013,rst cause:5, boot mode:(3,6)", "load 0x4010f000, len 3460, room 16", BOOT];
    const romWakes = play([...rom5, ...rom5, ...rom5, ...rom5]);
    expect(romWakes.verdict).toBeUndefined();
    expect(romWakes).toMatchObject({ boots: 0, wakes: 4 });
    // A restart of any other cause after a sleep line still counts (the reset button, a crash).
    const rom2 = [" ets Jan  8 2013,rst cause:2, boot mode:(3,6)", BOOT];
    expect(play([...rom2, SLEEP, ...rom2, SLEEP, ...rom2]).verdict?.id).toBe("reboot-loop");
  });

  it("says what a wake reused, and that a discarded RTC image is no failure", () => {
    const resumedWake = [BOOT, "[esp-certs] rtc ok age=600 ip=192.168.1.20 mfln=512 session=1", "[esp-certs] wifi ok ip=192.168.1.50",
      "[esp-certs] time ok epoch=1795760900 source=rtc", `${TLS_OK} resumed=1`, "[esp-certs] mqtt ok client=dev01"];
    const kept = play(resumedWake);
    expect(kept.verdict?.title).toContain("woke from deep sleep with what the wake before kept in RTC memory and resumed its TLS session");
    expect(kept.device).toMatchObject({ woke: true, rtc: { kept: true, age: 600, ip: "192.168.1.20" }, timeSource: "rtc", resumed: true });
    const discarded = play([BOOT, "[esp-certs] rtc fail reason=identity", ...UP.slice(1), `${TLS_OK} resumed=0`, "[esp-certs] mqtt ok client=dev01"]);
    expect(discarded.verdict).toMatchObject({ result: "verified" });
    expect(discarded.verdict?.title).toContain("discarded what RTC memory held (identity)");
  });

  it("times out on a device that sleeps without connecting, saying so", () => {
    const v = finish(play([BOOT, "[esp-certs] sleep ms=15000 us=300000000"]), 30);
    expect(v).toMatchObject({ result: "timeout", exitCode: 3 });
    expect(v.cause).toContain("deep sleep for 300 s");
    expect(v.fix).toContain("--timeout");
  });

  it("ends a crash report at its closing marker, at <<<stack<<< on cores without markers, or at the next boot", () => {
    const cut = "--------------- CUT HERE FOR EXCEPTION DECODER ---------------";
    const report = ["Exception (9):", "epc1=0x40201234 epc2=0x00000000 epc3=0x00000000 excvaddr=0x00000003 depc=0x00000000", ">>>stack>>>", "ctx: sys", "<<<stack<<<"];
    expect(play([cut, ...report]).verdict).toBeUndefined();
    expect(play([cut, ...report, cut]).verdict?.title).toContain("Exception (9) LoadStoreAlignmentCause");
    expect(play(report).verdict?.id).toBe("exception");
    expect(play([cut, "Exception (3):", BOOT]).verdict?.id).toBe("exception");
    expect(finish(play([cut, "Abort called", ">>>stack>>>"]), 5)).toMatchObject({ id: "crash", result: "failed" });
  });

  it("keeps the first verdict", () => {
    const s = play([...UP, '[esp-certs] tls fail code=56 text="x"', TLS_OK, "[esp-certs] mqtt ok client=dev01"]);
    expect(s.verdict?.id).toBe("tls-56");
  });

  it("quotes a port whose path holds a space in the commands it suggests", () => {
    const spaced = { ...EXPECTED, serial: "/home/ana/my boards/ttyBoard" };
    expect(play([...UP, '[esp-certs] tls fail code=300 text="x"'], spaced).verdict!.fix).toContain('`esp-certs flash --port "/home/ana/my boards/ttyBoard"`');
    expect(play(["[esp-certs] wifi ok", '[esp-certs] tls fail code=62 text="x"'], spaced).verdict!.fix).toContain('esp-certs flash --port "/home/ana/my boards/ttyBoard"');
    expect(finish(initialState(spaced), 2).fix).toContain('esp-certs flash --port "/home/ana/my boards/ttyBoard"');
  });

  it("times out with what the device did last", () => {
    expect(finish(initialState(EXPECTED), 2).cause).toContain("nothing came from /dev/ttyUSB0");
    expect(finish(play(["\u0000\u00ff\u0092\u0001\u0002\u0003"]), 2).cause).toContain("--baud");
    expect(finish(play(["Hello from another sketch"]), 2).cause).toContain("this project's firmware");
    const v = finish(play(UP), 2);
    expect(v).toMatchObject({ result: "timeout", exitCode: 3, title: "No verdict within 2 s" });
    expect(v.cause).toContain("last line: [esp-certs] time ok");
  });
});

describe("terminal escapes in a device's field values", () => {
  // An OSC that sets the window title, a CSI that clears the screen, C1 CSI, BEL: none may reach the verdict.
  const ESC = ["\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\x9b2J", "\x07"];
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  const strings = (x: unknown): string[] =>
    typeof x === "string" ? [x] : x && typeof x === "object" ? Object.values(x).flatMap(strings) : [];
  it("host, client, ca and the cred reason are made safe before any verdict uses them", () => {
    for (const e of ESC) {
      const runs: string[][] = [
        [`[esp-certs] boot client=dev01${e} host=win10.local port=8883 ca=${CA}`, ...UP.slice(1), `[esp-certs] tls fail host=win10.local${e} port=8883 code=56`],
        [`[esp-certs] boot client=dev01 host=evil${e}.local port=8883 ca=${CA}${e}`, ...UP.slice(1), TLS_OK.replace("win10.local", `x${e}`)],
        [`[esp-certs] boot client=${e} host=win10.local port=8883 ca=${CA}`, `[esp-certs] cred fail reason=${e}magic`],
        [BOOT, ...UP.slice(1), `[esp-certs] mqtt fail host=${e} port=8883 state=5`],
      ];
      for (const lines of runs) {
        const s = play(lines);
        const v = finish(s, 1);
        expect(strings(v).some((t) => CONTROL.test(t)), `${JSON.stringify(lines)} -> ${JSON.stringify(v)}`).toBe(false);
        expect(strings(s.device).some((t) => CONTROL.test(t)), JSON.stringify(s.device)).toBe(false);
      }
    }
  });
});
