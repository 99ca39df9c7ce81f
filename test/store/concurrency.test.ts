// Issue 11, item 1: writers at once on one store (two `pio run` environments, an IDE build beside
// a terminal, two inits or --new-cas) mixed two CAs. Four at once, on an empty and on a full store.
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../src/fs/lock.js";
import { runCli, startCli, TEST_PASSPHRASE } from "../helpers/cli.js";
import { headerOf, project } from "../helpers/project.js";

const WRITERS = [["generate"], ["hook", "--env", "d1_mini"], ["init", "--yes", "--host", "win10.local"], ["generate", "--new-ca"]];
const ROUNDS = 4;
const EC_PROJECT = { extra: "key_type = ec-p256\n", after: "[env:d1_mini]\nplatform = espressif8266\nboard = d1_mini\nframework = arduino\n" };

const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: "spki", format: "der" }).toString("hex");

/** One CA whose key is its certificate's, every leaf issued by it and paired with its key, and nothing left behind. */
function expectOneCa(dir: string): void {
  const certs = path.join(dir, "certs");
  const ca = new X509Certificate(readFileSync(path.join(certs, "ca.crt.pem")));
  const caKey = createPrivateKey({ key: readFileSync(path.join(certs, "ca.key.pem")), passphrase: TEST_PASSPHRASE });
  expect(spki(createPublicKey(caKey)), "ca.key.pem is the key of ca.crt.pem").toBe(spki(ca.publicKey));
  expect(readFileSync(path.join(certs, "ca.crt.der")).equals(ca.raw)).toBe(true);
  const leaves = [
    ["server.crt.pem", "server.key.pem"],
    ["clients/dev01.crt.pem", "clients/dev01.key.pem"],
    ["clients/dev02.crt.pem", "clients/dev02.key.pem"],
  ];
  for (const [cert, key] of leaves) {
    const leaf = new X509Certificate(readFileSync(path.join(certs, cert)));
    expect(leaf.verify(ca.publicKey), `${cert} is signed by the CA`).toBe(true);
    expect(spki(createPublicKey(readFileSync(path.join(certs, key)))), `${key} is the key of ${cert}`).toBe(spki(leaf.publicKey));
  }
  const caSha = createHash("sha256").update(ca.raw).digest("hex");
  expect(JSON.parse(readFileSync(path.join(certs, "manifest.json"), "utf8")).ca.sha256).toBe(caSha);
  const header = readFileSync(headerOf(dir), "utf8");
  expect(header).toMatch(new RegExp(`#define ESP_CERTS_CA_SHA256 "${caSha}"`));
  const leftovers = [certs, path.join(certs, "clients"), path.dirname(headerOf(dir))].flatMap((d) => readdirSync(d).filter((n) => n.startsWith(".")));
  expect(leftovers, "no lock or temp file left").toEqual([]);
  expect(existsSync(path.join(certs, LOCK_FILE))).toBe(false);
}

async function allAtOnce(dir: string): Promise<void> {
  const runs = WRITERS.map((args) => startCli(args, { cwd: dir }));
  const results = await Promise.all(runs.map((r) => r.done));
  results.forEach((r, i) => expect(r.status, `${WRITERS[i].join(" ")}: ${r.stderr}`).toBe(0));
}

describe("four writers at once", () => {
  it(`on an empty store, ${ROUNDS} times: one CA, keys matching certificates, every run done`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const dir = project(EC_PROJECT);
      await allAtOnce(dir);
      expectOneCa(dir);
    }
  });

  it(`on a full store, ${ROUNDS} times: the same`, async () => {
    const dir = project(EC_PROJECT);
    expect(runCli(["generate"], { cwd: dir }).status).toBe(0);
    for (let round = 0; round < ROUNDS; round++) {
      await allAtOnce(dir);
      expectOneCa(dir);
    }
  });
});
