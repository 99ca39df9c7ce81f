// esp-certs' own linker scripts, linked by the ESP8266's own toolchain (xtensa-lx106-elf): the
// linker takes them as the core's build does (-T by name, INCLUDE found through -L), gives the
// firmware the symbols it reads, and refuses a sketch that would reach the credential sectors.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CORE_LAYOUTS, coreLayout, FLASH_MAP_BASE, IROM_START, ownLayout, ownScriptName } from "../../src/layout/flash-map.js";
import { renderLdScript } from "../../src/layout/ldscript.js";
import { tmpDir } from "../helpers/tmp.js";
import { requireTool } from "../helpers/tools.js";

// binutils-xtensa-lx106 comes with gcc-xtensa-lx106; a job without the compiler has neither.
const hasCross =
  requireTool("xtensa-lx106-elf-gcc", "gcc-xtensa-lx106 picolibc-xtensa-lx106-elf") &&
  ["xtensa-lx106-elf-nm", "xtensa-lx106-elf-size"].every((tool) => requireTool(tool, "binutils-xtensa-lx106 gcc-xtensa-lx106"));

// Stands in for the core's local.eagle.app.v6.common.ld: only the sketch's flash code, in irom0_0_seg.
const COMMON = `SECTIONS
{
  .irom0.text : { *(.literal .literal.*) *(.text .text.* .irom0.text) } > irom0_0_seg
  .dram : { *(.data .data.* .bss .bss.* .rodata .rodata.*) } > dram0_0_seg
}
`;
// Reads what the firmware and the core read from the script.
const SKETCH = `extern const char _FS_start[], _FS_end[], _FS_block[], _EEPROM_start[], _ESP_CERTS_CRED_start[];
const void *const used[] = {_FS_start, _FS_end, _FS_block, _EEPROM_start, _ESP_CERTS_CRED_start};
int entry(void) { return used[0] != 0; }
`;

describe.skipIf(!hasCross)("the own layouts, linked by xtensa-lx106-elf", () => {
  let dir: string;
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: dir, encoding: "utf8" });

  beforeAll(() => {
    dir = tmpDir("esp-certs-link-");
    writeFileSync(path.join(dir, "local.eagle.app.v6.common.ld"), COMMON);
    writeFileSync(path.join(dir, "sketch.c"), SKETCH);
    mkdirSync(path.join(dir, "ld"));
    const cc = run("xtensa-lx106-elf-gcc", ["-c", "-Os", "-mlongcalls", "-o", "sketch.o", "sketch.c"]);
    expect(cc.status, cc.stderr).toBe(0);
  });

  function link(name: string, objects: string[]) {
    // As PlatformIO links: -T by name before the -L that finds it and the script it INCLUDEs.
    writeFileSync(path.join(dir, "ld", name), renderLdScript(ownLayout(coreLayout(name.split(".")[2])!)));
    return run("xtensa-lx106-elf-gcc", ["-nostdlib", "-Wl,-e,entry", "-T", name, ...objects, "-Lld", "-L.", "-o", `${name}.elf`]);
  }

  it.each(CORE_LAYOUTS.map((l) => [ownScriptName(l), ownLayout(l)] as const))("%s gives the symbols the firmware reads", (name, own) => {
    const linked = link(name, ["sketch.o"]);
    expect(linked.status, linked.stderr).toBe(0);
    const nm = run("xtensa-lx106-elf-nm", [`${name}.elf`]);
    const symbols = Object.fromEntries(nm.stdout.trim().split("\n").map((l) => l.split(" ")).map(([v, , n]) => [n, parseInt(v, 16)]));
    expect(symbols).toMatchObject({
      _ESP_CERTS_CRED_start: FLASH_MAP_BASE + own.cred!,
      _EEPROM_start: FLASH_MAP_BASE + own.eeprom,
      _FS_start: FLASH_MAP_BASE + own.fsStart,
      _FS_end: FLASH_MAP_BASE + own.fsEnd,
      _FS_block: own.fsBlock,
    });
  });

  it("refuses a sketch one byte too large for the room below the credential sectors (1m: no filesystem)", () => {
    const room = ownLayout(coreLayout("1m")!).sketchEnd - IROM_START;
    const sized = (n: number, file: string) => {
      writeFileSync(path.join(dir, `${file}.c`), `const char big[${n}] __attribute__((section(".irom0.text"))) = {1};\n`);
      const cc = run("xtensa-lx106-elf-gcc", ["-c", "-o", `${file}.o`, `${file}.c`]);
      expect(cc.status, cc.stderr).toBe(0);
      return `${file}.o`;
    };
    // sketch.o's own code takes some of the room: fill the rest exactly, then one byte more.
    expect(link("esp-certs.flash.1m.ld", ["sketch.o"]).status).toBe(0);
    const own = run("xtensa-lx106-elf-size", ["-A", "esp-certs.flash.1m.ld.elf"]);
    const used = Number(/\.irom0\.text\s+(\d+)/.exec(own.stdout)?.[1] ?? NaN);
    expect(link("esp-certs.flash.1m.ld", ["sketch.o", sized(room - used, "fits")]).status).toBe(0);
    const over = link("esp-certs.flash.1m.ld", ["sketch.o", sized(room - used + 1, "over")]);
    expect(over.status).not.toBe(0);
    expect(over.stderr).toMatch(/irom0_0_seg' overflowed/);
  });
});
