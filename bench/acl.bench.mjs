// The broker's access rules for a large fleet, in one run:
// - renderAcl for 10 000 and 100 000 clients (every one an app or revoked: one block each, the
//   largest file): the time per client at both sizes, whose ratio stays near 1 if it is linear;
// - a real mosquitto started from a generated broker/ folder with the 10 000-client acl against
//   the same folder with its own 3-client acl: time until it accepts connections.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { median, scratch } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "esp-certs.cjs");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const bundled = await build({ entryPoints: [path.join(root, "src/broker/acl.ts")], bundle: true, format: "esm", platform: "node", write: false });
const { renderAcl } = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`);

const fleet = (n) => Array.from({ length: n }, (_, i) => ({ id: `dev${String(i).padStart(6, "0")}`, role: i % 2 ? "app" : "device", revoked: i % 2 === 0 }));
const perClient = (n) => {
  const clients = fleet(n);
  return median(Array.from({ length: RUNS }, () => {
    const t0 = process.hrtime.bigint();
    renderAcl(clients);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }));
};
const small = perClient(10_000);
const large = perClient(100_000);
console.log(`renderAcl: 10 000 clients ${small.toFixed(1)} ms, 100 000 clients ${large.toFixed(1)} ms; per client ratio (100k/10k) ${(large / 10 / small).toFixed(2)}`);

// A project whose broker folder mosquitto runs from, as in the tests.
const dir = scratch("esp-certs-bench-acl-");
writeFileSync(path.join(dir, "platformio.ini"), "[esp_certs]\nmqtt_host = localhost\n");
for (const args of [["init", "--host", "localhost", "--no-ca-passphrase", "--yes"], ["broker", "--paths", "local"]]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`esp-certs ${args.join(" ")}: ${r.stderr}`);
}
const aclFile = path.join(dir, "broker", "acl");
const own = readFileSync(aclFile, "utf8");
const big = renderAcl([...fleet(10_000), { id: "dev02", role: "app", revoked: false }]);

const freePort = () => new Promise((ok) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => ok(port)); }); });
const accepts = (port) => new Promise((ok) => { const s = net.connect(port, "127.0.0.1"); s.once("connect", () => { s.destroy(); ok(true); }); s.once("error", () => ok(false)); });
async function startTime(acl) {
  writeFileSync(aclFile, acl);
  const port = await freePort();
  const conf = path.join(dir, "broker", "bench.conf");
  writeFileSync(conf, readFileSync(path.join(dir, "broker", "mosquitto.conf"), "utf8").replace(/^listener \d+$/m, `listener ${port} 127.0.0.1`));
  const t0 = process.hrtime.bigint();
  const child = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error("mosquitto did not start");
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  child.kill();
  await new Promise((r) => child.once("exit", r));
  return ms;
}
const times = { own: [], big: [] };
for (let i = 0; i < RUNS; i++) {
  times.own.push(await startTime(own));
  times.big.push(await startTime(big));
}
const [a, b] = [median(times.own), median(times.big)];
console.log(`mosquitto start: 3-client acl ${a.toFixed(0)} ms, 10 000-client acl (${big.split("\n").length} lines) ${b.toFixed(0)} ms; ratio ${(b / a).toFixed(2)}`);
