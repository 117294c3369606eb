/**
 * One notebook cell, TypeScript in, a JavaScript function out — with tslab's cell
 * semantics, so the same notebook runs unchanged under tslab (Node) and in the browser:
 *
 *  - a cell's top-level declarations (var, let, const, function, class, enum, namespace,
 *    imports) are visible to every later cell; re-running a cell re-declares them;
 *  - inside the cell they are ordinary local bindings, so everything JavaScript says about
 *    them holds (a class used in its own static initializer, `var a` declared twice, a
 *    `for (var i …)` loop, hoisted functions, the temporal dead zone);
 *  - top-level `await` works; the value of a trailing expression statement is the cell's
 *    result.
 *
 * Under tslab a later cell sees a name through `exports.name`, a copy the cell writes after
 * each assignment; here through `__scope.name`, an accessor that reads the cell's local
 * binding. Assigning it from a later cell replaces the accessor by the new value and leaves
 * the earlier cell's binding alone, as tslab's copy does.
 *
 * The steps, each its own function below (and tested on its own):
 *   transpile         TypeScript → JavaScript, line for line (sucrase); TypeScript's own
 *                     transpiler, loaded on demand, for what sucrase cannot do as tslab does
 *                     (namespaces, decorators, `accessor` fields) — lines then map back
 *                     through its source map
 *   parseCell         acorn parses the JavaScript, periscopic says which scope owns each name
 *   declareImports    `import { a } from "m"` → `const a = __require("m")["a"];`
 *   rewriteReferences names of earlier cells → `__scope.name`; `export` keywords dropped;
 *                     each `await` resumes through a check that stops an interrupted cell
 *   returnLastValue   the trailing expression becomes `return { value: (…) }`
 *   wrap              `(async function (__scope, …) { "use strict"; <bind names>; <cell> })`
 *
 * Nothing is type-checked here: types are erased, not verified.
 */

import { parse } from "acorn";
import type * as estree from "estree";
import { walk } from "estree-walker";
import isReference from "is-reference";
import MagicString from "magic-string";
import { analyze, type Scope } from "periscopic";
import { transform } from "sucrase";
import { CellSyntaxError, isCellSyntaxError } from "./cell-error";

/** The names the compiled function takes, in order. */
export const SCOPE = "__scope";
const REQUIRE = "__require";
const IMPORT = "__import";
const DEFAULT = "__default";
const BIND = "__bind";
const RESUME = "__resume";
const TSLIB = "__tslib";
export const CELL_PARAMETERS = [SCOPE, REQUIRE, IMPORT, DEFAULT, BIND, RESUME, TSLIB] as const;

/** What a cell needs before it runs, and the function that runs it. */
export interface CompiledCell {
  /** JavaScript that evaluates to the cell's async function (parameters: CELL_PARAMETERS). */
  code: string;
  /** Modules the cell imports; `names` are the imported exports, or "*" for all of them. */
  imports: { source: string; names: string[] | "*" }[];
  /** The top-level names the cell declares. */
  declares: string[];
  /** The cell's own line for a line of `code` (stack frames name lines of `code`). */
  cellLine(line: number): number;
  /** Whether TypeScript's transpiler compiled it (else sucrase). */
  viaTypeScript: boolean;
}

export { CellSyntaxError, isCellSyntaxError } from "./cell-error";

export interface CompileOptions {
  /** Whether an earlier cell declared `name` (so a free reference to it means that). */
  isKnown(name: string): boolean;
  /** Names the cell in stack traces (`//# sourceURL=`). */
  sourceURL: string;
  /** TypeScript's transpiler, for the cells that need it (loaded on first use). */
  typescript?: () => Promise<TypeScriptTranspiler>;
}

type Node = estree.Node & { start: number; end: number };

