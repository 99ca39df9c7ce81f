// The command-line entry: wires commander to the modules under src/, catches the one
// user-facing error type, prints it and picks the exit code (docs/commands.md). Each action loads
// its module with import(), so that every command loads only its own code. (`esp-certs hook`
// in the form the PlatformIO script runs it does not even come here: see main.ts.)
import { Command, CommanderError, Option, type OptionValues } from "@commander-js/extra-typings";
import { KEY_TYPES } from "./config/config.js";
import { EspCertsError, ExitCode, fromSystemError } from "./errors.js";
import { parseBaud, parseTimeout } from "./monitor/numeric-options.js";
import { parseSerial } from "./pki/serial-text.js";
import { REVOCATION_REASON_NAMES } from "./pki/reasons.js";
import { lockStore } from "./store/lock.js";
import { note, printError, printJson } from "./ui.js";

const program = new Command("esp-certs")
  .description("Mutual-TLS MQTT between ESP8266 boards and a Mosquitto broker: certificates, firmware header, broker and Node-RED config, flashing and diagnosis.")
  .version("0.1.0")
  .option("--project-dir <dir>", "the PlatformIO project", process.cwd())
  .option("--json", "print the report as JSON, for the commands that report something")
  .showHelpAfterError(usageHint())
  .exitOverride();

// --json is global (docs/commands.md): this option takes it before or after the command, and hands
// it to the command, which must be one that reports something.
program.hook("preAction", (_program, command) => {
  if (program.opts().json !== true) return;
  if (!command.options.some((o) => o.long === "--json")) {
    throw new EspCertsError(`Cannot use --json with "${command.name()}"`, "it reports nothing", "Leave out --json.");
  }
  command.setOptionValue("json", true);
});

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

/** What every command's function receives besides its own options. */
interface Globals {
  projectDir: string;
}

/**
 * Calls a command's function with the options commander parsed (typed from the command's
 * .option() declarations) and the global ones. Checked at compile time in both directions: each
 * option must fit the field of that name, and an option the function does not take is an error,
 * so a flag or a field renamed on one side only cannot slip through (an object spread would).
 */
async function call<Takes extends object, Parsed extends Omit<Takes, keyof Globals>>(
  fn: (o: Takes) => number | Promise<number>,
  parsed: Parsed & Record<Exclude<keyof Parsed, keyof Takes>, never>,
): Promise<number> {
  const globals: Globals = { projectDir: program.opts().projectDir };
  return fn({ ...globals, ...parsed } as unknown as Takes);
}

// ---- commands ----
// Each command: declare its flags with .option()/.addOption() (their types come from there), then
//   .action(async (o) => {
//     const m = await import("./<concern>/<command>.js");   // loads only this command's code
//     process.exitCode = await call(m.<command>Command, o);
//   });
// and with an .argument("<id>"): .action(async (id, o) => ... call(m.<command>Command, { ...o, id })).
// A command that writes the store, or files made from it, wraps its action in writesStore(name, ...).

/**
 * The action of a command that writes the store or files made from it: it runs as the store's
 * one writer, so that two runs at once (two `pio run` environments, a build beside a terminal)
 * cannot mix two CAs (docs/configuration.md, "One run at a time").
 */
function writesStore<Args extends unknown[]>(name: string, action: (...args: Args) => Promise<void>): (...args: Args) => Promise<void> {
  return async (...args) => {
    await lockStore(program.opts().projectDir, name, () => action(...args), { onWait: note });
  };
}

const list = (v: string): string[] => v.split(",").map((s) => s.trim());

/** Flags that override [esp_certs] for one run, shared by the commands that issue. */
function issuingOptions<Args extends unknown[], Opts extends OptionValues, G extends OptionValues>(cmd: Command<Args, Opts, G>) {
  return cmd
    .option("--host <name>", "the MQTT host name the device dials (default: mqtt_host, else <hostname>.local)")
    .option("--allow-ip", "accept an IP address as the MQTT host (an ESP8266 cannot verify it: BearSSL error 56)")
    .option("--ca-passphrase-file <file>", "read the CA key passphrase from the first line of FILE")
    .option("--no-ca-passphrase", "store a new CA key unencrypted (not recommended)")
    .addOption(new Option("--key-type <type>", "key of a new CA and of the broker (default: key_type, else rsa2048)").choices(KEY_TYPES))
    .addOption(new Option("--client-key-type <type>", "key of new clients (default: client_key_type, else ec-p256)").choices(KEY_TYPES))
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
  .action(
    writesStore("init", async (o) => {
      const m = await import("./commands/init.js");
      process.exitCode = await call(m.initCommand, o);
    }),
  );

issuingOptions(
  program
    .command("generate")
    .description("make what is missing in the store, the header and the broker folder; keep what is right")
    .option("--client <id>", "the client whose certificate goes into the header")
    .option("--new-ca", "make a new CA; the old one is moved to certs/backup/<time>/")
    .option("--rekey <ids>", "give these clients new keys of client_key_type (comma-separated)", list)
    .option("--renew <ids>", "renew these clients' certificates now, on the keys they have (comma-separated; then esp-certs push)", list),
)
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs generate\n  $ esp-certs generate --client dev02 --json\n  $ esp-certs generate --renew dev07,dev08 && esp-certs push   # new certificates, same keys, over MQTT\n  $ esp-certs generate --new-ca      # then reflash every device",
  )
  .action(
    writesStore("generate", async (o) => {
      const m = await import("./commands/generate.js");
      process.exitCode = await call(m.generateCommand, o);
    }),
  );

