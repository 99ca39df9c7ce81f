// The configuration's types, at the bottom of config/: every module of config/ may use them,
// and config.ts (the loader, which imports the rest) stays at the top, so imports run one way.

export const KEY_TYPES = ["rsa2048", "ec-p256"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface Subject {
  country: string;
  state: string;
  locality: string;
  organization: string;
}

/** The validated configuration (docs/configuration.md). Paths are absolute. */
export interface Config {
  projectDir: string;
  /** The name the device dials; always in the broker certificate. */
  mqttHost: string;
  mqttPort: number;
  /**
   * `mqtt_address`: an IPv4 address the device dials when `mqttHost` does not resolve; the
   * broker certificate is still checked against `mqttHost` (docs/windows.md).
   */
  mqttAddress?: string;
  /** Further DNS SANs of the broker certificate. Default `localhost, mosquitto`. */
  serverNames: string[];
  /** IP SANs, for clients other than the ESP8266. Default none. */
  serverIps: string[];
  /** Client ids; each gets a certificate with CN = id. Default `dev01, dev02`. */
  clients: string[];
  /** The clients that are apps, with every topic at the broker (docs/access.md); the rest are devices. Default: Node-RED's client (dev02). */
  apps: string[];
  subject: Subject;
  /** Key algorithm of the CA and broker keys. Default `rsa2048`. */
  keyType: KeyType;
  /** Key algorithm of new client keys. Default `ec-p256`. */
  clientKeyType: KeyType;
  /** Default 3650. */
  caDays: number;
  /** Default 825; a leaf never outlives its CA. */
  certDays: number;
  /** Default 60: a client certificate is renewed on its own key within this many days of its end (docs/renewal.md). */
  renewDays: number;
  /** The store (docs/store.md). Default `<project>/certs`. */
  certDir: string;
  /** The generated header. Default `esp_certs.h` in the project's include_dir (`<project>/include`), where the compiler finds it. */
  header: string;
  /** Whether an IP address was accepted as mqtt_host (`--allow-ip`). */
  allowIp: boolean;
  /** PlatformIO environments in file order, with their `custom_esp_certs_client`, platform, board, `board_build.ldscript` and `upload_speed`. */
  environments: { name: string; client?: string; platform?: string; board?: string; ldscript?: string; uploadSpeed?: string }[];
  /** What `pio run` builds without -e: the first of [platformio] default_envs, else the first environment. */
  defaultEnv?: string;
  /** Whether platformio.ini has an `[esp_certs]` section. */
  hasSection: boolean;
  /** Things worth saying that do not stop the run. */
  warnings: string[];
}
