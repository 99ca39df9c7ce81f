// planStore decides the CA's fate and every leaf's from what was read, with no I/O: driven
// here by the certificates of test/fixtures/store-v1 and a fixed clock.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { clientId, SERVER_ID } from "../../src/pki/identity.js";
import { planStore, type StoreFacts } from "../../src/store/plan.js";
import { repoRoot } from "../helpers/cli.js";

const certs = path.join(repoRoot, "test/fixtures/store-v1/certs");
const cert = (f: string) => new X509Certificate(readFileSync(path.join(certs, f)));
const ca = cert("ca.crt.pem");
const now = new Date(new Date(ca.validFrom).getTime() + 86_400_000);
const wanted = { newCa: false, keyType: "rsa2048" as const, caDays: 3650, certDays: 825 };
const leafWanted = { commonName: "dev01", keyType: "ec-p256" as const, rekey: false, followKeyType: false };

function facts(over: Partial<StoreFacts> = {}): StoreFacts {
  return {
    ca,
    caKeyPresent: true,
    leaves: [{ id: clientId("dev01"), state: { cert: cert("clients/dev01.crt.pem"), keyType: "ec-p256", keyMatches: true }, wanted: leafWanted }],
    ...over,
  };
}

describe("planStore", () => {
  it("keeps a sound store and needs no CA key", () => {
    expect(planStore(facts(), wanted, now)).toEqual({ ca: "keep", leaves: [{ id: clientId("dev01"), plan: { action: "keep" } }], mustSign: false, warnings: [] });
  });

  it("--new-ca: a new CA, and every leaf issued again by it", () => {
    const plan = planStore(facts(), { ...wanted, newCa: true }, now);
    expect(plan.ca).toBe("create");
    expect(plan.leaves[0].plan).toMatchObject({ action: "issue", reason: "the CA changed", newKey: false });
  });

  it("a CA key without its certificate gets one; with --new-ca it is replaced instead", () => {
    expect(planStore(facts({ ca: undefined }), wanted, now).ca).toBe("certify-key");
    expect(planStore(facts({ ca: undefined }), { ...wanted, newCa: true }, now).ca).toBe("create");
    expect(planStore(facts({ ca: undefined, caKeyPresent: false }), wanted, now).ca).toBe("create");
  });

  it("a leaf of another CA is issued again, with the CA key", () => {
    const server = { id: SERVER_ID, state: { cert: cert("server.crt.pem"), keyType: "rsa2048" as const, keyMatches: true }, wanted: { ...leafWanted, commonName: "win10.local", dns: ["win10.local"], ips: [] } };
    const plan = planStore(facts({ leaves: [server] }), wanted, now);
    // The fixture's broker has localhost and mosquitto too: its names changed.
    expect(plan).toMatchObject({ ca: "keep", mustSign: true, leaves: [{ plan: { action: "issue", reason: "its names changed" } }] });
  });

  it("an expired CA is refused; one near its end is a warning", () => {
    expect(() => planStore(facts(), wanted, new Date(new Date(ca.validTo).getTime() + 1000))).toThrow(/Cannot use the CA: it expired/);
    expect(planStore(facts({ leaves: [] }), wanted, new Date(new Date(ca.validTo).getTime() - 86_400_000)).warnings).toEqual([expect.stringMatching(/The CA expires on/)]);
  });
});
