import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath } from "../helpers/cli.js";
import { project } from "../helpers/project.js";
import { requirePosix, requireTool } from "../helpers/tools.js";

requireTool("python3", "python3");
requireTool("openssl", "openssl");

// Runs the CLI on a real pseudo-terminal and types the answers when asked.
const DRIVER = `
import os, pty, sys, time
answers = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("node", ["node", sys.argv[1], "generate"])
out = b""
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if answers and (b"passphrase: " in chunk):
        time.sleep(0.05)
        a = answers.pop(0)
        os.write(fd, a.encode() + (b"" if a in ("\\x03", "\\x04") else b"\\r"))
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;

function onTerminal(dir: string, ...answers: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.ESP_CERTS_CA_PASSPHRASE;
  return spawnSync("python3", ["-c", DRIVER, cliPath, ...answers], { cwd: dir, env, encoding: "utf8", timeout: 30_000 });
}

describe.skipIf(!requirePosix("a pseudo-terminal (Python's pty module)"))("the CA passphrase asked on a terminal", () => {
  it("is asked twice for a new CA, never echoed, and encrypts the key", () => {
    const dir = project();
    const r = onTerminal(dir, "typed-secret", "typed-secret");
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain("New CA key passphrase: ");
    expect(r.stdout).toContain("Repeat the passphrase: ");
    expect(r.stdout).not.toContain("typed-secret");
    expect(r.stdout).toMatch(/created\s+CA/);
    const key = path.join(dir, "certs/ca.key.pem");
    expect(spawnSync("openssl", ["pkey", "-in", key, "-passin", "pass:typed-secret", "-noout"]).status).toBe(0);
  });

  it("takes backspace as an edit, echoing neither the keys nor the edit", () => {
    const dir = project();
    const typed = "typed-secrXY\x7f\x7fet";
    const r = onTerminal(dir, typed, typed);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).not.toMatch(/typed|secr/);
    expect(r.stdout).not.toContain("\b");
    const key = path.join(dir, "certs/ca.key.pem");
    expect(spawnSync("openssl", ["pkey", "-in", key, "-passin", "pass:typed-secret", "-noout"]).status).toBe(0);
  });

  // Regression: Ctrl+C at the prompt ended the run with exit 0, as if it had succeeded.
  it("stops with exit 2 on Ctrl+C or Ctrl+D at the prompt, and writes nothing", () => {
    for (const key of ["\x03", "\x04"]) {
      const dir = project();
      const r = onTerminal(dir, key);
      expect(r.status, r.stdout).toBe(2);
      expect(r.stdout).toMatch(/esp-certs: Cannot read the CA key passphrase: (interrupted|no answer)/);
      expect(spawnSync("ls", [path.join(dir, "certs")]).status).not.toBe(0);
    }
  });

  it("refuses two different answers, and writes nothing", () => {
    const dir = project();
    const r = onTerminal(dir, "one", "two");
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/the two passphrases differ/);
    expect(spawnSync("ls", [path.join(dir, "certs")]).status).not.toBe(0);
  });
});
