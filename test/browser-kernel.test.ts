/**
 * The browser kernel on Node: its compiler step by step, its runtime (tslab's cell
 * semantics), its console (compared with Node's own Console), its stream cap and the
 * channel that answers every request — the code the site ships (src/browser/kernel),
 * bundled as the site bundles it. The same cells through tslab itself, and the kernel in
 * a real browser, are in test/lite-kernel.test.ts.
 */
import { strict as assert } from "node:assert";
import { Console } from "node:console";
import * as path from "node:path";
import { Writable } from "node:stream";
import * as util from "node:util";
import { Worker } from "node:worker_threads";
import MagicString from "magic-string";
import { paths } from "../scripts/paths";
import type * as Channel from "../src/browser/kernel/channel";
import type * as Compile from "../src/browser/kernel/compile";
import type * as ConsoleModule from "../src/browser/kernel/console";
import type * as Runtime from "../src/browser/kernel/runtime";
import type * as Streams from "../src/browser/kernel/streams";
import type * as TypeScriptModule from "../src/browser/kernel/typescript";
import { loadBundled } from "./support/bundle";

const kernelDir = path.join(paths.src, "browser", "kernel");
const { NotebookState, plainText, INTERRUPTED_COOPERATIVELY } = loadBundled<typeof Runtime>(path.join(kernelDir, "runtime.ts"));
const compiler = loadBundled<typeof Compile>(path.join(kernelDir, "compile.ts"));
const { typescript } = loadBundled<typeof TypeScriptModule>(path.join(kernelDir, "typescript.ts"));
const nodeLike = loadBundled<typeof ConsoleModule>(path.join(kernelDir, "console.ts"));
const { CellStreams } = loadBundled<typeof Streams>(path.join(kernelDir, "streams.ts"));
const { WorkerChannel } = loadBundled<typeof Channel>(path.join(kernelDir, "channel.ts"));

const loadTypeScript = async () => typescript;