program
  .command("header")
  .description("render the firmware header (esp_certs.h) from the store, only when its content changes")
  .option("--client <id>", "the client whose certificate goes in (default: the first environment's custom_esp_certs_client)")
  .option("--out <path>", "where to write it (default: header of [esp_certs], else esp_certs.h in the project's include_dir)")
  .option("--allow-ip", "accept an IP address as the MQTT host (an ESP8266 cannot verify it: BearSSL error 56)")
  .option("--json", "print what it wrote as JSON")
  .addHelpText("after", "\nExamples:\n  $ esp-certs header\n  $ esp-certs header --client dev02 --out include/esp_certs.h")
  .action(
    writesStore("header", async (o) => {
      const m = await import("./commands/header.js");
      process.exitCode = await call(m.headerCommand, o);
    }),
  );

program
  .command("hook")
  .description("the PlatformIO pre-build step: make what is missing, refresh the header; silent when nothing changed")
  .requiredOption("--env <name>", "the PlatformIO environment being built")
  .option("--client <id>", "its custom_esp_certs_client, as PlatformIO resolved it (default: read from platformio.ini)")
  .option("--stamp <file>", "after success, record what it read there, so that the script can skip it while nothing changes")
  .addHelpText("after", "\nExample (what firmware/esp_certs_hook.py runs before each build):\n  $ esp-certs --project-dir . hook --env d1_mini")
  .action(async (o) => {
    const m = await import("./commands/hook.js");
    process.exitCode = await call(m.hookCommand, o);
  });

program
  .command("status")
  .description("list the store's certificates: names, serial, SHA-256 fingerprint, expiry")
  .option("--live", "then what each device holds in the field, from its retained state at the broker (as esp-certs' own client)")
  .option("--broker-address <addr[:port]>", "with --live: dial this address (and port) instead of the MQTT host; the certificate is still checked for the host's name")
  .option("--json", "print as JSON (with --live: the field alone)")
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs status --json | jq '.certificates[] | {name, daysLeft}'\n  $ esp-certs status --live --broker-address 127.0.0.1   # has every device taken its renewal?",
  )
  .action(async ({ live, brokerAddress, ...o }) => {
    if (live) {
      const field = await import("./commands/field.js");
      if (!o.json) {
        const m = await import("./commands/status.js");
        process.exitCode = await call(m.statusCommand, o);
      }
      process.exitCode = await call(field.fieldCommand, { ...o, brokerAddress });
      return;
    }
    const m = await import("./commands/status.js");
    process.exitCode = await call(m.statusCommand, o);
  });

program
  .command("broker")
  .description("write a Mosquitto folder from the store: mosquitto.conf, certs/, docker-compose.yml")
  .option("--out <dir>", "the folder (default: broker/ in the project)")
  .addOption(new Option("--paths <mode>", "paths in mosquitto.conf: inside the eclipse-mosquitto image, or on this machine (default: as the folder was made, else docker)").choices(["docker", "local"]))
  .option("--json", "print the report as JSON")
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs broker                  # then: docker compose up -d  (in broker/)\n  $ esp-certs broker --paths local    # then: mosquitto -c broker/mosquitto.conf",
  )
  .action(
    writesStore("broker", async (o) => {
      const m = await import("./commands/broker.js");
      process.exitCode = await call(m.brokerCommand, o);
    }),
  );

