/**
 * One notebook cell, TypeScript in, a JavaScript function out — with tslab's cell
 * semantics, so the same notebook runs unchanged under tslab (Node) and in the browser:
 *
 *  - a cell's top-level declarations (const, let, var, function, class, imports) are
 *    visible to every later cell; re-running a cell re-declares them;
 *  - top-level `await` works;
 *  - the value of a trailing expression statement is the cell's result.
 *
 * How: sucrase strips the types (keeping line numbers, so errors point at the cell's own
 * lines); acorn parses the JavaScript; periscopic says which scope owns each name. Then
 * every reference to a top-level name — this cell's or an earlier one's — becomes a
 * property of one shared object, `__scope`, and the cell becomes the body of
 *
 *   async function (__scope, __require, __import, __default) { … }
 *
 * Functions defined in one cell therefore see later re-definitions of the names they use,
 * as under tslab. Unlike tslab, nothing is type-checked: types are erased, not verified.
 */
import { transform } from "sucrase";
import { parse, type Node as AcornNode } from "acorn";
import { analyze, extract_identifiers, type Scope } from "periscopic";
import { walk } from "estree-walker";
import isReference from "is-reference";
import MagicString from "magic-string";
import type * as estree from "estree";

export const SCOPE = "__scope";
const REQUIRE = "__require";
const IMPORT = "__import";
const DEFAULT = "__default";

/** What a cell needs before it runs, and the function that runs it. */
export interface CompiledCell {
  /** JavaScript that evaluates to the cell's async function. */
  code: string;
  /** Modules the cell imports; `names` are the imported exports, or "*" for all of them. */
  imports: { source: string; names: string[] | "*" }[];
  /** The top-level names the cell declares. */
  declares: string[];
}

/** A cell that cannot be compiled: the message, and where (1-based line and column). */
export class CellSyntaxError extends SyntaxError {
  constructor(message: string, readonly line: number, readonly column: number | null) {
    super(message);
    this.name = "SyntaxError";
  }
}

export interface CompileOptions {
  /** Whether an earlier cell declared `name` (so a free reference to it means that). */
  isKnown(name: string): boolean;
  /** Names the cell in stack traces (`//# sourceURL=`). */
  sourceURL: string;
}

type Node = estree.Node & { start: number; end: number };

function lineAndColumn(source: string, pos: number): { line: number; column: number } {
  const before = source.slice(0, pos).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** TypeScript → JavaScript, line for line. */
function stripTypes(source: string): string {
  try {
    return transform(source, {
      transforms: ["typescript"],
      // Imports a cell does not use itself are for later cells: keep them all.
      keepUnusedImports: true,
      disableESTransforms: true,
    }).code;
  } catch (error) {
    const e = error as Error & { pos?: number };
    const message = e.message.replace(/\s*\(\d+:\d+\)$/, "");
    const at = typeof e.pos === "number" ? lineAndColumn(source, e.pos) : { line: 1, column: null };
    throw new CellSyntaxError(message, at.line, at.column);
  }
}

function parseModule(js: string): estree.Program {
  try {
    // Module code: strict mode (as tslab's CommonJS output) and top-level await.
    return parse(js, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true }) as unknown as estree.Program;
  } catch (error) {
    const e = error as Error & { loc?: { line: number; column: number } };
    // Columns of the type-stripped text differ from the cell's; the line is the cell's.
    throw new CellSyntaxError(e.message.replace(/\s*\(\d+:\d+\)$/, ""), e.loc?.line ?? 1, null);
  }
}

