// A clone made with Git for Windows' default settings has CRLF templates unless .gitattributes
// says otherwise; either way the rendered files must not depend on it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lfOnly, readTemplate, templatePath } from "../../src/render/template-files.js";
import { repoRoot } from "../helpers/cli.js";

describe("templates", () => {
  it("are read with LF line ends, whatever the checkout did to them", () => {
    for (const name of ["esp_certs.h.ejs", "mosquitto.conf.ejs", "docker-compose.yml.ejs"]) {
      const text = readFileSync(templatePath(name), "utf8");
      expect(lfOnly(text.replace(/\n/g, "\r\n"))).toBe(text);
      expect(readTemplate(name)).not.toContain("\r");
    }
  });

  it("are checked out with LF on every OS (.gitattributes)", () => {
    expect(readFileSync(path.join(repoRoot, ".gitattributes"), "utf8")).toMatch(/^\* text=auto eol=lf$/m);
  });
});
