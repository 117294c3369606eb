/**
 * The browser kernel's type checker (src/browser/kernel/checker/cell-checker.ts) on Node,
 * with the declarations the site ships (scripts/kernel-declarations.ts): every notebook
 * type-checks cell after cell, and the same requests give the same answers as the real
 * tslab kernel — type errors as `L:C - message`, what the history keeps and drops,
 * completion, quick info, is_complete. The browser side of the same is test/lite-typescript.test.ts.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { checkedModules } from "../scripts/build-lite";
import { collectDeclarations } from "../scripts/kernel-declarations";
import { paths } from "../scripts/paths";
import { listNotebooks } from "../scripts/workbook";
import type { DeclarationBundle } from "../src/browser/kernel/checker/bundle";
import { CellChecker, DeclarationStore, formatDiagnostic, isCompleteCell } from "../src/browser/kernel/checker/cell-checker";
import { stderrLines, type TslabRequest, tslabSession } from "./support/tslab";

const codeCells = (notebook: string): string[] =>
  (JSON.parse(fs.readFileSync(notebook, "utf8")).cells as { cell_type: string; source: string | string[] }[])
    .filter((c) => c.cell_type === "code")
    .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));

/** One reader's session: cells run in order (a cell that checks clean runs, and its declarations stay). */
const SESSION: TslabRequest[] = [
  { op: "execute", code: 'const n: number = "text";' },
  { op: "execute", code: "let q: string = 1;\nlet r: number = 'a';" },
  { op: "execute", code: "const m: number = 3;\nm" },
  // A later cell re-declares a name, with another type.
  { op: "execute", code: 'const m = "again";\nm.toUpperCase()' },
  { op: "execute", code: "m.toFixed(2)" },
  { op: "execute", code: "undefinedName + 1" },
  { op: "execute", code: "const v = [1, 2, 3];\nv.mapp((x) => x)" },
  { op: "execute", code: "await Promise.resolve(1)" },
  { op: "execute", code: "const kk = 1;\nconst kk = 2;" },
  { op: "execute", code: "const x = ;" },
  // Types and values: a later interface of a class's name keeps the class's value.
  { op: "execute", code: "class K { v = 1 }\nenum E { A, B }\ninterface P { x: number }" },
  { op: "execute", code: "interface K { w: number }\nconst e: E = E.B;\nconst p: P = { x: 1 };" },
  { op: "execute", code: "const k: K = { w: 1 };\nconst p2: P = { x: 'a' };" },
  { op: "execute", code: "K" },
  // What tslab's history drops: a `var` of a loop head; a namespace, one cell later.
  { op: "execute", code: "for (var i = 0; i < 2; i++) {}\nnamespace Geo { export const sides = 3 }" },
  { op: "execute", code: "Geo.sides" },
  { op: "execute", code: "i" },
  { op: "execute", code: "Geo.sides" },
  // The library's declarations.
  { op: "execute", code: 'import { runLedger } from "vae-workbook";' },
  { op: "inspect", code: "runLedger", cursor: 3 },
  { op: "execute", code: 'const rows = runLedger({ seed: "x" });' },
  { op: "complete", code: "const xs = [1, 2, 3];\nxs.fla" },
  { op: "complete", code: 'import { runL } from "vae-workbook";', cursor: 13 },
  { op: "complete", code: "runLedger({  })", cursor: 11 },
  { op: "complete", code: "Mat" },
  { op: "complete", code: "E." },
  { op: "complete", code: "const s = 'abc';\ns.toU" },
  { op: "inspect", code: "Math.max(1, 2)", cursor: 6 },
  { op: "inspect", code: "const zz = 1" },
  { op: "execute", code: 'import * as tf from "@tensorflow/tfjs";\nconst t = tf.tensor([1, 2]);\nconst u: string = t;' },
  { op: "execute", code: 'import { display } from "tslab";\ndisplay.html(1);' },
  // A value typed `any`: TypeScript has no members to offer (the browser then asks the running notebook).
  { op: "execute", code: "const o: any = { get bad() { return 1; } };" },
  { op: "complete", code: "o." },
  { op: "complete", code: "o.ba" },
  { op: "is_complete", code: "function f(x: number) {" },
  { op: "is_complete", code: "const a = [\n  1," },
  { op: "is_complete", code: "const a = 1;" },
];