program
  .command("nodered")
  .description("write an importable Node-RED flow: mqtt-broker and tls-config nodes for one client, and a debug of the device's topic")
  .option("--client <id>", "Node-RED's client (default: the first client no environment uses, e.g. dev02)")
  .option("--out <file>", "the flow file (default: nodered-flow.json in the project)")
  .option("--host <name>", "the broker name Node-RED dials, one the broker certificate holds (default: mqtt_host; e.g. mosquitto on a Docker network)")
  .option("--files-dir <dir>", "where Node-RED sees the store, same layout (default: the store's own paths; e.g. a container mount)")
  .option("--json", "print the report as JSON")
  .addHelpText("after", "\nExamples:\n  $ esp-certs nodered                 # then in Node-RED: Import > nodered-flow.json, Deploy\n  $ esp-certs nodered --host mosquitto --files-dir /data/esp-certs")
  .action(
    writesStore("nodered", async (o) => {
      const m = await import("./commands/nodered.js");
      process.exitCode = await call(m.noderedCommand, o);
    }),
  );

program
  .command("doctor")
  .description("check config, store, header, broker folder, name resolution, and a live mutual-TLS MQTT connection")
  .option("--broker-address <addr[:port]>", "dial this address (and port) instead of the MQTT host; the certificate is still checked for the host's name")
  .option("--client <id>", "connect as this client instead of esp-certs' own: the broker (use_username_as_clientid) then ends that client's live session, e.g. Node-RED's or a device's, until it reconnects")
  .option("--json", "print the results as JSON")
  .addHelpText("after", "\nExamples:\n  $ esp-certs doctor\n  $ esp-certs doctor --broker-address 127.0.0.1      # broker in Docker on this machine\n  $ esp-certs doctor --client dev07                  # as that device: replaces its live session\n\nExit status: 0 no problem (warnings allowed), 1 a problem was found.")
  .action(async (o) => {
    const m = await import("./commands/doctor.js");
    process.exitCode = await call(m.doctorCommand, o);
  });

program
  .command("push")
  .description("publish each device's current certificate to the broker (retained), where the device takes a renewal after its next connect")
  .option("--broker-address <addr[:port]>", "dial this address (and port) instead of the MQTT host; the certificate is still checked for the host's name")
  .option("--client <ids>", "only these devices (comma-separated)", list)
  .option("--json", "print the results as JSON")
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs generate --renew dev07 && esp-certs push --client dev07\n  $ esp-certs push --broker-address 127.0.0.1:8883   # broker in Docker on this machine\n\nExit status: 0 every device's message acknowledged, 1 one was not, 2 the broker could not be reached.",
  )
  .action(async (o) => {
    const m = await import("./commands/push.js");
    process.exitCode = await call(m.pushCommand, o);
  });

program
  .command("revoke")
  .description("shut a client out of the broker: the CA signs a CRL listing its certificate, the broker folder gets it")
  .argument("[id]", "the client, e.g. dev02")
  .option("--all", "every certificate of the client still valid: its current one and those it replaced (a renewal on the same key keeps the old one valid)")
  .option("--serial <hex>", "one certificate by its serial (esp-certs status lists superseded ones still valid), instead of an id", parseSerial)
  .addOption(new Option("--reason <reason>", "why, recorded in the CRL (default: keyCompromise: a lost board's key is readable from its flash)").choices(REVOCATION_REASON_NAMES))
  .option("--ca-passphrase-file <file>", "read the CA key passphrase from the first line of FILE")
  .option("--json", "print the report as JSON")
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs revoke dev02                              # then restart Mosquitto\n  $ esp-certs revoke dev07 --reason cessationOfOperation\n  $ esp-certs revoke dev03 --all                        # and its earlier certificates still valid\n  $ esp-certs revoke --serial 5c1e0f...                 # one certificate, as status lists it\n  $ esp-certs generate --rekey dev02                    # bring it back, with a new key",
  )
  .action(
    writesStore("revoke", async (id, o) => {
      const m = await import("./commands/revoke.js");
      process.exitCode = await call(m.revokeCommand, { ...o, id });
    }),
  );

program
  .command("monitor")
  .description("restart the board, read its serial output, and confirm or diagnose its TLS connection to the broker")
  .requiredOption("--port <port>", "the serial port, e.g. /dev/ttyUSB0 or COM3")
  .option("--baud <rate>", "serial speed (default: 115200, the firmware's)", parseBaud)
  .option("--timeout <seconds>", "give up without a verdict after this long (default: 90), exit 3", parseTimeout)
  .option("--no-reset", "do not restart the board through DTR/RTS; read what it prints from now on")
  .option("--json", "print only the verdict, as JSON")
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs monitor --port COM3\n  $ esp-certs monitor --port /dev/ttyUSB0 --timeout 30 --json\n\nVerified means: TLS and MQTT up to mqtt_host:mqtt_port, and the device's CA is this project's\n(certs/ca.crt.der); without that file a connection is reported, not verified.\nExit status: 0 verified, 1 the device reported a failure (the cause and the fix are printed), 2 port or input error, 3 no verdict in time.",
  )
  .action(async (o) => {
    const m = await import("./commands/monitor.js");
    process.exitCode = await call(m.monitorCommand, o);
  });

