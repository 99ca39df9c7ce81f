/** The clients a store holds: the configured ones and those added since (by `provision`). */
import { existsSync, readdirSync } from "node:fs";
import { isConfiguredClient } from "../config/clients.js";
import type { Config } from "../config/config.js";
import { APP_ID } from "../config/app-identity.js";
import { readManifest, type Manifest } from "./manifest.js";
import { storePaths } from "./paths.js";

/**
 * Clients the store holds that were never in `clients`: issued by `provision` (docs/credential-record.md).
 * A client once configured and then removed from `clients` is not one of them: `generate` drops it.
 */
export function provisionedClients(config: Config, manifest: Manifest | undefined): string[] {
  if (manifest === undefined) return [];
  const configured = new Set([...config.clients, ...manifest.config.clients, APP_ID].map((c) => c.toLowerCase()));
  return Object.keys(manifest.clients).filter((id) => !configured.has(id.toLowerCase()));
}

/**
 * Every client id the store knows: configured in `clients`, in the manifest, or with a
 * certificate in clients/, current or revoked. A provisioned or retired id is never handed out again.
 */
export function storeClients(config: Config): string[] {
  const p = storePaths(config.certDir);
  const files = existsSync(p.clientsDir) ? readdirSync(p.clientsDir).filter((f) => f.endsWith(".crt.pem")).map((f) => f.slice(0, -".crt.pem".length)) : [];
  const manifest = readManifest(p.manifest);
  // The history keeps revoked ids too: they are off clients/ and the manifest's current clients.
  const issued = manifest?.history.flatMap((r) => (r.role === "client" ? [r.id] : [])) ?? [];
  return [...new Set([...config.clients, ...Object.keys(manifest?.clients ?? {}), ...issued, ...files])];
}

/** The command that gives a client a new key and certificate: `generate --rekey` for a configured id, `provision` for a provisioned one. */
export function reissueCommand(config: Config, id: string): string {
  return isConfiguredClient(config.clients, id) ? `esp-certs generate --rekey ${id}` : `esp-certs provision --client ${id}`;
}