describe("the browser kernel's type checker (on Node), next to tslab", function () {
  this.timeout(10 * 60 * 1000);
  let bundle: DeclarationBundle;
  let store: DeclarationStore;

  before(() => {
    bundle = collectDeclarations(checkedModules());
    store = new DeclarationStore(ts, bundle);
  });

  it("the declarations hold each module a cell may import, TypeScript's lib and Node's globals, and nothing of this machine's paths", () => {
    assert.deepEqual(Object.keys(bundle.modules).sort(), ["@tensorflow/tfjs", "tslab", "vae-workbook", "vae-workbook/exact"]);
    for (const file of Object.values(bundle.modules)) assert.ok(bundle.files[file], `${file} is not in the bundle`);
    assert.ok(bundle.files["/lib.es2022.d.ts"] && bundle.files["/lib.es5.d.ts"], "no lib files");
    assert.ok(bundle.files["/node_modules/@types/node/index.d.ts"], "no @types/node");
    const files = Object.keys(bundle.files);
    assert.deepEqual(
      files.filter((f) => f.includes(paths.root)),
      [],
    );
    assert.ok(!files.some((f) => f.includes("/lib.dom.")), "the DOM's types are in: tslab's Node kernel has none");
  });

  for (const notebook of listNotebooks()) {
    it(`${path.basename(notebook)}: every cell type-checks against the earlier ones`, () => {
      const checker = new CellChecker(store);
      codeCells(notebook).forEach((code, i) => {
        const result = checker.check(code);
        if (!result.ok) assert.fail(`code cell ${i + 1} does not type-check:\n${result.diagnostics.map(formatDiagnostic).join("\n")}\n${code.slice(0, 300)}`);
        checker.commit(result.history);
      });
    });
  }

  it("gives tslab's answers: type errors, what the history keeps, completion, quick info, is_complete", async () => {
    const theirs = await tslabSession(SESSION);
    const checker = new CellChecker(store);
    const differences: string[] = [];
    SESSION.forEach((request, i) => {
      const cursor = "cursor" in request && request.cursor !== undefined ? request.cursor : request.code.length;
      const tslab = theirs[i];
      let mine: unknown;
      let expected: unknown;
      if (request.op === "execute") {
        const result = checker.check(request.code);
        if (result.ok) checker.commit(result.history);
        mine = result.ok ? [] : result.diagnostics.map(formatDiagnostic);
        expected = stderrLines(tslab).filter((l) => /^\d+:\d+ - /.test(l));
        // A clean cell ran under tslab: it printed no diagnostic and replied ok.
        if (result.ok) assert.equal(tslab.reply.status, "ok", `tslab failed a cell the checker passed: ${request.code}\n${stderrLines(tslab).join("\n")}`);
      } else if (request.op === "complete") {
        const c = checker.complete(request.code, cursor);
        mine = { start: c.start, end: c.end, matches: c.matches };
        expected = { start: tslab.reply.cursor_start, end: tslab.reply.cursor_end, matches: tslab.reply.matches };
      } else if (request.op === "inspect") {
        mine = checker.inspect(request.code, cursor);
        expected = tslab.reply.found ? tslab.reply.data["text/plain"] : null;
      } else {
        mine = isCompleteCell(ts, request.code);
        expected = tslab.reply.status === "incomplete" ? { status: "incomplete", indent: tslab.reply.indent } : { status: tslab.reply.status };
      }
      if (JSON.stringify(mine) !== JSON.stringify(expected)) {
        differences.push(`${request.op} ${JSON.stringify(request.code)}\n  browser: ${JSON.stringify(mine)}\n  tslab:   ${JSON.stringify(expected)}`);
      }
    });
    assert.deepEqual(differences, []);
  });

  it("a member of a value typed `any` is left to the running notebook; a typed one is not", () => {
    const checker = new CellChecker(store);
    const declared = checker.check("const o: any = {};\nconst typed = { a: 1 };");
    assert.ok(declared.ok);
    checker.commit(declared.history);
    assert.equal(checker.complete("o.", 2).memberOfAny, true);
    assert.equal(checker.complete("o.x.y", 5).memberOfAny, true);
    assert.equal(checker.complete("typed.", 6).memberOfAny, false);
    assert.deepEqual(checker.complete("typed.", 6).matches, ["a"]);
    assert.equal(checker.complete("ty", 2).memberOfAny, false);
  });

  it("a name with two leading underscores is kept (tslab rejects its cell: it exports the escaped name, `___x`)", () => {
    const checker = new CellChecker(store);
    const first = checker.check("const __hidden = 1;");
    assert.ok(first.ok, JSON.stringify(first));
    checker.commit(first.history);
    const second = checker.check("const doubled: number = __hidden * 2;");
    assert.ok(second.ok, JSON.stringify(second));
  });
});
