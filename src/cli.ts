// The command-line entry: wires commander to the modules under src/, catches the one
// user-facing error type, prints it and picks the exit code (SPEC §5). Each action loads
// its module with import() so that `esp-certs hook`, run on every `pio run`, starts fast.
import { Command, CommanderError } from "commander";
import { EspCertsError, ExitCode } from "./errors.js";
import { colour } from "./ui.js";

const program = new Command("esp-certs")
  .description("Mutual-TLS MQTT between ESP8266 boards and a Mosquitto broker: certificates, firmware header, broker and Node-RED config, flashing and diagnosis.")
  .version("0.1.0")
  .option("--project-dir <dir>", "the PlatformIO project", process.cwd())
  .showHelpAfterError('(run "esp-certs --help" for usage)')
  .exitOverride();

program.addHelpText(
  "after",
  `
Examples:
  $ esp-certs init --host win10.local        set up this PlatformIO project and make every certificate
  $ esp-certs generate                       make what is missing, keep what is there
  $ esp-certs status                         what the store holds, and when it expires
  $ esp-certs flash --port COM3              build, upload, and watch the board connect

The CA key passphrase comes from ESP_CERTS_CA_PASSPHRASE, --ca-passphrase-file, or a prompt.`,
);

/** Global options, for command actions. */
export function globals(): { projectDir: string } {
  return program.opts<{ projectDir: string }>();
}

// ---- commands (each action imports its module on demand) ----

const list = (v: string): string[] => v.split(",").map((s) => s.trim());

/** Flags that override [esp_certs] for one run, shared by the commands that issue. */
function issuingOptions(cmd: Command): Command {
  return cmd
    .option("--host <name>", "the MQTT host name the device dials (default: mqtt_host, else <hostname>.local)")
    .option("--allow-ip", "accept an IP address as the MQTT host (an ESP8266 cannot verify it: BearSSL error 56)")
    .option("--ca-passphrase-file <file>", "read the CA key passphrase from the first line of FILE")
    .option("--no-ca-passphrase", "store a new CA key unencrypted (not recommended)")
    .option("--json", "print the report as JSON");
}

issuingOptions(
  program
    .command("init")
    .description("write [esp_certs] into platformio.ini (keeping the rest), then generate")
    .option("--clients <ids>", "client ids, comma-separated (default: dev01,dev02)", list)
    .option("--yes", "do not ask anything; a CA passphrase must then come from the environment or a file"),
)
  .addHelpText("after", "\nExample:\n  $ ESP_CERTS_CA_PASSPHRASE=... esp-certs init --host win10.local --yes")
  .action(async (o) => {
    const m = await import("./init.js");
    process.exitCode = await m.initCommand({ ...globals(), ...o });
  });

issuingOptions(
  program
    .command("generate")
    .description("make what is missing in the store, the header and the broker folder; keep what is right")
    .option("--client <id>", "the client whose certificate goes into the header")
    .option("--new-ca", "make a new CA; the old one is moved to certs/backup/<time>/")
    .option("--rekey <ids>", "give these clients new keys of client_key_type (comma-separated)", list),
)
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs generate\n  $ esp-certs generate --client dev02 --json\n  $ esp-certs generate --new-ca      # then reflash every device",
  )
  .action(async (o) => {
    const m = await import("./generate.js");
    process.exitCode = await m.generateCommand({ ...globals(), ...o });
  });

program
  .command("status")
  .description("list the store's certificates: names, serial, SHA-256 fingerprint, expiry")
  .option("--json", "print as JSON")
  .addHelpText("after", "\nExample:\n  $ esp-certs status --json | jq '.certificates[] | {name, daysLeft}'")
  .action(async (o) => {
    const m = await import("./pki/status.js");
    process.exitCode = m.statusCommand({ ...globals(), ...o });
  });

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; anything else commander rejects is a usage error.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (err instanceof EspCertsError) {
      process.stderr.write(`${colour.red("esp-certs:")} ${err.what}: ${err.why}\n`);
      if (err.fix) process.stderr.write(`  ${err.fix}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv);
