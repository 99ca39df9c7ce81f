// Rendering a template of templates/ with EJS: off the hook's no-op path (eslint.config.mjs keeps it off).
import { readTemplate } from "./template-files.js";

/**
 * Renders templates/<name> with EJS (loaded on demand: the hook never needs it). The
 * templates write values with <%- (raw): <%= would HTML-escape a path's & or ' .
 */
export async function renderTemplate(name: string, data: Record<string, unknown>): Promise<string> {
  const { default: ejs } = await import("ejs");
  return ejs.render(readTemplate(name), data, { filename: name });
}
