/**
 * `esp-certs provision`: one device's identity written into its credential sector, without a
 * rebuild (docs/credential-record.md). Every input is checked (client id, environment, flash
 * layout, pio, the port, the output file) before anything is issued, written or flashed.
 */
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { requireDevice } from "../config/apps.js";
import { checkClientIds } from "../config/validate.js";
import { refuseCaseTwin, refuseReservedClientId } from "../config/reserved-ids.js";
import { clientForEnv, loadConfig, type Config } from "../config/config.js";
import { EspCertsError, ExitCode } from "../errors.js";
import { tempPath, writeFileAtomic, writeSecretVia } from "../fs/atomic.js";
import { checkOutputFile, reservedFolders } from "../fs/output.js";
import { findPio, pioMissing } from "../flash/pio.js";
import { runMonitor } from "./print/monitor.js";
import { probePort } from "../serial/open.js";
import { info, note, printJson, shellWord, warn } from "../ui.js";
import { lockStore } from "../store/lock.js";
import { credentialFromStore, inStore } from "../provision/credential.js";
import { ensureClient } from "../provision/ensure-client.js";
import { CertificateStore } from "../store/store.js";
import { hex, layoutFor, type ProvisionLayout } from "../provision/layout.js";
import { isPattern, nextFreeId } from "../provision/next-id.js";
import { decodeRecord, encodeImage, RECORD_MAGIC, RecordError } from "../provision/record.js";
import { eepromUsers } from "../provision/eeprom-users.js";
import { readFlashSize, verifyFlash, writeFlash, type Flasher } from "../provision/esptool.js";

export interface ProvisionOptions {
  projectDir: string;
  /** A client id, or a pattern such as dev## for the next free one. */
  client: string;
  /** The board's serial port: write, verify, reset, monitor. */
  port?: string;
  /** Write the record to this file instead (for a factory's own esptool run). */
  out?: string;
  /** The environment whose flash layout the board was built with. Default: as pio run. */
  env?: string;
  /** Monitor after writing. Default true. */
  monitor?: boolean;
  timeout?: number;
  caPassphraseFile?: string;
  json?: boolean;
}

interface Plan {
  config: Config;
  env: string;
  layout: ProvisionLayout;
  id: string;
}

/** Everything that can be refused without touching the store, a file or the board. */
function plan(o: ProvisionOptions): Plan {
  const what = "Cannot provision";
  if ((o.port === undefined) === (o.out === undefined)) {
    throw new EspCertsError(what, o.port === undefined ? "it needs --port or --out" : "--port and --out are two different ways", "Give --port P to write a board now, or --out FILE to write the record to a file for esptool.");
  }
  if (o.port !== undefined && o.port.trim() === "") throw new EspCertsError(what, "--port is empty", "e.g. --port /dev/ttyUSB0 or --port COM3");
  const config = loadConfig(o.projectDir);
  const envName = o.env ?? config.defaultEnv;
  if (envName === undefined) {
    throw new EspCertsError(what, "platformio.ini has no [env:NAME] section, so the board's flash layout is unknown", 'Add the environment the fleet image is built with, e.g. "[env:d1_mini]" with board = d1_mini and custom_esp_certs_client = none.');
  }
  clientForEnv(config, envName); // the same message as every command for an unknown environment
  const env = config.environments.find((e) => e.name === envName)!;
  const layout = layoutFor(env);
  const store = CertificateStore.open(config);
  const id = resolveClient(o.client, store);
  checkClientIds([id]);
  requireDevice(config, id, what);
  refuseReservedClientId(id, config.mqttHost);
  refuseCaseTwin(id, store.clientIds());
  return { config, env: envName, layout, id };
}

/** The id itself, or the next free one of a pattern such as dev##. */
function resolveClient(client: string, store: CertificateStore): string {
  if (!isPattern(client)) return client;
  const next = nextFreeId(client, store.clientIds());
  if (next === undefined) throw new EspCertsError(`Cannot use --client ${client}`, "a pattern is one run of '#' inside an id, e.g. dev## for dev01, dev02, ...", "e.g. --client dev##");
  return next;
}

/** Where --out writes: a path ending in a separator, or an existing folder, gets ID.bin inside. */
export function outFile(out: string, id: string): string {
  const folder = /[\\/]$/.test(out) || (existsSync(out) && statSync(out).isDirectory());
  return path.resolve(folder ? path.join(out, `${id}.bin`) : out);
}

/**
 * The output-path rule for --out: a new file, or the credential record esp-certs wrote before
 * for this same id (another device's record is never replaced).
 */
function checkOut(file: string, config: Config, id: string): void {
  checkOutputFile(file, {
    what: "the credential record",
    setting: "--out",
    isOurs: (head) => head.startsWith(RECORD_MAGIC.toString("ascii")),
    reserved: reservedFolders(config.projectDir, config.certDir),
  });
  if (!existsSync(file)) return;
  let holder: string | undefined;
  try {
    holder = decodeRecord(readFileSync(file)).clientId;
  } catch {
    holder = undefined; // a damaged record of ours: written again
  }
  if (holder !== undefined && holder !== id) {
    throw new EspCertsError(
      `Cannot write the credential record to ${file}`,
      `it holds ${holder}'s record, not ${id}'s`,
      `Name another file, or a folder (--out ${shellWord(`${path.dirname(file)}${path.sep}`)} writes ${id}.bin there).`,
    );
  }
}