function notebook(modules: Runtime.ModuleTable = {}) {
  const state = new NotebookState(modules, loadTypeScript);
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

/** One compiler step on a cell's JavaScript: the text it leaves. */
function step(js: string, apply: (cell: Compile.ParsedCell, out: MagicString) => unknown): { text: string; result: unknown } {
  const cell = compiler.parseCell(js);
  const out = new MagicString(js);
  const result = apply(cell, out);
  return { text: out.toString(), result };
}

describe("browser kernel compiler: each step on its own", () => {
  it("transpile: sucrase erases types line for line; namespaces, decorators and accessor fields go to TypeScript", async () => {
    const ts = "const a: number = 1;\n\ninterface P { x: number }\nlet b = a as number;";
    const out = compiler.transpileWithSucrase(ts);
    assert.equal(out.js.split("\n").length, ts.split("\n").length);
    assert.match(out.js, /^const a = 1;\n\n/);
    assert.equal(out.viaTypeScript, false);
    for (const needs of [
      "namespace Geometry { export const sides = 3 }",
      "module M {\n}",
      "@sealed\nclass A {}",
      "class A { @log m() {} }",
      "class A { accessor x = 1 }",
    ]) {
      assert.ok(compiler.needsTypeScript(needs), needs);
    }
    for (const plain of ["const namespace = 1;", "const a = b @ c;".replace("@", "+"), "let accessor = 2;\naccessor + 1", "enum Color { Red }"]) {
      assert.ok(!compiler.needsTypeScript(plain), plain);
    }
    // TypeScript's output drops blank lines and expands `accessor`; the map gives the cell's lines back.
    const viaTs = await compiler.transpile(
      "// head\n\nnamespace N {\n\n  export const k = 3;\n}\nclass A { accessor x = 1 }\n\nthrow new Error(String(N.k));",
      { typescript: loadTypeScript },
    );
    assert.equal(viaTs.viaTypeScript, true);
    const lines = viaTs.js.split("\n");
    const throwLine = lines.findIndex((l) => l.startsWith("throw")) + 1;
    assert.notEqual(throwLine, 9, "TypeScript's output keeps no lines here (else this test shows nothing)");
    assert.equal(viaTs.cellLine(throwLine), 9);
    assert.equal(viaTs.cellLine(lines.findIndex((l) => l.includes("N.k = 3")) + 1), 5);
  });

  it("parseCell: the top-level names, each once (var twice, for-var loops, classes, imports of every form)", () => {
    const cell = compiler.parseCell(
      'import d, { a as b } from "m";\nimport * as ns from "n";\nvar x = 1; var x = 2;\nfor (var i = 0; i < 2; i++) {}\nfor (var i = 0; i < 3; i++) {}\nclass C {}\nfunction f() { let local = 1; }\nconst { p, q: [r] } = o;',
    );
    assert.deepEqual(compiler.topLevelNames(cell).sort(), ["C", "b", "d", "f", "i", "ns", "p", "r", "x"]);
    assert.throws(
      () => compiler.parseCell("const a = 1;\nlet let = 2;"),
      (e: Compile.CellSyntaxError) => e.line === 2,
    );
  });

  it("declareImports: imports become constants read from the loaded module, on the same lines", () => {
    const { text, result } = step(
      'import d, { a as b, "c-d" as cd } from "m";\nimport * as ns from "n";\nimport {\n  e,\n} from "o";\nimport "p";\ne;',
      compiler.declareImports,
    );
    assert.equal(
      text,
      ';const d = __default(__require("m")); const b = __require("m")["a"]; const cd = __require("m")["c-d"];\n' +
        ';const ns = __require("n");\n;const e = __require("o")["e"];\n\n\n;__require("p");\ne;',
    );
    assert.deepEqual(result, [
      { source: "m", names: "*" },
      { source: "n", names: "*" },
      { source: "o", names: ["e"] },
      { source: "p", names: [] },
    ]);
  });

  it("rewriteReferences: earlier cells' names go through __scope; this cell's, locals and class names stay", () => {
    const known = new Set(["old", "shadow", "Reg"]);
    const rewrite = (js: string) => step(js, (cell, out) => compiler.rewriteReferences(cell, out, (n) => known.has(n))).text;
    assert.equal(
      rewrite("const n = old + 1;\nold = n;\nold.x = { old };"),
      "const n = __scope.old + 1;\n__scope.old = n;\n__scope.old.x = { old: __scope.old };",
    );
    assert.equal(rewrite("function g(shadow) { return shadow + old; }"), "function g(shadow) { return shadow + __scope.old; }");
    // A class redeclared in this cell is this cell's, inside its own static initializer too.
    assert.equal(rewrite("class Reg { static empty = new Reg(); }"), "class Reg { static empty = new Reg(); }");
    assert.equal(rewrite("const K = class Reg { static z = new Reg(); };\nnew Reg()"), "const K = class Reg { static z = new Reg(); };\nnew __scope.Reg()");
    assert.equal(rewrite("var old = 1; var old = 2;"), "var old = 1; var old = 2;");
    assert.equal(rewrite("export const e = old;\nconst f = 1;\nexport { f };"), "const e = __scope.old;\nconst f = 1;\n;");
    assert.equal(rewrite("const v = await load(old);"), "const v = __resume(await load(__scope.old));");
    assert.equal(rewrite('const m = await import("x");'), 'const m = __resume(await __import("x"));');
    assert.throws(
      () => rewrite("const a = 1;\nexport default a;"),
      (e: Compile.CellSyntaxError) => e.line === 2 && /export default. cannot work in a notebook cell/.test(e.message),
    );
    assert.throws(
      () => rewrite('\n\nexport * from "m";'),
      (e: Compile.CellSyntaxError) => e.line === 3 && /cannot work/.test(e.message),
    );
    assert.throws(() => rewrite("import.meta.url"), /import\.meta is not available/);
  });

  it("returnLastValue: a trailing expression, a string literal alone included, is the cell's boxed value", () => {
    const last = (js: string) => step(js, compiler.returnLastValue);
    assert.deepEqual(last('"just a string"'), { text: 'return { value: ("just a string") }', result: true });
    assert.deepEqual(last("const a = 1;\n(a, a + 1);"), { text: "const a = 1;\nreturn { value: ((a, a + 1)) };", result: true });
    assert.deepEqual(last("a\nconst b = 2"), { text: "a\nconst b = 2", result: false });
  });

  it("wrap: binds the cell's names to __scope, takes tslib helpers, adds no line", () => {
    const js = "let a = 1;\nfunction f() {}\n";
    const out = new MagicString(js);
    const code = compiler.wrap(out, ["a", "f"], ["__decorate"], "cell-1.ts");
    const [first, ...rest] = code.split("\n");
    assert.match(
      first,
      /^\(async function \(__scope, __require, __import, __default, __bind, __resume, __tslib\) \{ "use strict"; const __decorate = __tslib\.__decorate;__bind\(__scope, \{ "a": \(\) => a, "f": \(\) => f \}\); let a = 1;$/,
    );
    assert.deepEqual(rest, ["function f() {}", "", "})", "//# sourceURL=cell-1.ts"]);
  });
});

describe("browser kernel: tslab's cell semantics", () => {
  it("carries declarations to later cells; the trailing expression is the value", async () => {
    const nb = notebook();
    assert.equal(await nb.value("const a: number = 2;\nlet b = a + 1;"), undefined);
    assert.equal(await nb.value("function twice(x: number): number { return 2 * x; }\nclass Box<T> { constructor(readonly v: T) {} }"), undefined);
    assert.equal(await nb.value("twice(a) + b"), 7);
    assert.deepEqual(await nb.value("new Box(b).v"), 3);
  });

  it("re-declares on re-run; an earlier cell's functions keep their own bindings, as under tslab", async () => {
    const nb = notebook();
    await nb.value("let k = 1;\nfunction f() { return k; }\nfunction bump() { k++; }");
    assert.equal(await nb.value("f()"), 1);
    await nb.value("bump()"); // the cell's own code changes its binding: later cells see it
    assert.equal(await nb.value("k"), 2);
    await nb.value("k = 5"); // a later cell's assignment: tslab's exports.k = 5, f keeps its k
    assert.deepEqual(await nb.value("[k, f()]"), [5, 2]);
    await nb.value("const k = 7;"); // another cell re-declares k, even as a const
    assert.deepEqual(await nb.value("[k, f()]"), [7, 2]);
    await nb.value("let k = 1;\nfunction f() { return k; }"); // re-running the cell
    assert.deepEqual(await nb.value("[k, f()]"), [1, 1]);
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

  it("redeclared vars and two for-var loops in one cell", async () => {
    const nb = notebook();
    assert.equal(await nb.value("var a = 1;\nvar a = 2;\na"), 2);
    await nb.value("let total = 0;\nfor (var i = 0; i < 3; i++) total += i;\nfor (var i = 0; i < 4; i++) total += i;");
    assert.deepEqual(await nb.value("[a, i, total]"), [2, 4, 9]);
    await nb.value("for (var key in { z: 1 }) {}\nfor (var v of [7, 8]) {}");
    assert.deepEqual(await nb.value("[key, v]"), ["z", 8]);
  });

  it("classes that use themselves in static initializers and static blocks; re-running binds the new class", async () => {
    const nb = notebook();
    const registry =
      "class Registry {\n  static readonly empty = new Registry();\n  static count: number;\n  static { Registry.count = 1; }\n  readonly tag = 'first';\n}";
    await nb.value(registry);
    await nb.value(
      "class Units { private constructor(readonly v: number) {}\n  static of(v: number) { return new Units(v); }\n  static readonly ZERO = Units.of(0);\n}",
    );
    assert.deepEqual(await nb.value("[Registry.empty instanceof Registry, Registry.count, Units.ZERO.v]"), [true, 1, 0]);
    const first = await nb.value("Registry");
    await nb.value(registry.replace("'first'", "'second'"));
    assert.notEqual(await nb.value("Registry"), first);
    assert.equal(await nb.value("Registry.empty.tag"), "second");
  });

  it("namespaces, enums, decorators (experimentalDecorators, as tslab) and accessor fields", async () => {
    const nb = notebook();
    await nb.value("namespace Geometry {\n  export const sides = 3;\n  export function angle() { return 180 / sides; }\n}");
    assert.deepEqual(await nb.value("[Geometry.sides, Geometry.angle()]"), [3, 60]);
    await nb.value("namespace Shapes { export const all = [Geometry.sides, 4]; }"); // an earlier cell's namespace inside another
    assert.deepEqual(await nb.value("Shapes.all"), [3, 4]);
    await nb.value("enum Color { Red, Green = 5, Blue }\nconst enum Dir { Up = 'up' }\nconst d = Dir.Up;");
    assert.deepEqual(await nb.value("[Color.Green, Color[6], d]"), [5, "Blue", "up"]);
    await nb.value(
      "const calls: string[] = [];\n" +
        "function sealed(constructor: Function) { calls.push('class ' + constructor.name); Object.seal(constructor); }\n" +
        "function log(target: any, key: string, descriptor: PropertyDescriptor) { calls.push('method ' + key); return descriptor; }\n" +
        "@sealed\nclass Greeter {\n  @log greet() { return 'hi'; }\n  accessor count = 2;\n}",
    );
    assert.deepEqual(await nb.value("[calls, new Greeter().greet(), Object.isSealed(Greeter)]"), [["method greet", "class Greeter"], "hi", true]);
    assert.deepEqual(await nb.value("const g = new Greeter();\ng.count += 3;\n[g.count, Object.keys(g)]"), [5, []]);
  });

  it("a cell that is only a string literal shows it; an interface-only cell shows nothing", async () => {
    const nb = notebook();
    assert.equal(await nb.value('"just a string"'), "just a string");
    const outcome = await nb.run("interface P { x: number }");
    assert.ok(outcome.ok && !outcome.hasValue);
  });

  it("names the cell's line of every compile error, through sucrase, acorn or TypeScript, and of runtime errors in TypeScript-compiled cells", async () => {
    const nb = notebook();
    const syntax = await nb.error("const a = 1;\nconst b = ;\n");
    assert.equal(syntax.ename, "SyntaxError");
    assert.match(syntax.evalue, /line 2, column 11/);
    assert.match(syntax.traceback.join("\n"), /2 \| const b = ;/);
    const acorn = await nb.error("const a = 1;\n\nlet a = 2;");
    assert.match(acorn.evalue, /already been declared \(line 3\)/);
    const viaTs = await nb.error("namespace N {\n  export const x = 1;\n}\n\nconst y = ;");
    assert.match(viaTs.evalue, /Expression expected\. \(line 5, column 11\)/);
    const thrown = await nb.error("// decorated\n\n@((c: Function) => {})\nclass A {}\n\n\nthrow new RangeError('in a TypeScript-compiled cell');");
    assert.match(thrown.traceback.join("\n"), /at line 7 of cell \[\d+\]: throw new RangeError/);
    const exported = await nb.error("const e = 1;\nexport default e;");
    assert.match(exported.evalue, /cannot work in a notebook cell.*\(line 2\)/);
  });

  it("handles destructuring, shorthand properties and missing semicolons", async () => {
    const nb = notebook();
    await nb.value("const { p, q: [r, s = 4], ...rest } = { p: 1, q: [2], t: 5, u: 6 };");
    assert.deepEqual(await nb.value("[p, r, s, rest]"), [1, 2, 4, { t: 5, u: 6 }]);
    await nb.value("interface Point {\n  x: number;\n}\nconst pt = { x: p } as Point;");
    assert.deepEqual(await nb.value("({ pt, p })"), { pt: { x: 1 }, p: 1 });
    assert.equal(await nb.value("const h = () => 1\nh()\nconst w = 2\nw"), 2);
  });

  it("names the line of a runtime error; declarations before a throw stand", async () => {
    const nb = notebook();
    const thrown = await nb.error('const c = 3;\nfunction boom(): number {\n  throw new RangeError("c is " + c);\n}\nboom();');
    assert.equal(thrown.ename, "RangeError");
    assert.equal(thrown.evalue, "c is 3");
    assert.match(thrown.traceback.join("\n"), /at line 3 of cell \[1\]: throw new RangeError/);
    assert.match(thrown.traceback.join("\n"), /at line 5 of cell \[1\]: boom\(\);/);
    assert.equal(await nb.value("c + 1"), 4);
    const missing = await nb.error("undefinedName + 1");
    assert.equal(missing.ename, "ReferenceError");
    assert.match(missing.evalue, /undefinedName is not defined/);
    const later = await nb.error("const early = 1;\nthrow new Error('stop');\nconst late = 2;");
    assert.equal(later.evalue, "stop");
    assert.equal(await nb.value("early"), 1);
    assert.equal(await nb.value("typeof late"), "undefined", "a name the cell never reached is undefined, as under tslab");
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

  it("an interrupt abandons an awaiting cell: names so far stay, its code stops at the next await, its functions still work", async () => {
    const nb = notebook();
    let release!: () => void;
    (globalThis as { gate?: Promise<void> }).gate = new Promise<void>((r) => (release = r));
    const running = nb.run(
      "const before = 1;\nlet steps = 0;\nasync function step() { steps++; await null; }\n" +
        "for (let i = 0; i < 1000; i++) await step();\nawait (globalThis as any).gate;\nconst after = 2;",
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(nb.state.interrupt(), true);
    const outcome = await running;
    assert.ok(!outcome.ok && outcome.interrupted);
    assert.equal(outcome.error.evalue, INTERRUPTED_COOPERATIVELY);
    release();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await nb.value("before"), 1);
    assert.equal(await nb.value("typeof after"), "undefined", "the abandoned cell went on after its await");
    assert.equal(await nb.value("steps"), 1000);
    assert.equal(await nb.value("await step(); steps"), 1001, "a function of the interrupted cell works in a later cell");
    assert.equal(nb.state.interrupt(), false, "nothing runs: nothing to interrupt");
    delete (globalThis as { gate?: Promise<void> }).gate;
  });

  it("completion survives a getter that throws", async () => {
    const nb = notebook();
    await nb.value("const tricky = { get bad(): any { throw new Error('no'); }, good: 1 };");
    assert.deepEqual(nb.state.members(["tricky"]), ["bad", "good"]);
    assert.deepEqual(nb.state.members(["tricky", "bad"]), []);
  });

  it("shows values as tslab prints them: Node's util.inspect", () => {
    assert.equal(plainText(undefined), null);
    assert.equal(plainText(null), null);
    assert.equal(plainText("text"), "text");
    class Registry {
      items = new Map([["a", [1, 2, { deep: { deeper: { deepest: 1 } } }]]]);
    }
    for (const value of [
      [1, { a: 2 }],
      new Float64Array(200000),
      Array.from({ length: 150 }, (_, i) => i),
      new Registry(),
      new Set(["x"]),
      { a: { b: { c: { d: 1 } } } },
      10n,
      Symbol("s"),
    ]) {
      assert.equal(plainText(value), util.inspect(value));
    }
    assert.ok(plainText(new Float64Array(200000))!.length < 1000, "200,000 numbers print the first 100");
    assert.match(plainText(new Float64Array(200000))!, /\.\.\. 199900 more items/);
    const huge = plainText("x".repeat(300_000))!;
    assert.ok(huge.length < 101_000);
    assert.match(huge, /… 200,000 more characters of this value not shown$/);
  });
});

describe("browser kernel console: what Node's console prints", () => {
  /** Runs `calls` on Node's Console and on the kernel's; returns both transcripts. */
  function both(calls: (c: Console) => void): { node: string; kernel: string } {
    let node = "";
    const sink = (s: { write(t: string): void }) =>
      new Writable({
        write(chunk, _e, done) {
          s.write(String(chunk));
          done();
        },
      });
    const nodeConsole = new Console({ stdout: sink({ write: (t) => (node += `[out]${t}`) }), stderr: sink({ write: (t) => (node += `[err]${t}`) }) });
    let kernel = "";
    const kernelConsole = nodeLike.createConsole({ write: (name, t) => (kernel += `[${name === "stdout" ? "out" : "err"}]${t}`), frames: () => [] });
    calls(nodeConsole);
    calls(kernelConsole as unknown as Console);
    return { node, kernel };
  }

  it("log, format, dir, table, count, assert, group print exactly as Node's", () => {
    const { node, kernel } = both((c) => {
      c.log("%s has %d items: %o", "list", 3, [1, 2, 3], "extra", { a: 1 });
      c.info(new Map([[1, { a: [1, 2, { b: { c: { d: 1 } } }] }]]));
      c.error(new Float64Array(300));
      c.warn("%i%%", 42.9);
      c.dir({ a: { b: { c: { d: 1 } } } }, { depth: 0 });
      c.table([
        { a: 1, b: "x" },
        { a: 2, c: [1, 2, 3, 4] },
      ]);
      c.table(new Map([["k", { x: 1 }]]));
      c.table(new Set(["s", 2]));
      c.table([1, "s"]);
      c.table({ r1: { 中文: 1, b: 2 }, r2: { b: 3 } });
      c.table([{ a: 1, b: 2 }], ["b"]);
      c.table("not tabular");
      c.count();
      c.count();
      c.count("z");
      c.countReset("z");
      c.count("z");
      c.assert(true, "never");
      c.assert(false, "msg %d", 3);
      c.assert(false);
      c.group("G");
      c.log("in\nner");
      c.group();
      c.warn("deeper");
      c.groupEnd();
      c.groupEnd();
      c.log("out");
    });
    assert.equal(kernel, node);
  });

  it("time, timeLog, timeEnd: Node's format, and a warning for an unknown label", () => {
    let t = 0;
    let out = "";
    const c = nodeLike.createConsole({ write: (_n, text) => (out += text), frames: () => [], now: () => t });
    c.time("step");
    t = 12.34567;
    c.timeLog("step", "x", 1);
    t = 1500;
    c.timeEnd("step");
    c.timeEnd("step");
    c.time();
    t = 1500 + 62_003;
    c.timeEnd();
    assert.equal(out, "step: 12.346ms x 1\nstep: 1.500s\nWarning: No such label 'step' for console.timeEnd()\ndefault: 1:02.003 (m:ss.mmm)\n");
  });

  it("trace prints 'Trace: message' and the frames the kernel maps", () => {
    let out = "";
    const c = nodeLike.createConsole({ write: (n, text) => (out += `[${n}]${text}`), frames: () => ["    at line 2 of cell [1]: console.trace('here', 1)"] });
    c.trace("here", 1);
    assert.equal(out, "[stderr]Trace: here 1\n    at line 2 of cell [1]: console.trace('here', 1)\n");
  });
});

describe("browser kernel streams: a cell's output is capped, with a note", () => {
  it("sends text in order, up to the limit, then says how much was cut", () => {
    const sent: [string, string][] = [];
    const flushes: (() => void)[] = [];
    const streams = new CellStreams(
      (name, text) => sent.push([name, text]),
      50,
      (f) => flushes.push(f),
    );
    streams.write("stdout", "a\n");
    streams.write("stdout", "b\n");
    streams.write("stderr", "warn\n");
    assert.equal(flushes.length, 1, "one flush scheduled for a burst");
    flushes[0]();
    assert.deepEqual(sent, [
      ["stdout", "a\nb\n"],
      ["stderr", "warn\n"],
    ]);
    for (let i = 0; i < 100; i++) streams.write("stdout", `line ${i}\n`);
    streams.end();
    const text = sent
      .slice(2)
      .map(([, t]) => t)
      .join("");
    assert.equal(
      sent
        .slice(2)
        .filter(([n]) => n === "stdout")
        .map(([, t]) => t)
        .join("").length,
      50 - 9,
    );
    assert.match(
      text,
      /… output cut: [\d,]+ more characters \(\d+ lines\) of this cell's stdout and stderr were not shown — the browser kernel shows the first 50 characters/,
    );
    sent.length = 0;
    streams.write("stdout", "next cell\n");
    streams.end();
    assert.deepEqual(sent, [["stdout", "next cell\n"]], "the next cell starts with the whole limit");
  });
});

describe("browser kernel channel: every request gets a reply", function () {
  this.timeout(20_000);

  /** A Node worker thread behind the DOM Worker interface the channel uses. */
  function threadWorker(script: string): Channel.WorkerLike {
    const thread = new Worker(`const { parentPort } = require("node:worker_threads");\n${script}`, { eval: true });
    const w: Channel.WorkerLike = {
      postMessage: (m) => thread.postMessage(m),
      terminate: () => void thread.terminate(),
      onmessage: null,
      onerror: null,
    };
    thread.on("message", (data) => w.onmessage?.({ data }));
    thread.on("error", (e) => w.onerror?.({ message: e.message }));
    return w;
  }

  /** Answers ping at once, never answers "complete", spins on "spin", exits on "close". */
  const peer = `
    parentPort.on("message", (m) => {
      if (m.type === "init") parentPort.postMessage({ type: "ready" });
      else if (m.type === "ping") parentPort.postMessage({ type: "reply", id: m.id, content: { status: "ok", pid: process.pid + "-" + require("node:worker_threads").threadId } });
      else if (m.type === "is_complete") { const end = Date.now() + 300; while (Date.now() < end); parentPort.postMessage({ type: "reply", id: m.id, content: { status: "complete" } }); }
      else if (m.type === "execute" && m.code === "close()") parentPort.postMessage({ type: "exit", reason: "a cell called close()" });
    });`;

  it("answers, times out with an error reply, and fails pending requests when the worker dies; then a new worker answers", async () => {
    const restarts: string[] = [];
    let created = 0;
    const channel = new WorkerChannel({
      create: () => {
        created++;
        return threadWorker(peer);
      },
      init: () => ({ type: "init", imports: {}, globals: {} }),
      onRestart: (r) => restarts.push(r),
    });
    await channel.ready;
    const first = await channel.request({ type: "ping" }, { timeoutMs: 5000 });
    assert.equal(first.status, "ok");
    const silent = await channel.request({ type: "complete", code: "a.", cursor: 2 }, { timeoutMs: 200 });
    assert.equal(silent.status, "error");
    assert.equal(silent.ename, "TimeoutError");
    assert.match(String(silent.evalue), /did not answer a complete request within 200 ms/);
    const late = await channel.request({ type: "is_complete", code: "x" }, { timeoutMs: 100 });
    assert.equal(late.ename, "TimeoutError", "a reply after the timeout is dropped, not delivered twice");
    const pending = channel.request({ type: "complete", code: "", cursor: 0 });
    const dying = await channel.request({ type: "execute", code: "close()", label: "[1]" });
    assert.equal(dying.ename, "KernelDied");
    assert.match(String(dying.evalue), /the kernel's worker stopped: a cell called close\(\); a new one was started/);
    assert.equal((await pending).ename, "KernelDied", "every pending request fails with the same clear error");
    await channel.ready;
    assert.equal(created, 2);
    assert.equal(restarts.length, 1);
    const again = await channel.request({ type: "ping" }, { timeoutMs: 5000 });
    assert.equal(again.status, "ok");
    assert.notEqual(again.pid, first.pid, "answered by the new worker");
    channel.dispose();
  });

  it("a worker that cannot start rejects `ready` with the reason", async () => {
    const channel = new WorkerChannel({
      create: () => threadWorker("throw new Error('broken script');"),
      init: () => ({ type: "init", imports: {}, globals: {} }),
    });
    await assert.rejects(channel.ready, /failed to start \(broken script\)/);
    channel.dispose();
  });
});
