/**
 * The declaration files the browser kernel's checker needs, collected once at build time:
 * TypeScript itself resolves every module a cell may import (from the site's module map),
 * the globals tslab gives every cell (`@types/node`) and the lib files, with tslab's
 * compiler options; whatever files that program reads go into one JSON asset
 * (src/browser/kernel/checker/bundle.ts) at virtual paths relative to the project root.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import type { DeclarationBundle } from "../src/browser/kernel/checker/bundle";
import { tslabCompilerOptions } from "../src/browser/kernel/checker/options";
import { paths } from "./paths";

export interface CheckedModules {
  /** Module specifier → the `.d.ts` file that declares it (a path on this machine). */
  modules: Record<string, string>;
  /** Type packages (under node_modules/@types) whose globals every cell sees. */
  types: string[];
}

const libDir = path.dirname(require.resolve("typescript/lib/lib.d.ts"));

/** Where a file of this machine lives in the checker's virtual file system. */
function virtualPath(file: string): string {
  if (path.dirname(file) === libDir) return `/${path.basename(file)}`;
  const relative = path.relative(paths.root, file);
  if (relative.startsWith("..") || path.isAbsolute(relative)) {
    throw new Error(`kernel declarations: ${file} is outside the project, so the checker cannot place it`);
  }
  return `/${relative.split(path.sep).join("/")}`;
}

/** The fields of a package.json that TypeScript's Node10 resolution reads. */
function trimPackageJson(text: string): string {
  const pkg = JSON.parse(text) as Record<string, unknown>;
  const keep = ["name", "version", "types", "typings", "typesVersions", "main"];
  return JSON.stringify(Object.fromEntries(keep.filter((k) => k in pkg).map((k) => [k, pkg[k]])));
}

export function collectDeclarations(config: CheckedModules): DeclarationBundle {
  for (const [name, file] of Object.entries(config.modules)) {
    if (!fs.existsSync(file))
      throw new Error(`kernel declarations: the declarations of "${name}" (${file}) do not exist; build the library first (npm run build)`);
  }
  // A cell that imports every module, checked as tslab would, from the notebooks folder.
  const probe = path.join(paths.notebooks, "__kernel_declarations__.ts");
  const imports = Object.keys(config.modules).map((name, i) => `import * as m${i} from ${JSON.stringify(name)};`);
  const probeText = `${imports.join("\n")}\nexport {};\n`;
  const options: ts.CompilerOptions = {
    ...tslabCompilerOptions(ts, config.modules, config.types),
    typeRoots: [path.join(paths.root, "node_modules", "@types")],
    rootDir: paths.root,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const packageJsons = new Set<string>();
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => {
    if (file === probe) return probeText;
    const text = readFile(file);
    if (text !== undefined && path.basename(file) === "package.json") packageJsons.add(file);
    return text;
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === probe || fileExists(file);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, ...rest) => (file === probe ? ts.createSourceFile(file, probeText, language) : getSourceFile(file, language, ...rest));

  const program = ts.createProgram([probe], options, host);
  const problems = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (problems.length) {
    throw new Error(`kernel declarations: the modules do not type-check together:\n${ts.formatDiagnostics(problems, host)}`);
  }
  const files: Record<string, string> = {};
  for (const sf of program.getSourceFiles()) if (sf.fileName !== probe) files[virtualPath(sf.fileName)] = sf.text;
  for (const file of packageJsons) files[virtualPath(file)] = trimPackageJson(fs.readFileSync(file, "utf8"));
  return {
    typescript: ts.version,
    modules: Object.fromEntries(Object.entries(config.modules).map(([name, file]) => [name, virtualPath(file)])),
    types: config.types,
    files,
  };
}
