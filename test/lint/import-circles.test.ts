// Imports under src/ run one way, type imports included (docs/store.md, "the store object and the
// layers"). ESLint's import-x/no-cycle leaves type-only imports out, so a circle made of them (a
// module's types imported back by the module that imports it) is found here.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const src = path.resolve(import.meta.dirname, "../../src");

/** Each module of src/ with the modules of src/ it imports or re-exports, `import type` included. */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    // preProcessFile lists every import and re-export, `import type` included, without a full parse.
    const deps = ts
      .preProcessFile(readFileSync(path.join(src, file), "utf8"), true, false)
      .importedFiles.map((f) => f.fileName)
      .filter((spec) => spec.startsWith("."))
      .map((spec) => path.join(path.dirname(file), spec.replace(/\.js$/, ".ts")));
    graph.set(file, deps);
  }
  return graph;
}

/** The circles of `graph`: one path each, from a module back to itself. */
export function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (file: string, trail: string[]) => {
    const back = trail.indexOf(file);
    if (back >= 0) return void found.push([...trail.slice(back), file]);
    if (done.has(file)) return;
    for (const dep of graph.get(file) ?? []) visit(dep, [...trail, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

describe("imports under src/", () => {
  it("make no circle, through type imports neither", () => {
    expect(circles(importGraph()).map((c) => c.join(" -> "))).toEqual([]);
  });

  it("the finder sees a circle of two and of three, and none in a chain", () => {
    expect(circles(new Map([["a", ["b"]], ["b", ["a"]]]))).toEqual([["a", "b", "a"]]);
    expect(circles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]))).toHaveLength(1);
    expect(circles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]]))).toEqual([]);
  });
});