export function compileCell(source: string, options: CompileOptions): CompiledCell {
  const js = stripTypes(source);
  const program = parseModule(js);
  const { map: scopes, scope: root } = analyze(program);
  const out = new MagicString(js);
  const fail = (node: Node, message: string): never => {
    throw new CellSyntaxError(message, lineAndColumn(js, node.start).line, null);
  };

  // Imports are top-level names too (periscopic leaves out `import * as ns`).
  const imports: CompiledCell["imports"] = [];
  for (const statement of program.body) {
    if (statement.type !== "ImportDeclaration") continue;
    for (const s of statement.specifiers) root.declarations.set(s.local.name, s);
  }
  const topLevel = new Set(root.declarations.keys());
  const functions = program.body.flatMap((s) => (s.type === "FunctionDeclaration" && s.id ? [s.id.name] : []));

  /** Does this reference, seen from `scope`, mean a notebook-level name? */
  const isNotebookName = (name: string, scope: Scope): boolean => {
    const owner = scope.find_owner(name);
    return owner === root || (owner === null && options.isKnown(name));
  };
  const scoped = (name: string) => `${SCOPE}.${name}`;
  /** Identifiers already rewritten (a binding is also visited as a pattern's child). */
  const done = new Set<Node>();
  const rename = (id: estree.Identifier & Node, shorthand: boolean): void => {
    done.add(id);
    out.overwrite(id.start, id.end, shorthand ? `${id.name}: ${scoped(id.name)}` : scoped(id.name), { contentOnly: true });
  };

  /** The binding names of a top-level declaration become `__scope` properties (patterns too). */
  const rewriteBindings = (pattern: estree.Pattern): void => {
    walk(pattern, {
      enter(node, parent) {
        const n = node as Node;
        if (n.type === "AssignmentPattern") {
          // Only the target is a binding; the default value is an expression.
          rewriteBindings((n as estree.AssignmentPattern).left);
          this.skip();
        } else if (n.type === "Property") {
          const p = n as estree.Property;
          const value = p.value as estree.Pattern;
          const target = (value.type === "AssignmentPattern" ? value.left : value) as estree.Identifier & Node;
          // { a } → { a: __scope.a }; a computed key is an expression, left to the main pass.
          if (p.shorthand && target.type === "Identifier") rename(target, true);
          else rewriteBindings(value);
          this.skip();
        } else if (n.type === "MemberExpression") {
          this.skip();
        } else if (n.type === "Identifier" && parent?.type !== "Property") {
          rename(n as estree.Identifier & Node, false);
        }
      },
    });
  };

  /** A top-level `const a = 1, { b } = c;` becomes `;(__scope.a = 1), ({ b: __scope.b } = c);`. */
  const rewriteDeclaration = (decl: estree.VariableDeclaration & Node, parent: Node | null): void => {
    const inLoopHead =
      (parent?.type === "ForInStatement" || parent?.type === "ForOfStatement") && (parent as estree.ForInStatement).left === decl;
    const asStatement = parent?.type === "Program" || parent?.type === "BlockStatement" || parent?.type === "SwitchCase";
    const first = decl.declarations[0] as estree.VariableDeclarator & Node;
    // The leading ";" keeps a previous line without a semicolon from swallowing the "(".
    out.overwrite(decl.start, first.start, asStatement ? ";" : "", { contentOnly: true });
    for (const d of decl.declarations as (estree.VariableDeclarator & Node)[]) {
      rewriteBindings(d.id);
      if (inLoopHead) continue;
      out.prependRight(d.start, "(");
      out.appendLeft(d.end, d.init ? ")" : " = undefined)");
    }
  };

  let scope: Scope = root;
  walk(program, {
    enter(node, parent) {
      const n = node as Node;
      const own = scopes.get(n);
      if (own) scope = own;
      switch (n.type) {
        case "ImportDeclaration":
          rewriteImport(n as estree.ImportDeclaration & Node);
          this.skip();
          return;
        case "ExportNamedDeclaration":
        case "ExportDefaultDeclaration":
        case "ExportAllDeclaration":
          return fail(n, "export is not supported in a notebook cell: every top-level declaration is already visible to later cells");
        case "MetaProperty":
          return fail(n, "import.meta is not available in a notebook cell");
        case "ImportExpression":
          out.overwrite(n.start, ((n as estree.ImportExpression).source as Node).start, `${IMPORT}(`, { contentOnly: true });
          return;
        case "VariableDeclaration": {
          const decl = n as estree.VariableDeclaration & Node;
          const names = decl.declarations.flatMap((d) => extract_identifiers(d.id).map((i) => i.name));
          if (names.length && names.every((name) => root.declarations.get(name) === decl)) rewriteDeclaration(decl, parent as Node | null);
          return;
        }
        case "FunctionDeclaration": {
          // Kept as a hoisted local; the prologue copies it to __scope.
          const fn = n as estree.FunctionDeclaration & Node;
          if (parent?.type === "Program" && fn.id) done.add(fn.id as Node);
          return;
        }
        case "ClassDeclaration": {
          const cls = n as estree.ClassDeclaration & Node;
          if (parent?.type === "Program" && cls.id) {
            done.add(cls.id as Node);
            out.prependLeft(cls.start, `;${scoped(cls.id.name)} = `);
            out.appendRight(cls.end, ";");
          }
          return;
        }
        case "Identifier": {
          const id = n as estree.Identifier & Node;
          if (done.has(id) || !parent || !isReference(id, parent as estree.Node)) return;
          if (!isNotebookName(id.name, scope)) return;
          const p = parent as estree.Property;
          rename(id, p.type === "Property" && p.shorthand && p.value === node);
          return;
        }
      }
    },
    leave(node) {
      const own = scopes.get(node);
      if (own && own.parent) scope = own.parent;
    },
  });

  function rewriteImport(statement: estree.ImportDeclaration & Node): void {
    const from = JSON.stringify(statement.source.value);
    const module = `${REQUIRE}(${from})`;
    const parts: string[] = [];
    let names: string[] | "*" = [];
    for (const s of statement.specifiers) {
      if (s.type === "ImportNamespaceSpecifier") {
        parts.push(`${scoped(s.local.name)} = ${module};`);
        names = "*";
      } else if (s.type === "ImportDefaultSpecifier") {
        parts.push(`${scoped(s.local.name)} = ${DEFAULT}(${module});`);
        names = "*";
      } else {
        const imported = s.imported.type === "Identifier" ? s.imported.name : String(s.imported.value);
        parts.push(`${scoped(s.local.name)} = ${module}[${JSON.stringify(imported)}];`);
        if (names !== "*") names.push(imported);
      }
    }
    if (parts.length === 0) parts.push(`${module};`);
    imports.push({ source: String(statement.source.value), names });
    // Same number of lines as the import it replaces, so later lines keep their numbers.
    const lines = js.slice(statement.start, statement.end).split("\n").length - 1;
    out.overwrite(statement.start, statement.end, ";" + parts.join(" ") + "\n".repeat(lines));
  }

  // The trailing expression statement's value is the cell's result.
  const last = program.body[program.body.length - 1] as (estree.Statement & Node) | undefined;
  if (last?.type === "ExpressionStatement" && !("directive" in last)) {
    // The whole statement (it may be parenthesized), without its semicolon.
    const end = js[last.end - 1] === ";" ? last.end - 1 : last.end;
    out.prependLeft(last.start, "return (");
    out.appendRight(end, ")");
  }

  const prologue = functions.map((name) => `${scoped(name)} = ${name};`).join(" ");
  out.prepend(`(async function (${SCOPE}, ${REQUIRE}, ${IMPORT}, ${DEFAULT}) { "use strict"; ${prologue}`);
  out.append(`\n})\n//# sourceURL=${options.sourceURL}`);
  return { code: out.toString(), imports, declares: [...topLevel] };
}
