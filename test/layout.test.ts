/**
 * The library's layout: no module imports upward (the import graph of src/ has no
 * cycle, between files nor between its folders), and library code outside the host seam
 * (src/platform) uses no Node-only API, so the browser build can swap the seam alone.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { paths } from "../scripts/paths";

const SRC = path.join(paths.root, "src");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The files of src/ that `file` imports (static, re-exports, type-only and dynamic imports alike). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)"(\.{1,2}\/[^"]+)"/gm)].map((m) => m[1]);
  return specifiers.map((s) => {
    const base = path.resolve(path.dirname(file), s);
    const found = [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f));
    assert.ok(found, `${path.relative(paths.root, file)} imports "${s}", which is no file of src/`);
    return found;
  });
}

/** A cycle of the graph as a list of its nodes, or null. */
function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return null;
}

describe("the library's layout", () => {
  const files = sourceFiles(SRC);
  const edges = new Map(files.map((f) => [f, new Set(importsOf(f))]));
  const rel = (f: string) => path.relative(SRC, f);
  /** A file's room: its top-level folder under src/, or the file itself. */
  const room = (f: string) => rel(f).split(path.sep)[0];

  it("no file imports upward: the files' import graph has no cycle", () => {
    const cycle = findCycle(edges);
    assert.equal(cycle, null, `import cycle: ${cycle?.map(rel).join(" -> ")}`);
  });

  it("no folder imports upward: the graph of src/'s folders and top-level files has no cycle", () => {
    const rooms = new Map<string, Set<string>>();
    for (const [from, tos] of edges) {
      const mine = rooms.get(room(from)) ?? new Set<string>();
      for (const to of tos) if (room(to) !== room(from)) mine.add(room(to));
      rooms.set(room(from), mine);
    }
    const cycle = findCycle(rooms);
    assert.equal(cycle, null, `folders import each other: ${cycle?.join(" -> ")}`);
  });

  it("library code outside src/platform and src/browser uses no Node-only API", () => {
    const nodeOnly =
      /\b(process\.|require\(|Buffer\b|setImmediate\b|__dirname\b)|^import (?!type\b)[^;]*from "(node:)?(fs|path|os|crypto|zlib|child_process)"/m;
    const offenders = files
      .filter((f) => !["platform", "browser"].includes(room(f)))
      .filter((f) => nodeOnly.test(fs.readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "")))
      .map(rel);
    assert.deepEqual(offenders, []);
  });
});
