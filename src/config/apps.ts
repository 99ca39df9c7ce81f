// `apps` in [esp_certs]: which clients are apps (every topic at the broker) rather than devices
// (their own `<id>/#` only). docs/access.md says what each may do and why.
import { APP_ID } from "./app-identity.js";
import { EspCertsError } from "../errors.js";
import { defaultAppClient, notOneOfClients } from "./clients.js";
import type { Config } from "./types.js";
import { clientForEnv, NO_CLIENT } from "./env-client.js";

export type ClientRole = "device" | "app";

/** A client's role: an app when `apps` names it, else a device. */
export function clientRole(config: Pick<Config, "apps">, id: string): ClientRole {
  // esp-certs' own client (push, status --live) is always an app (docs/renewal.md).
  return id === APP_ID || config.apps.includes(id) ? "app" : "device";
}

/**
 * The apps of a configuration whose clients and environments are settled: `written` is the
 * `apps` value as platformio.ini has it (undefined: no such line). Without the line, Node-RED's
 * client (the first that no environment builds into a board: dev02 with the defaults) is the
 * one app, so a project made before `apps` existed keeps its flow working.
 */
export function resolveApps(config: Omit<Config, "apps">, written: string[] | undefined): string[] {
  if (written === undefined) {
    const app = defaultAppClient({ ...config, apps: [] });
    return app === undefined ? [] : [app];
  }
  const boards = boardClients(config);
  const seen = new Set<string>();
  for (const id of written) {
    if (id === "") throw new EspCertsError("Cannot read apps", `an entry is empty in "${written.join(",")}"`, "Remove the stray comma.");
    if (id === APP_ID) {
      throw new EspCertsError(`Cannot use apps entry "${id}"`, "it is esp-certs' own client (push, status --live), always an app without being listed", `Remove ${id} from apps.`);
    }
    if (!config.clients.includes(id)) {
      throw new EspCertsError(`Cannot use apps entry "${id}"`, `it is ${notOneOfClients(config.clients)}`, `Remove it from apps, or add it to clients in [esp_certs]: an app needs a client of its own (a client provisioned into a board is a device).`);
    }
    const env = boards.get(id);
    if (env !== undefined) {
      throw new EspCertsError(
        `Cannot use apps entry "${id}"`,
        `[env:${env}] builds ${id} into a board, whose key sits in plain flash: an app may use every topic, a board only its own`,
        `Give the board its own client (custom_esp_certs_client = <id> in [env:${env}]), or remove ${id} from apps.`,
      );
    }
    if (seen.has(id)) throw new EspCertsError(`Cannot use apps entry "${id}"`, "it is listed twice", "List each app once.");
    seen.add(id);
  }
  return written;
}

/** The clients that environments build into a board's header, with the first environment that does. */
function boardClients(config: Omit<Config, "apps">): Map<string, string> {
  const out = new Map<string, string>();
  for (const env of config.environments) {
    const id = env.client ?? clientForEnv(config as Config, env.name);
    if (id !== NO_CLIENT && !out.has(id)) out.set(id, env.name);
  }
  return out;
}

/**
 * Refuses (exit 2) to put an app's identity on a board (`provision`): whoever holds the board
 * would hold a key that may use every topic.
 */
export function requireDevice(config: Pick<Config, "apps">, id: string, what: string): void {
  if (clientRole(config, id) !== "app") return;
  throw new EspCertsError(
    what,
    `${id} is an app (apps in [esp_certs]): a board keeps its key in plain flash, and an app may use every topic`,
    `Provision the board as a device of its own (e.g. --client dev##), or remove ${id} from apps.`,
  );
}

