// The programs the test suite runs for real, and where each comes from. One list for the
// test command's set-up (scripts/setup.mjs installs the Debian packages as root), for CI
// (.ci/run calls that same command) and for the tests' own check (test/helpers/tools.ts).
import { spawnSync } from "node:child_process";

/**
 * `tool` is a command on PATH, or `<header.h>` for a C header the tests compile against.
 * `debian` lists the packages that provide it; `elsewhere` says how to get it on macOS
 * (Homebrew) or why there is no such way.
 */
export const SYSTEM_TOOLS = [
  { tool: "mosquitto", debian: ["mosquitto"], elsewhere: "brew install mosquitto" },
  { tool: "mosquitto_pub", debian: ["mosquitto-clients"], elsewhere: "brew install mosquitto" },
  { tool: "mosquitto_sub", debian: ["mosquitto-clients"], elsewhere: "brew install mosquitto" },
  { tool: "openssl", debian: ["openssl"], elsewhere: "brew install openssl" },
  { tool: "<bearssl.h>", debian: ["libbearssl-dev"], elsewhere: "brew install bearssl" },
  // A preload that turns off mosquitto's TLS session cache (test/firmware/reconnect.test.ts).
  { tool: "<openssl/ssl.h>", debian: ["libssl-dev"], elsewhere: "brew install openssl" },
  { tool: "gcc", debian: ["gcc"], elsewhere: "xcode-select --install" },
  { tool: "g++", debian: ["g++"], elsewhere: "xcode-select --install" },
  { tool: "make", debian: ["make"], elsewhere: "xcode-select --install" },
  { tool: "python3", debian: ["python3"], elsewhere: "https://www.python.org/downloads/" },
  { tool: "socat", debian: ["socat"], elsewhere: "brew install socat" },
  // Fault injection: kills a run at an exact system call.
  { tool: "strace", debian: ["strace"], elsewhere: "Linux only" },
  {
    tool: "xtensa-lx106-elf-gcc",
    debian: ["gcc-xtensa-lx106", "picolibc-xtensa-lx106-elf"],
    elsewhere: "packaged only for Debian and Ubuntu, so these tests skip",
  },
  // Its binutils: the flash layouts' link test reads the linked symbols and sizes (test/layout/link.test.ts).
  { tool: "xtensa-lx106-elf-nm", debian: ["binutils-xtensa-lx106"], elsewhere: "packaged only for Debian and Ubuntu, so these tests skip" },
  { tool: "xtensa-lx106-elf-size", debian: ["binutils-xtensa-lx106"], elsewhere: "packaged only for Debian and Ubuntu, so these tests skip" },
  // The header's .gitignore line when no init wrote one (test/commands/generate.test.ts).
  { tool: "git", debian: ["git"], elsewhere: "https://git-scm.com/downloads" },
  { tool: "flock", debian: ["util-linux"], elsewhere: "Linux only" },
  // doctor's mdns check against a real responder, in a network namespace of the test's own
  // (test/doctor/mdns.test.ts): it never touches the real network or another run's mDNS.
  { tool: "avahi-daemon", debian: ["avahi-daemon"], elsewhere: "Linux only" },
  { tool: "ip", debian: ["iproute2"], elsewhere: "Linux only" },
  { tool: "unshare", debian: ["util-linux"], elsewhere: "Linux only" },
  { tool: "setpriv", debian: ["util-linux"], elsewhere: "Linux only" },
  // Only `npm run bench` uses it (instruction counts); no test does.
  { tool: "valgrind", debian: ["valgrind"], elsewhere: "Linux only", benchOnly: true },
];

/** Every Debian package of the list, each once. */
export function debianPackages() {
  return [...new Set(SYSTEM_TOOLS.flatMap((t) => t.debian))];
}

/** Whether `tool` (a command, or `<header.h>`) is present on this machine. */
export function hasTool(tool) {
  const header = /^<(.+)>$/.exec(tool);
  if (header) {
    const cc = spawnSync("cc", ["-E", "-x", "c", "-"], { input: `#include <${header[1]}>\n`, stdio: ["pipe", "ignore", "ignore"] });
    return cc.status === 0;
  }
  const finder = process.platform === "win32" ? spawnSync("where", [tool], { stdio: "ignore" }) : spawnSync("sh", ["-c", 'command -v "$0"', tool], { stdio: "ignore" });
  return finder.status === 0;
}

/** One line per missing tool: what it is and how to install it. */
export function installHint(entry) {
  return `${entry.tool} is missing: on Debian or Ubuntu, apt-get install ${entry.debian.join(" ")}; elsewhere: ${entry.elsewhere}`;
}

export function missingTools() {
  return SYSTEM_TOOLS.filter((t) => !hasTool(t.tool));
}