program
  .command("flash")
  .description("generate, build and upload the firmware with PlatformIO, then monitor the board")
  .requiredOption("--port <port>", "the board's serial port, e.g. /dev/ttyUSB0 or COM3")
  .option("--env <name>", "the PlatformIO environment (default: as pio run, the first of default_envs, else the first [env:NAME])")
  .option("--no-monitor", "stop after the upload")
  .option("--timeout <seconds>", "how long the monitor waits for a verdict (default: 90)", parseTimeout)
  .option("--ca-passphrase-file <file>", "read the CA key passphrase from the first line of FILE")
  .option("--json", "print only the monitor's verdict on stdout, as JSON (PlatformIO's output goes to stderr)")
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs flash --port COM3\n  $ esp-certs flash --port /dev/ttyUSB0 --env nodemcuv2 --no-monitor\n\nExit status: as monitor; 1 also when the build or upload fails.",
  )
  .action(async (o) => {
    const m = await import("./commands/flash.js");
    process.exitCode = await call(m.flash, o);
  });

program
  .command("provision")
  .description("write a device's identity (client certificate and key) into its flash, for a fleet that runs one firmware image")
  .requiredOption("--client <id>", "the client id; a pattern such as dev## takes the next free one (dev01, dev02, ...)")
  .option("--port <port>", "the board's serial port: write the record, read it back, reset and monitor the board")
  .option("--out <file>", "write the record to FILE instead, for your own esptool run (prints the address)")
  .option("--env <name>", "the environment the board's firmware was built with: its flash layout (default: as pio run)")
  .option("--no-monitor", "stop after writing and verifying the record")
  .option("--timeout <seconds>", "how long the monitor waits for a verdict (default: 90)", parseTimeout)
  .option("--ca-passphrase-file <file>", "read the CA key passphrase from the first line of FILE (to issue a new client)")
  .option("--json", "print only the result as JSON (esptool's output goes to stderr)")
  .addHelpText(
    "after",
    "\nExamples:\n  $ esp-certs provision --port COM3 --client dev07\n  $ esp-certs provision --port /dev/ttyUSB0 --client dev##     # the next free id: one command per board\n  $ esp-certs provision --client dev08 --out dev08.bin          # prints the esptool.py line: 0x3F9000 with esp-certs.flash.4m1m.ld\n\nThe board must run a firmware that reads records (this project's, e.g. an environment with\ncustom_esp_certs_client = none). Exit status: as monitor; 1 also when the write cannot be verified.",
  )
  .action(async (o) => {
    const m = await import("./commands/provision.js");
    process.exitCode = await call(m.provision, o);
  });

program
  .command("ports")
  .description("list serial ports with their USB ids and a guess at the USB-serial chip")
  .option("--json", "print as JSON")
  .addHelpText("after", "\nExample:\n  $ esp-certs ports")
  .action(async (o) => {
    const m = await import("./commands/ports.js");
    process.exitCode = await call(m.ports, o);
  });

// A refused option names the help of the command it was given to, not the overview.
for (const command of program.commands) command.showHelpAfterError(usageHint(command.name()));

function usageHint(command?: string): string {
  return `(run "esp-certs${command ? ` ${command}` : ""} --help" for usage)`;
}

/** Runs one command line; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (err) {
    // Read from the words, not commander: a command line commander refused was never parsed.
    const json = argv.slice(2).includes("--json");
    if (err instanceof CommanderError) {
      // Help and version exit 0; anything else commander rejects is a usage error (commander has printed it).
      if (err.exitCode === 0) return ExitCode.ok;
      if (json) {
        const words = argv.slice(2);
        const command = program.commands.find((c) => words.includes(c.name()))?.name();
        // One line, as every other error's why: commander puts its "Did you mean" on a line of its own.
        const why = err.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
        printJson({ error: { what: "Cannot read the command line", why, fix: `Run "esp-certs${command ? ` ${command}` : ""} --help" for usage.`, exitCode: ExitCode.usage } });
      }
      return ExitCode.usage;
    }
    const failure = err instanceof EspCertsError ? err : fromSystemError(err);
    if (failure === undefined) throw err;
    printError(failure, { json });
    return failure.exitCode;
  }
}

