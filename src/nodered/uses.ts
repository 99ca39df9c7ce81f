import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/config.js";
import { DEFAULT_FLOW_FILE } from "./plan.js";

/**
 * What to tell the user when a revoked client is the one the project's exported Node-RED flow
 * connects as: its tls-config names that client's certificate and key, which revoke moved away.
 */
export function noderedAdviceAfterRevoke(config: Config, id: string): string[] {
  const flow = path.join(config.projectDir, DEFAULT_FLOW_FILE);
  let text: string;
  try {
    text = existsSync(flow) ? readFileSync(flow, "utf8") : "";
  } catch {
    return [];
  }
  if (!text.includes(`${id}.crt.pem`) && !text.includes(`${id}.key.pem`)) return [];
  return [
    `Node-RED: ${DEFAULT_FLOW_FILE} connects as ${id}, whose certificate and key were moved to certs/revoked/: Node-RED can no longer connect with it. ` +
      `Export a flow for another client ("esp-certs nodered --client ID"), import it in Node-RED and Deploy.`,
  ];
}
