/**
 * TypeScript's own transpiler for the cells sucrase cannot compile as tslab does —
 * namespaces, decorators (tslab's `experimentalDecorators`) and `accessor` fields — with
 * tslab's emit options (ES2022). Its own file in the site (kernel-typescript.js), loaded by
 * the worker the first time a cell needs it.
 * TypeScript's output does not keep the cell's lines, so its source map maps them back.
 */

import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import * as tslib from "tslib";
import ts from "typescript";
import { CellSyntaxError } from "./cell-error";
import type { Transpiled, TypeScriptTranspiler } from "./compile";

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  experimentalDecorators: true,
  esModuleInterop: true,
  // Keep every import: names a cell imports are for later cells too.
  verbatimModuleSyntax: true,
  noEmitHelpers: true,
  sourceMap: true,
  newLine: ts.NewLineKind.LineFeed,
};

export function transpile(source: string): Transpiled {
  const out = ts.transpileModule(source, { fileName: "cell.ts", compilerOptions: options, reportDiagnostics: true });
  const error = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) {
    const at = error.file && error.start !== undefined ? error.file.getLineAndCharacterOfPosition(error.start) : { line: 0, character: -1 };
    throw new CellSyntaxError(ts.flattenDiagnosticMessageText(error.messageText, "\n"), at.line + 1, at.character >= 0 ? at.character + 1 : null);
  }
  const js = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
  const map = new TraceMap(out.sourceMapText!);
  const lines = js.split("\n");
  return {
    js,
    viaTypeScript: true,
    cellLine(line: number): number {
      // The first mapped column of the line, else the nearest line above that has one.
      for (let l = line; l >= 1; l--) {
        const text = lines[l - 1] ?? "";
        const column = Math.max(0, text.search(/\S/));
        const original = originalPositionFor(map, { line: l, column });
        if (original.line !== null) return original.line;
      }
      return line;
    },
  };
}

export const typescript: TypeScriptTranspiler = { transpile, helpers: tslib as unknown as Record<string, unknown> };
