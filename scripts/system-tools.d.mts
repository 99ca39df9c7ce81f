// Types of system-tools.mjs, for the tests' TypeScript.
export interface SystemTool {
  tool: string;
  debian: string[];
  elsewhere: string;
  benchOnly?: boolean;
}
export const SYSTEM_TOOLS: SystemTool[];
export function debianPackages(): string[];
export function hasTool(tool: string): boolean;
export function installHint(entry: SystemTool): string;
export function missingTools(): SystemTool[];
