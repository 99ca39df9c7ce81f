// `esp-certs push`: each device's current certificate to the broker, retained, where the device
// takes it after its next connect (docs/renewal.md).
import { parseAddress } from "../config/address.js";
import { APP_ID } from "../config/app-identity.js";
import { loadConfig } from "../config/config.js";
import { ExitCode } from "../errors.js";
import { pushPlan, type PushItem } from "../renewal/push-plan.js";
import { colour, info, printJson, warn } from "../ui.js";

export interface PushOptions {
  projectDir: string;
  brokerAddress?: string;
  client?: string[];
  json?: boolean;
}

export interface PushResult {
  id: string;
  topic: string;
  action: "published" | "cleared";
  serial?: string;
  notAfter?: string;
  /** Whether the broker acknowledged it (PUBACK, QoS 1). */
  acknowledged: boolean;
  error?: string;
}

const ACK_TIMEOUT_MS = 10_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no acknowledgement within ${ms / 1000} s`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function line(r: PushResult): string {
  const what = r.action === "published" ? `certificate ${r.serial} (until ${r.notAfter!.slice(0, 10)})` : "retained certificate removed (revoked)";
  return r.acknowledged ? `${colour.green(r.action.padEnd(10))}${r.id.padEnd(16)}${what}` : `${colour.red("failed".padEnd(10))}${r.id.padEnd(16)}${r.error}`;
}

export async function pushCommand(o: PushOptions): Promise<number> {
  const config = loadConfig(o.projectDir);
  const target = parseAddress(o.brokerAddress, config.mqttHost, config.mqttPort);
  const items = pushPlan(config, o.client);
  const broker = `${target.host}:${target.port}`;
  if (items.length === 0) {
    if (o.json) printJson({ broker, results: [] });
    else info("No devices in the store: nothing to push.");
    return ExitCode.ok;
  }
  const { connectAsApp } = await import("../mqtt/app-client.js");
  const client = await connectAsApp(config, target);
  if (!o.json) info(colour.dim(`connected to ${broker} as ${APP_ID}`));
  const results: PushResult[] = [];
  try {
    for (const item of items) {
      const r = await publish(client, item);
      results.push(r);
      if (!o.json) info(line(r));
    }
  } finally {
    await client.endAsync();
  }
  const failed = results.filter((r) => !r.acknowledged);
  if (o.json) {
    printJson({ broker, results });
  } else if (failed.length > 0) {
    warn(`The broker did not take ${failed.map((r) => r.id).join(", ")}: check its access rules (esp-certs' own client must be an app) and its log, then push again.`);
  } else {
    info(colour.dim("Each device takes its certificate after its next connect (its state: esp-certs status --live)."));
  }
  return failed.length > 0 ? ExitCode.failed : ExitCode.ok;
}

async function publish(client: import("mqtt").MqttClient, item: PushItem): Promise<PushResult> {
  const base = { id: item.id, topic: item.topic, action: item.action === "publish" ? ("published" as const) : ("cleared" as const), serial: item.serial, notAfter: item.notAfter };
  try {
    await withTimeout(client.publishAsync(item.topic, item.payload, { qos: 1, retain: true }), ACK_TIMEOUT_MS);
    return { ...base, acknowledged: true };
  } catch (err) {
    return { ...base, acknowledged: false, error: (err as Error).message };
  }
}