export async function provision(o: ProvisionOptions): Promise<number> {
  const { config, env, layout, id: planned } = plan(o);
  const json = o.json === true;
  if (o.out !== undefined) checkOut(outFile(o.out, planned), config, planned);
  const pio = o.port === undefined ? undefined : findPio();
  if (o.port !== undefined) {
    if (pio === undefined) throw pioMissing("Cannot write the board's flash (provision runs PlatformIO's esptool)");
    await probePort(o.port);
  }
  if (layout.sharesEeprom) {
    for (const file of eepromUsers(config.projectDir)) {
      warn(
        `${path.relative(config.projectDir, file)} uses the EEPROM library, ` +
          (layout.sectors === 1
            ? `whose sector holds the credential record on ${layout.ldscript}: writing EEPROM erases this device's identity. `
            : `whose sector is one of the two credential sectors on ${layout.ldscript}: writing EEPROM erases a renewal stored there, and a renewal overwrites the sketch's EEPROM data. `) +
          `With "board_build.ldscript = ${layout.own}" in [env:${env}] the identity has sectors of its own (docs/flash-layout.md).`,
      );
    }
  }

  // The store's one writer while it issues (the board is written and watched outside the lock). A
  // pattern is resolved again inside: two runs at once with dev## get two ids, not one twice.
  const { id, issued, sector } = await lockStore(
    config.projectDir,
    "provision",
    async () => {
      const store = CertificateStore.openForWriting(config);
      const id = isPattern(o.client) ? resolveClient(o.client, store) : planned;
      const issued = !inStore(store, id);
      if (issued) {
        const made = await ensureClient(store, id, { interactive: !json, caPassphraseFile: o.caPassphraseFile });
        if (made.madeStore && !json) info(`made the certificate store in ${config.certDir} (esp-certs generate also writes the header and broker folder)`);
        for (const w of made.warnings) warn(w);
      }
      // Read while no other run can rekey or revoke the id: the key and certificate are one pair.
      return { id, issued, sector: imageOf(store, id, layout) };
    },
    { certDir: config.certDir, onWait: note },
  );
  const facts = { client: id, issued, env, layout: layout.ldscript, address: hex(sector.address), size: sector.image.length };

  if (o.out !== undefined) {
    const out = outFile(o.out, id);
    if (id !== planned) checkOut(out, config, id);
    // It holds the device's private key: staged in the store, so a killed run leaves no key beside the user's files.
    writeSecretVia(config.certDir, out, sector.image);
    if (json) printJson({ ...facts, file: out });
    else {
      const shown = path.relative(process.cwd(), out) || out;
      info(`${issued ? "issued" : "kept"} client ${id}; wrote its credential record to ${shown} (${sector.image.length} bytes, secret: it holds the key)`);
      info(`flash it at ${facts.address} (${env}: ${layout.ldscript}):`);
      info(`  esptool.py --chip esp8266 --port <port> write_flash ${facts.address} ${shellWord(shown)}`);
    }
    return ExitCode.ok;
  }
  return writeBoard({ pio: pio!, port: o.port!, baud: layout.baud, json }, layout, sector, config.certDir, facts, o);
}

/** What provision writes for a client of the store, and where (record.ts: encodeImage). */
function imageOf(store: CertificateStore, id: string, layout: ProvisionLayout): { address: number; image: Buffer } {
  try {
    return encodeImage(credentialFromStore(store, id), layout);
  } catch (err) {
    if (err instanceof RecordError) throw new EspCertsError(`Cannot provision ${id}`, err.message, "Use an EC client key (client_key_type = ec-p256): its certificate and key are a fraction of the size.");
    throw err;
  }
}

async function writeBoard(f: Flasher, layout: ProvisionLayout, { address, image }: { address: number; image: Buffer }, storeDir: string, facts: Record<string, unknown>, o: ProvisionOptions): Promise<number> {
  const size = await readFlashSize(f);
  if (size === undefined) warn(`esptool did not report the flash size of the board on ${f.port}; writing at ${facts.address} as ${layout.ldscript} lays it out.`);
  else if (size < layout.flashSize) {
    throw new EspCertsError(
      `Cannot provision the board on ${f.port}`,
      `its flash is ${size / 1024} KiB, and [env:${facts.env}] lays out ${layout.flashSize / 1024} KiB (${layout.ldscript}): the record would land outside its flash`,
      "Name the environment its firmware was built with (--env), one whose board matches it (esp01_1m for 1 MB boards).",
    );
  }
  // In the store's private folder, and removed whatever happens: it holds the key. A temp name,
  // so that after a kill during esptool the next run that writes the store removes it.
  const file = tempPath(storeDir, "provision.bin");
  writeFileAtomic(file, image, 0o600);
  let same: boolean;
  try {
    await writeFlash(f, address, file);
    same = await verifyFlash(f, address, file);
  } finally {
    rmSync(file, { force: true });
  }
  if (!same) {
    throw new EspCertsError(
      `Cannot provision the board on ${f.port}`,
      `the sector read back at ${facts.address} is not the record written (esptool verify_flash: digest mismatch)`,
      "Run the same command again; if it fails again, the flash chip may be worn or write-protected: try another board.",
      ExitCode.failed,
    );
  }
  if (!o.json) info(`wrote and verified ${facts.client}'s credential record at ${facts.address} on ${f.port}`);
  if (o.monitor === false) {
    if (o.json) printJson({ ...facts, port: f.port, written: true, readBack: "matched" });
    return ExitCode.ok;
  }
  const code = await runMonitor({ port: f.port, timeout: o.timeout, json: o.json, projectDir: o.projectDir, expectClient: String(facts.client) });
  if (code === ExitCode.ok && !o.json && isPattern(o.client)) info(`next board: plug it in and run the same command again`);
  return code;
}