export function lineAndColumn(source: string, pos: number): { line: number; column: number } {
  const before = source.slice(0, pos).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

// ---------------------------------------------------------------------------------------
// Step 1: transpile

/** A cell's JavaScript and, for each of its lines, the cell's line. */
export interface Transpiled {
  js: string;
  cellLine(line: number): number;
  viaTypeScript: boolean;
}

/** TypeScript's own transpiler (./typescript.ts), with the helpers its output calls. */
export interface TypeScriptTranspiler {
  transpile(source: string): Transpiled;
  /** tslib: `__decorate` and the other helpers TypeScript's output calls. */
  helpers: Record<string, unknown>;
}

/**
 * Constructs sucrase drops or passes through but tslab (TypeScript) compiles: namespaces
 * (`namespace N {`, `module N {`), decorators (`@name` before a class or member) and
 * `accessor` fields. A false alarm (an `@` in a string) only costs TypeScript's transpiler.
 */
export function needsTypeScript(source: string): boolean {
  return (
    /(^|[\s;{}])(namespace|module)\s+[A-Za-z_$][\w$.]*\s*\{/.test(source) ||
    /(^|[\s(,{])@[A-Za-z_$(]/.test(source) ||
    /(^|[\s;{}])accessor\s+[#A-Za-z_$[]/.test(source)
  );
}

/** TypeScript → JavaScript line for line with sucrase (types erased, nothing else lowered). */
export function transpileWithSucrase(source: string): Transpiled {
  try {
    const js = transform(source, {
      transforms: ["typescript"],
      // Imports a cell does not use itself are for later cells: keep them all.
      keepUnusedImports: true,
      disableESTransforms: true,
    }).code;
    return { js, cellLine: (line) => line, viaTypeScript: false };
  } catch (error) {
    const e = error as Error & { pos?: number };
    const message = e.message.replace(/\s*\(\d+:\d+\)$/, "");
    const at = typeof e.pos === "number" ? lineAndColumn(source, e.pos) : { line: 1, column: null };
    throw new CellSyntaxError(message, at.line, at.column);
  }
}

export async function transpile(source: string, options: Pick<CompileOptions, "typescript">): Promise<Transpiled> {
  if (!needsTypeScript(source)) return transpileWithSucrase(source);
  if (!options.typescript) {
    throw new CellSyntaxError(
      "this cell uses a namespace, a decorator or an `accessor` field, which need TypeScript's transpiler, and none is available here",
      1,
      null,
    );
  }
  return (await options.typescript()).transpile(source);
}

// ---------------------------------------------------------------------------------------
// Step 2: parseCell

/** A cell's JavaScript, parsed, with its scopes. */
export interface ParsedCell {
  js: string;
  program: estree.Program;
  scopes: WeakMap<estree.Node, Scope>;
  /** The cell's top level: its names are the notebook's. */
  root: Scope;
}

export function parseCell(js: string): ParsedCell {
  let program: estree.Program;
  try {
    // Module code: strict mode (as TypeScript's module output) and top-level await.
    program = parse(js, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true }) as unknown as estree.Program;
  } catch (error) {
    const e = error as Error & { loc?: { line: number; column: number } };
    // Columns of the type-stripped text differ from the cell's; the line is the cell's.
    throw new CellSyntaxError(e.message.replace(/\s*\(\d+:\d+\)$/, ""), e.loc?.line ?? 1, null);
  }
  const { map: scopes, scope: root } = analyze(program);
  // Imports are top-level names too (periscopic leaves out `import * as ns`).
  for (const statement of program.body) {
    if (statement.type !== "ImportDeclaration") continue;
    for (const s of statement.specifiers) root.declarations.set(s.local.name, s);
  }
  return { js, program, scopes, root };
}

/** The cell's top-level names, in order of declaration. */
export function topLevelNames(cell: ParsedCell): string[] {
  return [...cell.root.declarations.keys()];
}

const fail = (cell: ParsedCell, node: Node, message: string): never => {
  throw new CellSyntaxError(message, lineAndColumn(cell.js, node.start).line, null);
};

// ---------------------------------------------------------------------------------------
// Step 3: declareImports

/**
 * Each import statement becomes local constants read from the loaded module, on as many
 * lines as the statement had: `import { a as b } from "m"` → `const b = __require("m")["a"];`.
 * Returns what the cell imports, so the runtime loads it before the cell runs.
 */
export function declareImports(cell: ParsedCell, out: MagicString): CompiledCell["imports"] {
  const imports: CompiledCell["imports"] = [];
  for (const statement of cell.program.body as (estree.Program["body"][number] & Node)[]) {
    if (statement.type !== "ImportDeclaration") continue;
    const from = JSON.stringify(statement.source.value);
    const module = `${REQUIRE}(${from})`;
    const parts: string[] = [];
    let names: string[] | "*" = [];
    for (const s of statement.specifiers) {
      if (s.type === "ImportNamespaceSpecifier") {
        parts.push(`const ${s.local.name} = ${module};`);
        names = "*";
      } else if (s.type === "ImportDefaultSpecifier") {
        parts.push(`const ${s.local.name} = ${DEFAULT}(${module});`);
        names = "*";
      } else {
        const imported = s.imported.type === "Identifier" ? s.imported.name : String(s.imported.value);
        parts.push(`const ${s.local.name} = ${module}[${JSON.stringify(imported)}];`);
        if (names !== "*") names.push(imported);
      }
    }
    if (parts.length === 0) parts.push(`${module};`);
    imports.push({ source: String(statement.source.value), names });
    // Same number of lines as the import it replaces, so later lines keep their numbers.
    const lines = cell.js.slice(statement.start, statement.end).split("\n").length - 1;
    out.overwrite(statement.start, statement.end, `;${parts.join(" ")}${"\n".repeat(lines)}`);
  }
  return imports;
}

// ---------------------------------------------------------------------------------------
// Step 4: rewriteReferences

/**
 * Free references to names of earlier cells become `__scope.name`; names this cell declares
 * stay local. `export` in front of a declaration is dropped (every top-level name is shared
 * anyway); the forms of `export` that cannot mean anything in a cell are errors. Every
 * `await` resumes through `__resume`, which throws once the cell has been interrupted.
 * Returns the tslib helpers (`__decorate` …) that TypeScript's output calls.
 */
export function rewriteReferences(
  cell: ParsedCell,
  out: MagicString,
  isKnown: (name: string) => boolean,
  helperNames: ReadonlySet<string> = new Set(),
): string[] {
  const { root, scopes } = cell;
  const helpers = new Set<string>();
  /** Names of enclosing class expressions (`class B { … B … }` binds B inside only). */
  const classNames: string[] = [];
  let scope: Scope = root;
  walk(cell.program, {
    enter(node, parent) {
      const n = node as Node;
      const own = scopes.get(n);
      if (own) scope = own;
      switch (n.type) {
        case "ImportDeclaration":
          this.skip();
          return;
        case "ExportNamedDeclaration": {
          const e = n as estree.ExportNamedDeclaration & Node;
          if (e.source) return fail(cell, n, "`export … from` cannot work in a notebook cell: import the names instead");
          if (e.declaration) {
            out.overwrite(e.start, (e.declaration as Node).start, "", { contentOnly: true });
          } else {
            // `export { a, b }`: the names are already visible to later cells.
            out.overwrite(e.start, e.end, ";", { contentOnly: true });
            this.skip();
          }
          return;
        }
        case "ExportDefaultDeclaration":
          return fail(cell, n, "`export default` cannot work in a notebook cell: give the value a name (`const value = …`), later cells see it");
        case "ExportAllDeclaration":
          return fail(cell, n, "`export * from` cannot work in a notebook cell: import the module instead");
        case "MetaProperty":
          return fail(cell, n, "import.meta is not available in a notebook cell");
        case "ImportExpression":
          out.overwrite(n.start, ((n as estree.ImportExpression).source as Node).start, `${IMPORT}(`, { contentOnly: true });
          return;
        case "AwaitExpression":
          out.appendRight(n.start, `${RESUME}(`);
          out.prependLeft(n.end, ")");
          return;
        case "ClassExpression": {
          const id = (n as estree.ClassExpression).id;
          if (id) classNames.push(id.name);
          return;
        }
        case "Identifier": {
          const id = n as estree.Identifier & Node;
          if (!parent || !isReference(id, parent as estree.Node)) return;
          const owner = scope.find_owner(id.name);
          if (owner !== null) return;
          if (classNames.includes(id.name)) return;
          if (helperNames.has(id.name)) {
            helpers.add(id.name);
            return;
          }
          if (!isKnown(id.name)) return;
          const p = parent as estree.Property;
          const shorthand = p.type === "Property" && p.shorthand && p.value === node;
          out.overwrite(id.start, id.end, shorthand ? `${id.name}: ${SCOPE}.${id.name}` : `${SCOPE}.${id.name}`, { contentOnly: true });
          return;
        }
      }
    },
    leave(node) {
      const own = scopes.get(node);
      if (own?.parent) scope = own.parent;
      if (node.type === "ClassExpression" && node.id) classNames.pop();
    },
  });
  return [...helpers];
}

// ---------------------------------------------------------------------------------------
// Step 5: returnLastValue

/**
 * A trailing expression statement — a string literal alone included — becomes the cell's
 * result: `return { value: (…) };` (boxed, so a promise is shown as a promise, as tslab does,
 * not awaited). Returns whether the cell has one.
 */
export function returnLastValue(cell: ParsedCell, out: MagicString): boolean {
  const last = cell.program.body[cell.program.body.length - 1] as (estree.Statement & Node) | undefined;
  if (last?.type !== "ExpressionStatement") return false;
  // The whole statement (it may be parenthesized), without its semicolon.
  const end = cell.js[last.end - 1] === ";" ? last.end - 1 : last.end;
  out.prependRight(last.start, "return { value: (");
  out.appendLeft(end, ") }");
  return true;
}

// ---------------------------------------------------------------------------------------
// Step 6: wrap

/**
 * The cell as the body of an async function. Its first line binds each top-level name to
 * `__scope` (an accessor reading the local binding: hoisted like the declarations, so a
 * later cell sees whatever ran before an error or an interrupt) and takes the tslib helpers
 * it calls. Nothing adds a line: line L of the function's text is line L of `cell.js`.
 */
export function wrap(out: MagicString, declares: string[], helpers: string[], sourceURL: string): string {
  const getters = declares.map((name) => `${JSON.stringify(name)}: () => ${name}`).join(", ");
  const bind = declares.length ? `${BIND}(${SCOPE}, { ${getters} });` : "";
  const take = helpers.map((h) => `const ${h} = ${TSLIB}.${h};`).join(" ");
  out.prepend(`(async function (${CELL_PARAMETERS.join(", ")}) { "use strict"; ${take}${bind} `);
  out.append(`\n})\n//# sourceURL=${sourceURL}`);
  return out.toString();
}

// ---------------------------------------------------------------------------------------

/** All the steps, in order. */
export async function compileCell(source: string, options: CompileOptions): Promise<CompiledCell> {
  const transpiled = await transpile(source, options);
  let cell: ParsedCell;
  try {
    cell = parseCell(transpiled.js);
  } catch (error) {
    if (isCellSyntaxError(error)) throw new CellSyntaxError(error.message, transpiled.cellLine(error.line), transpiled.viaTypeScript ? null : error.column);
    throw error;
  }
  const out = new MagicString(transpiled.js);
  const helperNames = transpiled.viaTypeScript && options.typescript ? new Set(Object.keys((await options.typescript()).helpers)) : new Set<string>();
  const declares = topLevelNames(cell);
  try {
    const imports = declareImports(cell, out);
    const helpers = rewriteReferences(cell, out, options.isKnown, helperNames);
    returnLastValue(cell, out);
    const code = wrap(out, declares, helpers, options.sourceURL);
    return { code, imports, declares, cellLine: transpiled.cellLine, viaTypeScript: transpiled.viaTypeScript };
  } catch (error) {
    if (isCellSyntaxError(error)) throw new CellSyntaxError(error.message, transpiled.cellLine(error.line), error.column);
    throw error;
  }
}
