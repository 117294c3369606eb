/**
 * The browser kernel's cell semantics, on Node: the compiler and runtime the site ships
 * (src/browser/kernel), bundled as the site bundles them. The same notebook must mean the
 * same thing under tslab and here: declarations carry over between cells, a re-run
 * re-declares, top-level await works, the trailing expression is the cell's value, and
 * errors name the cell's own line.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { paths } from "../scripts/paths";
import { loadBundled } from "./support/bundle";
import type * as Runtime from "../src/browser/kernel/runtime";

const { NotebookState, plainText } = loadBundled<typeof Runtime>(path.join(paths.src, "browser", "kernel", "runtime.ts"));

function notebook(modules: Runtime.ModuleTable = {}) {
  const state = new NotebookState(modules);
  let count = 0;
  const run = async (source: string) => state.run(source, `[${++count}]`);
  const value = async (source: string) => {
    const outcome = await run(source);
    if (!outcome.ok) assert.fail(outcome.error.traceback.join("\n"));
    return outcome.value;
  };
  const error = async (source: string) => {
    const outcome = await run(source);
    assert.equal(outcome.ok, false, `expected an error from: ${source}`);
    return (outcome as { error: Runtime.CellError }).error;
  };
  return { state, run, value, error };
}

describe("browser kernel: tslab's cell semantics", () => {
  it("carries declarations to later cells; the trailing expression is the value", async () => {
    const nb = notebook();
    assert.equal(await nb.value("const a: number = 2;\nlet b = a + 1;"), undefined);
    assert.equal(await nb.value("function twice(x: number): number { return 2 * x; }\nclass Box<T> { constructor(readonly v: T) {} }"), undefined);
    assert.equal(await nb.value("twice(a) + b"), 7);
    assert.deepEqual(await nb.value("new Box(b).v"), 3);
  });

  it("re-declares on re-run, and functions see the names' latest values", async () => {
    const nb = notebook();
    await nb.value("let k = 1;\nfunction f() { return k; }");
    assert.equal(await nb.value("f()"), 1);
    await nb.value("k = 5");
    assert.equal(await nb.value("f()"), 5);
    await nb.value("const k = 7;"); // another cell re-declares k, even as a const
    assert.equal(await nb.value("f()"), 7);
    await nb.value("let k = 1;\nfunction f() { return k; }"); // re-running a cell
    assert.equal(await nb.value("f()"), 1);
  });

  it("runs top-level await", async () => {
    const nb = notebook();
    assert.equal(await nb.value("const v = await new Promise<number>((r) => setTimeout(() => r(4), 5));\nv * 10"), 40);
  });

  it("keeps local names local: parameters, block scopes, closures in loops", async () => {
    const nb = notebook();
    await nb.value("const x = 10;\nconst i = 99;");
    assert.equal(await nb.value("const g = (x: number) => x + 1;\ng(1)"), 2);
    assert.deepEqual(await nb.value("const fs: (() => number)[] = [];\nfor (let i = 0; i < 3; i++) fs.push(() => i);\nfs.map((f) => f())"), [0, 1, 2]);
    assert.equal(await nb.value("{ const x = 1; }\nx"), 10);
    assert.equal(await nb.value("i"), 99);
  });

  it("handles destructuring, var in loops, enums, shorthand properties and missing semicolons", async () => {
    const nb = notebook();
    await nb.value("const { p, q: [r, s = 4], ...rest } = { p: 1, q: [2], t: 5, u: 6 };");
    assert.deepEqual(await nb.value("[p, r, s, rest]"), [1, 2, 4, { t: 5, u: 6 }]);
    await nb.value("for (var n = 0; n < 3; n++) {}\nfor (var key in { z: 1 }) {}");
    assert.deepEqual(await nb.value("[n, key]"), [3, "z"]);
    await nb.value("enum Color { Red, Green }\ninterface Point {\n  x: number;\n}\nconst pt = { x: Color.Green } as Point;");
    assert.deepEqual(await nb.value("({ pt, n })"), { pt: { x: 1 }, n: 3 });
    assert.equal(await nb.value("const h = () => 1\nh()\nconst w = 2\nw"), 2);
  });

  it("names the line of a syntax error and of a runtime error, and the next cells still run", async () => {
    const nb = notebook();
    const syntax = await nb.error("const a = 1;\nconst b = ;\n");
    assert.equal(syntax.ename, "SyntaxError");
    assert.match(syntax.evalue, /line 2, column 11/);
    assert.match(syntax.traceback.join("\n"), /2 \| const b = ;/);
    const thrown = await nb.error("const c = 3;\nfunction boom(): number {\n  throw new RangeError(\"c is \" + c);\n}\nboom();");
    assert.equal(thrown.ename, "RangeError");
    assert.equal(thrown.evalue, "c is 3");
    assert.match(thrown.traceback.join("\n"), /at line 3 of cell \[2\]: throw new RangeError/);
    assert.match(thrown.traceback.join("\n"), /at line 5 of cell \[2\]: boom\(\);/);
    assert.equal(await nb.value("c + 1"), 4); // declarations before the throw stand
    const missing = await nb.error("undefinedName + 1");
    assert.equal(missing.ename, "ReferenceError");
    assert.match(missing.evalue, /undefinedName is not defined/);
    const exported = await nb.error("export const e = 1;");
    assert.match(exported.evalue, /export is not supported in a notebook cell/);
  });

  it("imports from the module table; unknown modules fail clearly; prepare runs for the names imported", async () => {
    const prepared: string[] = [];
    const nb = notebook({
      lib: {
        load: async () => ({ add: (a: number, b: number) => a + b, data: () => "data", default: "the default" }),
        prepare: { data: async () => void prepared.push("data") },
      },
    });
    await nb.value('import { add } from "lib";\nimport type { Nothing } from "lib";');
    assert.deepEqual(prepared, []);
    assert.equal(await nb.value("add(2, 3)"), 5);
    await nb.value('import * as L from "lib";\nimport d from "lib";');
    assert.deepEqual(prepared, ["data"]);
    assert.deepEqual(await nb.value("[L.data(), d]"), ["data", "the default"]);
    const unknown = await nb.error('import { x } from "nowhere";');
    assert.match(unknown.evalue, /Cannot find module "nowhere": the browser kernel provides "lib"/);
  });

  it("shows values as tslab prints them", () => {
    assert.equal(plainText(undefined), null);
    assert.equal(plainText(null), null);
    assert.equal(plainText("text"), "text");
    assert.equal(plainText([1, { a: 2 }]), "[ 1, { a: 2 } ]");
  });
});
