import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { ensurePrivateDir } from "../fs/atomic.js";
import { keepMode } from "../fs/sync.js";
import type { StorePaths } from "./paths.js";
import { revokedDir } from "./revocations.js";

const PRIVATE_KEY = /\.key\.(pem|der)$/;

/**
 * Takes back group and other access found on the store's private parts (a copy, an unzip, a
 * chmod -R): its folders 0700, and the keys kept in certs/revoked/ and certs/backup/ (archived
 * client keys, an earlier CA's key) 0600. Parts already right are not touched.
 */
export function tightenStoreModes(p: StorePaths): void {
  for (const dir of [p.dir, p.clientsDir]) ensurePrivateDir(dir);
  if (process.platform === "win32") return;
  for (const root of [revokedDir(p), p.backupDir]) if (existsSync(root)) tighten(root);
}

function tighten(dir: string): void {
  ensurePrivateDir(dir);
  for (const name of readdirSync(dir)) {
    const f = path.join(dir, name);
    const st = statSync(f);
    if (st.isDirectory()) tighten(f);
    else if (PRIVATE_KEY.test(name)) keepMode(f, 0o600);
  }
}
