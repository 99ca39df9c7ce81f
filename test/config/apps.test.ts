// `apps` in [esp_certs]: which clients are apps, checked like every other key.
import { describe, expect, it } from "vitest";
import { clientRole, requireDevice } from "../../src/config/apps.js";
import { resolveConfig } from "../../src/config/config.js";

const config = (own: string, envs = "") => resolveConfig("/p", `${envs}[esp_certs]\nmqtt_host = win10.local\n${own}`);
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return String((err as Error).message ?? err) + " " + JSON.stringify(err);
  }
  throw new Error("not refused");
};

describe("apps", () => {
  it("is Node-RED's client (dev02) when the line is missing, none when it is empty, and the rest are devices", () => {
    expect(config("").apps).toEqual(["dev02"]);
    expect(config("apps =\n").apps).toEqual([]);
    const c = config("clients = dev01, dev02, dash\napps = dev02, dash\n");
    expect(c.apps).toEqual(["dev02", "dash"]);
    expect(clientRole(c, "dash")).toBe("app");
    expect(clientRole(c, "dev01")).toBe("device");
    // A provisioned id is in no list: a device.
    expect(clientRole(c, "dev07")).toBe("device");
  });

  it("refuses an id that is not a client (a provisioned board's id among them), an empty entry, and a repeat", () => {
    expect(refusal(() => config("apps = dev07\n"))).toMatch(/Cannot use apps entry \\"dev07\\".*not one of clients \(dev01, dev02\).*provisioned into a board is a device/);
    expect(refusal(() => config("apps = dev02,,dev01\n"))).toMatch(/Cannot read apps.*empty/);
    expect(refusal(() => config("apps = dev02, dev02\n"))).toMatch(/listed twice/);
    // Not "add it to clients": esp-certs is refused there, and is an app without being listed.
    expect(refusal(() => config("apps = dev02, esp-certs\n"))).toMatch(/esp-certs' own client .*always an app.*Remove esp-certs from apps/);
  });

  it("refuses a client that an environment builds into a board, and provisioning an app onto one", () => {
    const envs = "[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = dev01\n\n";
    expect(refusal(() => config("apps = dev01\n", envs))).toMatch(/\[env:d1_mini\] builds dev01 into a board/);
    // Without custom_esp_certs_client, the header carries the first client.
    expect(refusal(() => config("apps = dev01\n", "[env:d1_mini]\nboard = d1_mini\n\n"))).toMatch(/builds dev01 into a board/);
    expect(refusal(() => requireDevice(config(""), "dev02", "Cannot provision dev02"))).toMatch(/dev02 is an app/);
    expect(() => requireDevice(config(""), "dev07", "x")).not.toThrow();
    // esp-certs' own client in a board's header: refused with its own reason, not "add it to clients".
    expect(refusal(() => config("", "[env:d1_mini]\nboard = d1_mini\ncustom_esp_certs_client = esp-certs\n\n"))).toMatch(/esp-certs' own client .*never built into a board.*Name one of clients \(dev01, dev02\)/);
  });
});
