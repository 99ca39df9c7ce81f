import { KEY_TYPES } from "../config/config.js";

/**
 * The manifest's shape, checked field by field on read (docs/store.md): what is wrong, in
 * words, or undefined when it is sound. Pure; versions 1 and 2.
 */
type Check = (v: unknown, where: string) => string | undefined;

const shown = (v: unknown) => (v === undefined ? "missing" : `${JSON.stringify(v)?.slice(0, 40)}`);
const is = (ok: (v: unknown) => boolean, what: string): Check => (v, where) => (ok(v) ? undefined : `${where} is ${shown(v)}, not ${what}`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const string = is((v) => typeof v === "string", "a string");
const hex = is((v) => typeof v === "string" && /^[0-9a-f]+$/.test(v), "lower-case hex");
const sha256 = is((v) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v), "a SHA-256 in hex");
const optionalSha256: Check = (v, where) => (v === "" ? undefined : sha256(v, where));
const date = is((v) => typeof v === "string" && !Number.isNaN(Date.parse(v)), "an ISO date");
const seconds = is((v) => Number.isSafeInteger(v), "a whole number of seconds");
const keyType = is((v) => (KEY_TYPES as readonly unknown[]).includes(v), `one of ${KEY_TYPES.join(", ")}`);
const strings = is((v) => Array.isArray(v) && v.every((s) => typeof s === "string"), "a list of strings");
const serials = is((v) => Array.isArray(v) && v.every((s) => typeof s === "string" && /^[0-9a-f]+$/.test(s)), "a list of hex serials");

function fields(shape: Record<string, Check>, optional: string[] = []): Check {
  return (v, where) => {
    if (!isObject(v)) return `${where} is ${shown(v)}, not an object`;
    for (const [key, check] of Object.entries(shape)) {
      if (optional.includes(key) && v[key] === undefined) continue;
      const problem = check(v[key], `${where}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

function recordOf(check: Check): Check {
  return (v, where) => {
    if (!isObject(v)) return `${where} is ${shown(v)}, not an object`;
    for (const [key, value] of Object.entries(v)) {
      const problem = check(value, `${where}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

function listOf(check: Check): Check {
  return (v, where) => {
    if (!Array.isArray(v)) return `${where} is ${shown(v)}, not a list`;
    for (const [i, item] of v.entries()) {
      const problem = check(item, `${where}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };
}

const issued = { serial: hex, sha256, notBefore: date, notAfter: date, keyType, issuedAt: seconds, keySha256: optionalSha256 };
const ca = fields({ ...issued, subject: string });
const server = fields({ ...issued, dns: strings, ips: strings, caSha256: sha256 });
const keyHolder = is((v) => v === "store" || v === "device", '"store" or "device"');
const storeHeldClient = fields({ ...issued, caSha256: sha256, keyDerSha256: sha256, keyHolder }, ["keyHolder"]);
const { keySha256: _key, ...issuedNoKey } = issued;
const deviceHeldClient = fields({ ...issuedNoKey, caSha256: sha256, keyHolder });
/** A key the device holds is not in the store: no key hashes then, and none may claim one. */
const client: Check = (v, where) => {
  if (!isObject(v) || v.keyHolder !== "device") return storeHeldClient(v, where);
  const problem = deviceHeldClient(v, where);
  if (problem !== undefined) return problem;
  const hash = ["keySha256", "keyDerSha256"].find((k) => v[k] !== undefined);
  return hash === undefined ? undefined : `${where}.${hash} is there, but the key is the device's (keyHolder "device")`;
};
const role = is((v) => v === "ca" || v === "server" || v === "client", '"ca", "server" or "client"');
const revoked = fields({ at: date, reason: string });
const record: Check = (v, where) => {
  const { keySha256: _, ...rest } = issued;
  const problem = fields({ role, ...rest, keySha256: sha256, replacedBy: hex, renewalOf: hex, revoked }, ["keySha256", "replacedBy", "renewalOf", "revoked"])(v, where);
  if (problem !== undefined) return problem;
  return (v as { role: string }).role === "client" ? fields({ id: string })(v, where) : undefined;
};

const common = { config: is(isObject, "an object"), ca, server, clients: recordOf(client) };
const v1 = fields({ ...common, serials }, ["server"]);
const v2 = fields({ ...common, history: listOf(record), legacySerials: serials }, ["server"]);

export function checkManifest(json: unknown): string | undefined {
  if (!isObject(json)) return `it is ${shown(json)}, not an object`;
  if (json.version === 1) return v1(json, "manifest");
  if (json.version === 2) return v2(json, "manifest");
  if (typeof json.version === "number" && json.version > 2) return `its version ${json.version} is from a newer esp-certs`;
  return `manifest.version is ${shown(json.version)}, not 1 or 2`;
}
