import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { renameDurably, writeFileAtomic } from "../fs/atomic.js";

/**
 * Putting a new CA in place (docs/store.md, "Replacing the CA"). Its three files are
 * written complete into certs/.new-ca/, then a marker naming the backup folder; only then
 * does each file of the old CA move to that folder and the new one take its place. A run
 * killed before the marker leaves the old CA untouched (the next run drops the stage); a
 * run killed after it is finished by the next run. So a CA never ends up as a new
 * certificate with the old key, nor the old key alone.
 */
const MARKER = "switch";
/** The key first: a certificate with no key can wait offline, a key with no certificate would be taken for a new CA. */
const FILES = ["caKey", "caCertDer", "caCertPem"] as const;

/** Where the CA's files are: the store's paths (docs/store.md) give them. */
export interface CaFiles {
  caCertPem: string;
  caCertDer: string;
  caKey: string;
  /** A new CA being put in place. */
  newCaDir: string;
  /** Where every replaced CA's files go, a folder each. */
  backupDir: string;
}

export interface NewCaFiles {
  keyPem: string;
  certPem: string;
  certDer: Uint8Array;
}

export function stageNewCa(p: CaFiles, files: NewCaFiles, now: Date): void {
  rmSync(p.newCaDir, { recursive: true, force: true });
  mkdirSync(p.newCaDir, { recursive: true, mode: 0o700 });
  const staged = (name: (typeof FILES)[number]) => path.join(p.newCaDir, path.basename(p[name]));
  writeFileAtomic(staged("caKey"), files.keyPem, 0o600);
  writeFileAtomic(staged("caCertDer"), files.certDer);
  writeFileAtomic(staged("caCertPem"), files.certPem);
  writeFileAtomic(path.join(p.newCaDir, MARKER), `${backupName(p, now)}\n`);
}

/**
 * Finishes a staged switch, or drops a stage that was never complete. Returns the backup
 * folder the old CA went to, when a switch was finished (and the old CA had files).
 */
export function finishCaSwitch(p: CaFiles): string | undefined {
  if (!existsSync(p.newCaDir)) return undefined;
  const marker = path.join(p.newCaDir, MARKER);
  if (!existsSync(marker)) {
    rmSync(p.newCaDir, { recursive: true, force: true });
    return undefined;
  }
  const backup = path.join(p.backupDir, readFileSync(marker, "utf8").trim());
  let moved = false;
  for (const name of FILES) {
    const staged = path.join(p.newCaDir, path.basename(p[name]));
    if (!existsSync(staged)) continue; // in place already
    if (existsSync(p[name])) {
      mkdirSync(backup, { recursive: true, mode: 0o700 });
      renameDurably(p[name], path.join(backup, path.basename(p[name])));
      moved = true;
    }
    renameDurably(staged, p[name]);
  }
  rmSync(p.newCaDir, { recursive: true, force: true });
  return moved || existsSync(backup) ? backup : undefined;
}

/** A folder name of its own for each replaced CA: a rename onto an earlier backup's file would replace it. */
function backupName(p: CaFiles, now: Date): string {
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  let name = stamp;
  for (let n = 2; existsSync(path.join(p.backupDir, name)); n++) name = `${stamp}-${n}`;
  return name;
}
