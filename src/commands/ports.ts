/** `esp-certs ports`: the serial ports, their USB ids, and a guess at the bridge chip. */
import { info, printJson } from "../ui.js";
import { listPorts } from "../serial/list.js";

export async function ports(opts: { json?: boolean }): Promise<number> {
  const list = await listPorts();
  if (opts.json) {
    printJson(list);
    return 0;
  }
  if (list.length === 0) {
    info("No serial ports found. Plug the board in with a data cable (some USB cables only charge).");
    return 0;
  }
  const width = Math.max(...list.map((p) => p.path.length));
  for (const p of list) {
    const ids = p.vendorId ? `${p.vendorId}:${p.productId ?? "????"}` : "         ";
    const what = p.chip ? `${p.chip}: ${p.boards}` : (p.manufacturer ?? "");
    info(`${p.path.padEnd(width)}  ${ids}  ${what}`.trimEnd());
  }
  return 0;
}
