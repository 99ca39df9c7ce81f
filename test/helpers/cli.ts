import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { symlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { tmpDir } from "./tmp.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const cliPath = path.join(repoRoot, "dist", "esp-certs.cjs");

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A fixed test passphrase; the tests make their own CA, so no secret is involved. */
export const TEST_PASSPHRASE = "test-passphrase-not-a-secret";

/** Runs the built CLI as a user would; the CA passphrase comes from the environment. */
export function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd,
    encoding: "utf8",
    input: opts.input ?? "",
    env: { ...process.env, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE, ...opts.env },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface Running {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** Starts the built CLI without waiting for it (a monitor fed through a pty, say). */
export function startCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Running {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: "1", ESP_CERTS_CA_PASSPHRASE: TEST_PASSPHRASE, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on("close", (code) => resolve({ status: code ?? -1, stdout, stderr })));
  return { child, done };
}

/** runCli without blocking the test's event loop (for tests that also serve something). */
export function runCliAsync(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** A fresh, empty project folder, removed after the test file. */
export function tmpProject(prefix = "esp-certs-"): string {
  return tmpDir(prefix);
}

/**
 * A PATH on which node is the only program. Node's own folder is where npm puts a global or
 * linked esp-certs, so a test that must find (or miss) a particular one cannot use it.
 */
export function nodeOnlyPath(): string {
  const dir = tmpDir("esp-certs-node-only-");
  symlinkSync(process.execPath, path.join(dir, path.basename(process.execPath)));
  return dir;
}
