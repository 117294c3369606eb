/**
 * tslab's compiler options (tslab/dist/converter.js, createConverter), as TypeScript 5.9
 * spells them, so a cell means the same to the browser kernel's checker as to tslab.
 * Shared by the checker (in its worker) and the build, which collects the declaration
 * files a cell can reach with the same options (scripts/kernel-declarations.ts).
 */
import type * as TS from "typescript";

/** Where the declaration emit would write (nothing is written: the checker reads the text). */
const outDir = "/outDir";

/**
 * What tslab passes to TypeScript for a Node kernel on Node ≥ 18: ES2022 without the DOM,
 * not strict. Left out: tslab's `noImplicitUseStrict` (removed in TypeScript 5.5; it only
 * changes emitted JavaScript) and `disableTopLevelAwait` (an option of tslab's own
 * TypeScript fork; stock TypeScript accepts top-level await in a module with these
 * options, which is what tslab then allows). `types` and `paths` replace tslab's search of
 * node_modules: the declarations are files the build collected, not a folder to search.
 */
export function tslabCompilerOptions(ts: typeof TS, modules: Record<string, string>, types: string[]): TS.CompilerOptions {
  return {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    declaration: true,
    newLine: ts.NewLineKind.LineFeed,
    experimentalDecorators: true,
    resolveJsonModule: true,
    jsx: ts.JsxEmit.React,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    rootDir: "/",
    outDir,
    types,
    paths: Object.fromEntries(Object.entries(modules).map(([name, file]) => [name, [file]])),
  };
}
