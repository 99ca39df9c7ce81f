// The flow `esp-certs nodered` writes, deployed in a real Node-RED (the node-red package,
// 4.x) against a real mosquitto started from the generated broker/ folder: Node-RED's own
// mqtt-broker and tls-config nodes make the mutual-TLS connection, and what dev01
// publishes reaches the flow's debug node, which also writes it to Node-RED's log.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { freePort, startMosquitto, type Broker } from "../helpers/mosquitto.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";

const hasMosquitto = requireTool("mosquitto", "mosquitto") && requireTool("mosquitto_pub", "mosquitto-clients");
const redJs = path.join(repoRoot, "node_modules", "node-red", "red.js");

interface NodeRed {
  child: ChildProcess;
  log(): string;
  waitFor(pattern: RegExp, what: string, timeoutMs?: number): Promise<void>;
}

function startNodeRed(userDir: string, flowFile: string, uiPort: number): NodeRed {
  const child = spawn(process.execPath, [redJs, "--userDir", userDir, "--port", String(uiPort), "-D", "uiHost=127.0.0.1", flowFile], {
    cwd: userDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  // A bound for a Node-RED that never gets there, not a pace: it starts slowly on a loaded machine.
  const waitFor = async (pattern: RegExp, what: string, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}) before ${what}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`Node-RED did not report ${what} within ${timeoutMs} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, log: () => output, waitFor };
}

/** The nearest package.json above `dir` that makes .js files ES modules, if any. */
function moduleScope(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const pkg = path.join(d, "package.json");
    if (existsSync(pkg)) return JSON.parse(readFileSync(pkg, "utf8")).type === "module" ? pkg : undefined;
    if (path.dirname(d) === d) return undefined;
  }
}

describe.skipIf(!hasMosquitto)("the flow in a real Node-RED", () => {
  let broker: Broker | undefined;
  let nodeRed: NodeRed | undefined;
  afterAll(async () => {
    if (nodeRed && nodeRed.child.exitCode === null) {
      const exited = new Promise((r) => nodeRed!.child.once("exit", r));
      nodeRed.child.kill("SIGTERM");
      await exited;
    }
    await broker?.stop();
  });

  it("connects over mutual TLS to the generated broker, and shows what dev01 publishes on dev01/status", async () => {
    const port = await freePort();
    const dir = project({ extra: `mqtt_port = ${port}\n`, prefix: "esp-certs-node-red-" });
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    expect(runCli(["broker", "--paths", "local"], { cwd: dir }).status).toBe(0);
    broker = await startMosquitto({ config: readFileSync(path.join(dir, "broker", "mosquitto.conf"), "utf8"), port });

    // Not below this repository: its package.json says "type": "module", and Node-RED's
    // settings.js (CommonJS) would then fail to load.
    const userDir = tmpDir("node-red-");
    expect(moduleScope(userDir), "Node-RED's user directory is inside an ES module package").toBeUndefined();
    const flowFile = path.join(userDir, "flows.json");
    const written = runCli(["nodered", "--host", "localhost", "--out", flowFile], { cwd: dir });
    expect(written.status, written.stderr).toBe(0);

    nodeRed = startNodeRed(userDir, flowFile, await freePort());
    await nodeRed.waitFor(/Connected to broker: dev02@mqtts:\/\/localhost:\d+/, "a connection to the broker");
    expect(broker.log()).toMatch(/as dev02 .*u'dev02'/);
    // Node-RED says "Connected" before its mqtt-in node subscribes: a message published before
    // the broker took that subscription would reach nobody.
    await broker.logged("Sending SUBACK to dev02");

    const certs = path.join(dir, "certs");
    const pub = spawnSync(
      "mosquitto_pub",
      ["-h", "localhost", "-p", String(port), "--cafile", path.join(certs, "ca.crt.pem"), "--cert", path.join(certs, "clients", "dev01.crt.pem"), "--key", path.join(certs, "clients", "dev01.key.pem"), "-i", "dev01", "-t", "dev01/status", "-m", "online"],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(pub.status, pub.stderr).toBe(0);
    await nodeRed.waitFor(/\[debug:dev01\/#\] online/, "dev01's message in its debug node");
  }, 240_000); // Node-RED takes most of a minute to start on a busy 2-core machine
});
