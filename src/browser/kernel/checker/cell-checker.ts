/**
 * TypeScript's checker for notebook cells, done as tslab does it (tslab/dist/converter.js):
 *
 *  - the earlier cells' declarations are one virtual declaration file, `__prev__.d.ts`;
 *    the cell is another file, `__tslab__.ts`, whose parent node is set to that
 *    declaration file, so a name the cell does not declare resolves among the earlier
 *    cells' names, then among the globals (the parent link is tslab's own device);
 *  - both files start with `export {};` (modules: a cell's names shadow earlier ones,
 *    which is how a re-run re-declares); every name the cell declares is exported for the
 *    declaration emit, and the emitted declarations, followed by the earlier declarations
 *    the cell did not shadow, become the history once the cell has run;
 *  - a diagnostic anywhere in the cell stops it, printed as `L:C - message`, one line per
 *    message of its chain; completion and quick info ask TypeScript's language service.
 *
 * No worker, no DOM: the same class runs under mocha on Node (test/kernel-checker.test.ts).
 */
import type * as TS from "typescript";
import type { DeclarationBundle } from "./bundle";
import { tslabCompilerOptions } from "./options";

/** tslab's prefix: it makes a file a module. */
const PREFIX = "export {};\n";
const PREFIX_LINES = 1;

/** A diagnostic as tslab prints it: 1-based line and column in the cell. */
export interface CellDiagnostic {
  /** Another file than the cell (the earlier cells' declarations), as tslab names it. */
  file?: string;
  line: number;
  column: number;
  message: string;
  code: number;
}

/** tslab's text on stderr for a diagnostic (executor.js printDiagnostics). */
export const formatDiagnostic = (d: CellDiagnostic) => `${d.file ? `${d.file} ` : ""}${d.line}:${d.column} - ${d.message}`;

export type CheckResult =
  | { ok: false; diagnostics: CellDiagnostic[] }
  /** `history` is what the earlier cells' declarations become once this cell has run. */
  | { ok: true; history: string };

export interface Completion {
  start: number;
  end: number;
  matches: string[];
  /**
   * The completion is of a member of a value typed `any`: TypeScript knows nothing of it,
   * the running notebook may (its runtime names are to be merged in).
   */
  memberOfAny: boolean;
}

/**
 * Parts of TypeScript that tslab uses and its public API leaves out; TypeScript 5.9's
 * module carries them all the same.
 */
interface Internals {
  findPrecedingToken(position: number, file: TS.SourceFile): TS.Node | undefined;
  findNextToken(previous: TS.Node, parent: TS.Node, file: TS.SourceFile): TS.Node | undefined;
  bindSourceFile(file: TS.SourceFile, options: TS.CompilerOptions): void;
}
const internals = (ts: typeof TS) => ts as unknown as Internals;

type Locals = { locals?: Map<string, TS.Symbol> };
/** The symbol table a bound source file keeps of its top-level names (TypeScript internal, as tslab reads it). */
const localsOf = (file: TS.SourceFile): Map<string, TS.Symbol> => (file as TS.SourceFile & Locals).locals ?? new Map();

/** Checkers made so far: each has notebook files of its own, in a registry they share. */
let checkers = 0;

export class CellChecker {
  private history = "";
  /** The cell being checked (tslab's `__tslab__.ts`) and the earlier cells' declarations (`__prev__.d.ts`). */
  private readonly paths: { cell: string; history: string };
  private readonly service: TS.LanguageService;
  private readonly files: NotebookFiles;
  private readonly ts: typeof TS;
  private readonly options: TS.CompilerOptions;

  /** A checker with a history of its own over the store's declarations (a store serves many). */
  constructor(readonly store: DeclarationStore) {
    this.ts = store.ts;
    this.options = store.options;
    const folder = `/cells/${++checkers}`;
    this.paths = { cell: `${folder}/__tslab__.ts`, history: `${folder}/__prev__.d.ts` };
    this.files = new NotebookFiles(store);
    this.files.set(this.paths.history, PREFIX);
    this.files.set(this.paths.cell, PREFIX);
    this.service = this.ts.createLanguageService(this.files.host([this.paths.history, this.paths.cell]), store.registry);
  }

  /** The declarations of the cells run so far (tslab's `prevDecl`). */
  get declarations(): string {
    return this.history;
  }

  /** After a cell ran: its declarations join the history (tslab keeps those of a cell that ran to the end). */
  commit(history: string): void {
    this.history = history;
  }

  /** Forgets every earlier cell (a restarted kernel). */
  reset(): void {
    this.history = "";
  }

  /** Checks a cell against the history; if it may run, says what the history becomes. */
  check(code: string): CheckResult {
    const ts = this.ts;
    // Export every top-level name so the declaration emit keeps them all.
    const names = this.topLevelNames(code);
    const program = this.load(names.length ? `${code}\nexport {${names.join(", ")}}` : code);
    const cell = program.getSourceFile(this.paths.cell)!;
    // tslab's getPreEmitDiagnostics, in two steps: the declaration diagnostics come from the
    // declaration emit itself when the cell is otherwise clean, so the types are written once.
    const found = [
      ...program.getOptionsDiagnostics(),
      ...program.getSyntacticDiagnostics(cell),
      ...program.getGlobalDiagnostics(),
      ...program.getSemanticDiagnostics(cell),
    ].filter((d) => d.file); // tslab skips a diagnostic of no file
    if (found.length) return this.failed([...found, ...program.getDeclarationDiagnostics(cell)]);
    let emitted = "";
    const emit = program.emit(
      cell,
      (file, text) => {
        if (file.endsWith(".d.ts")) emitted = text;
      },
      undefined,
      true,
      { afterDeclarations: [() => (file) => dropExportDeclarations(ts, file as TS.SourceFile)] },
    );
    if (emit.diagnostics.length) return this.failed(emit.diagnostics);
    const earlier = program.getSourceFile(this.paths.history)!;
    return { ok: true, history: emitted + remainingDeclarations(ts, program.getTypeChecker(), cell, earlier) };
  }

  private failed(diagnostics: readonly TS.Diagnostic[]): CheckResult {
    return { ok: false, diagnostics: this.cellDiagnostics(this.ts.sortAndDeduplicateDiagnostics(diagnostics)) };
  }

  /** Completion at `cursor` in the cell, ranked as tslab ranks it. */
  complete(code: string, cursor: number): Completion {
    const program = this.load(code);
    const cell = program.getSourceFile(this.paths.cell)!;
    const position = cursor + PREFIX.length;
    const entries = this.service.getCompletionsAtPosition(this.paths.cell, position, {})?.entries ?? [];
    const memberOfAny = this.isMemberOfAny(program, cell, position);
    const id = this.identifierAt(cell, position);
    if (id) {
      // A name the cursor is in: tslab's ranking — starts with it, then case-insensitively, then contains it.
      const word = id.text;
      const lower = word.toLowerCase();
      const rank = (name: string) => (name.startsWith(word) ? "0" : name.toLowerCase().startsWith(lower) ? "1" : name.toLowerCase().includes(lower) ? "2" : "");
      const ranked = entries
        .map((e, index) => ({ name: e.name, rank: rank(e.name), key: rank(e.name) + e.sortText, index }))
        .filter((e) => e.rank !== "")
        .sort((a, b) => a.key.localeCompare(b.key) || a.index - b.index);
      return { start: id.getStart(cell) - PREFIX.length, end: id.end - PREFIX.length, matches: ranked.map((e) => e.name), memberOfAny };
    }
    const sorted = [...entries].sort((a, b) => a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name));
    return { start: cursor, end: cursor, matches: sorted.map((e) => e.name), memberOfAny };
  }

  /** The identifier the cursor is in, or just after (tslab's test, on the tokens around the cursor). */
  private identifierAt(cell: TS.SourceFile, position: number): TS.Identifier | undefined {
    const ts = this.ts;
    const previous = internals(ts).findPrecedingToken(position, cell);
    // findPrecedingToken may return a token that ends after the position (the cursor inside it).
    if (previous && ts.isIdentifier(previous) && previous.end >= position) return previous;
    const next = previous && internals(ts).findNextToken(previous, cell, cell);
    if (next && ts.isIdentifier(next) && next.getStart(cell) <= position && position <= next.end) return next;
    return undefined;
  }

  /** Quick info at `cursor`, as tslab prints it for Shift-Tab (inspect.js printQuickInfo); null if none. */
  inspect(code: string, cursor: number): string | null {
    this.load(code);
    const info = this.service.getQuickInfoAtPosition(this.paths.cell, cursor + PREFIX.length);
    return info ? printQuickInfo(info) : null;
  }

  /**
   * The names a cell declares at its top level (vars in loops and blocks too): the binder's
   * table of the cell parsed on its own, as tslab reads it from the program's copy.
   */
  private topLevelNames(code: string): string[] {
    const ts = this.ts;
    const file = ts.createSourceFile(this.paths.cell, PREFIX + code, ts.ScriptTarget.ES2022, true);
    internals(ts).bindSourceFile(file, this.options);
    return [...localsOf(file).keys()].map((name) => ts.unescapeLeadingUnderscores(name as TS.__String));
  }

  /** The program over the history and this cell's text, the cell's parent set to the history. */
  private load(code: string): TS.Program {
    this.files.set(this.paths.history, PREFIX + this.history);
    this.files.set(this.paths.cell, PREFIX + code);
    const program = this.service.getProgram()!;
    const cell = program.getSourceFile(this.paths.cell)!;
    (cell as { parent?: TS.Node }).parent = program.getSourceFile(this.paths.history)!;
    return program;
  }

  /** Whether the cursor completes a member (`a.b.` or `a.b.pa|`) of a value typed `any`. */
  private isMemberOfAny(program: TS.Program, cell: TS.SourceFile, position: number): boolean {
    const ts = this.ts;
    let token = internals(ts).findPrecedingToken(position, cell);
    if (token && ts.isIdentifier(token)) token = internals(ts).findPrecedingToken(token.getStart(cell), cell);
    const access = token?.parent;
    if (!token || token.kind !== ts.SyntaxKind.DotToken || !access || !(ts.isPropertyAccessExpression(access) || ts.isQualifiedName(access))) return false;
    const left = ts.isPropertyAccessExpression(access) ? access.expression : access.left;
    return (program.getTypeChecker().getTypeAtLocation(left).flags & ts.TypeFlags.Any) !== 0;
  }

  /**
   * tslab's diagnostics: positions in the cell's own lines (a diagnostic of another file
   * names it, as tslab does), one entry per message of a chain.
   */
  private cellDiagnostics(input: readonly TS.Diagnostic[]): CellDiagnostic[] {
    const ts = this.ts;
    const out: CellDiagnostic[] = [];
    for (const d of input) {
      if (!d.file || d.start === undefined) continue;
      const inCell = d.file.fileName === this.paths.cell;
      const at = ts.getLineAndCharacterOfPosition(d.file, d.start);
      const line = at.line + 1 - (inCell ? PREFIX_LINES : 0);
      const column = at.character + 1;
      const file = inCell ? undefined : d.file.fileName === this.paths.history ? "__prev__.d.ts" : d.file.fileName.replace(/^\//, "");
      const walk = (m: string | TS.DiagnosticMessageChain, code: number): void => {
        if (typeof m === "string") {
          out.push({ file, line, column, message: m, code });
          return;
        }
        out.push({ file, line, column, message: m.messageText, code: m.code });
        for (const next of m.next ?? []) walk(next, next.code);
      };
      walk(d.messageText, d.code);
    }
    return out;
  }
}

function dropExportDeclarations(ts: typeof TS, file: TS.SourceFile): TS.SourceFile {
  return ts.factory.updateSourceFile(
    file,
    file.statements.filter((s) => !ts.isExportDeclaration(s)),
  );
}

/**
 * The earlier declarations that the cell did not shadow, as declaration text — tslab's
 * `remainingDecls`: a name the cell declares as a value drops the earlier value, as a
 * type the earlier type; an earlier class or enum whose type is shadowed but whose value
 * is not stays as `let Name: any;`. Unlike tslab, the earlier file is not modified: the
 * kept statements are rebuilt and printed.
 */
function remainingDeclarations(ts: typeof TS, checker: TS.TypeChecker, cell: TS.SourceFile, earlier: TS.SourceFile): string {
  const cellNames = localsOf(cell);
  const keepNames = new Map<TS.Statement, Set<string>>();
  const keep = (statement: TS.Statement, name: string) => {
    const names = keepNames.get(statement) ?? new Set<string>();
    names.add(name);
    keepNames.set(statement, names);
  };
  const valueNames = new Set<string>();
  const anyVars = new Set<string>();
  /** What of an earlier name survives: its value unless the cell declares a value of that name, likewise its type. */
  const survives = (symbol: TS.Symbol | undefined) => {
    const result = { value: true, type: true };
    if (!symbol) return result;
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    if (symbol.flags & ts.SymbolFlags.Value) result.value = false;
    if (symbol.flags & ts.SymbolFlags.Type) result.type = false;
    return result;
  };
  const topLevel = (node: TS.Node): TS.Statement => {
    while (node.parent !== earlier) node = node.parent;
    return node as TS.Statement;
  };

  localsOf(earlier).forEach((symbol, name) => {
    const kept = survives(cellNames.get(name));
    if (!kept.type && !kept.value) return;
    // Names here are the symbol tables' keys, escaped as TypeScript escapes them (`__x` is `___x`).
    for (const declaration of symbol.declarations ?? []) {
      const node = topLevel(declaration);
      if (ts.isVariableStatement(node)) {
        if (kept.value) {
          keep(node, name);
          anyVars.delete(name);
          valueNames.add(name);
        }
      } else if (ts.isTypeAliasDeclaration(node) || ts.isInterfaceDeclaration(node)) {
        if (kept.type) keep(node, name);
      } else if (ts.isClassDeclaration(node) || ts.isEnumDeclaration(node)) {
        if (kept.type) {
          if (kept.value) keep(node, name);
        } else if (!valueNames.has(name)) {
          anyVars.add(name);
        }
      } else if (ts.isImportDeclaration(node)) {
        if (kept.type && kept.value) {
          keep(node, name);
          continue;
        }
        const aliased = checker.getAliasedSymbol(symbol);
        if (!kept.value) {
          // Only the type survives: keep the import if what it names is not also a value.
          if (!(aliased.flags & ts.SymbolFlags.Value) && aliased.flags !== 0) keep(node, name);
          continue;
        }
        if (aliased.flags & ts.SymbolFlags.Type) {
          // Shadowed by a new type; a value of the same name lives on untyped.
          if (aliased.flags & ts.SymbolFlags.Value && !valueNames.has(name)) anyVars.add(name);
          continue;
        }
        keep(node, name);
      } else if (ts.isFunctionDeclaration(node)) {
        if (kept.value) keep(node, name);
      }
      // Any other kind (a namespace, `import x = require(…)`) is dropped, as tslab drops it.
    }
  });

  const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
  const out: string[] = [];
  for (const statement of earlier.statements) {
    const names = keepNames.get(statement);
    if (!names) continue;
    let node: TS.Statement = statement;
    if (ts.isVariableStatement(statement)) {
      const declarations = statement.declarationList.declarations.filter((d) => ts.isIdentifier(d.name) && names.has(d.name.escapedText as string));
      node = ts.factory.updateVariableStatement(
        statement,
        statement.modifiers,
        ts.factory.updateVariableDeclarationList(statement.declarationList, declarations),
      );
    } else if (ts.isImportDeclaration(statement)) {
      node = keepNamesInImport(ts, statement, names);
    }
    out.push(printer.printNode(ts.EmitHint.Unspecified, node, earlier));
  }
  for (const name of anyVars) out.push(`let ${ts.unescapeLeadingUnderscores(name as TS.__String)}: any;`);
  return out.length ? `${out.join("\n")}\n` : "";
}

/** An import declaration that binds only `names` (tslab's keepNamesInImport, without modifying the original). */
function keepNamesInImport(ts: typeof TS, im: TS.ImportDeclaration, names: Set<string>): TS.ImportDeclaration {
  const clause = im.importClause;
  if (!clause) return im;
  const has = (id: TS.Identifier) => names.has(id.escapedText as string);
  const name = clause.name && has(clause.name) ? clause.name : undefined;
  let bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) {
    if (!has(bindings.name)) bindings = undefined;
  } else if (bindings) {
    const elements = bindings.elements.filter((e) => has(e.name));
    bindings = elements.length ? ts.factory.updateNamedImports(bindings, elements) : undefined;
  }
  const updated = ts.factory.updateImportClause(clause, clause.isTypeOnly, name, bindings);
  return ts.factory.updateImportDeclaration(im, im.modifiers, updated, im.moduleSpecifier, im.attributes);
}

/** tslab's text for quick info: the signature, a blank line, the doc comment, then the tags' text. */
export function printQuickInfo(info: TS.QuickInfo): string {
  const out: string[] = [];
  for (const part of info.displayParts ?? []) out.push(part.text);
  const docs = info.documentation ?? [];
  const tags = info.tags ?? [];
  if (out.length > 0 && (docs.length > 0 || tags.length > 0)) out.push("\n");
  for (const doc of docs) out.push("\n", doc.text);
  for (const tag of tags) {
    let text = (tag.text ?? []).map((t) => t.text).join("");
    if (!text) continue;
    if (tag.name === "param") text = `@param ${text}`;
    out.push("\n", text);
  }
  return out.join("");
}

/**
 * Whether a cell is complete or wants another line (tslab's isCompleteCode): incomplete
 * when TypeScript's parser, reading it as TSX, stops at its very end expecting more.
 */
export function isCompleteCell(ts: typeof TS, code: string): { status: "complete" } | { status: "incomplete"; indent: string } {
  if (/(^|\n)\s*\n\s*$/.test(code)) return { status: "complete" }; // two blank lines force it
  const file = ts.createSourceFile("cell.tsx", code, ts.ScriptTarget.Latest, undefined, ts.ScriptKind.TSX);
  const diagnostics = (file as TS.SourceFile & { parseDiagnostics?: TS.Diagnostic[] }).parseDiagnostics ?? [];
  for (const d of diagnostics) {
    if (d.start !== code.length || d.length !== 0 || typeof d.messageText !== "string") continue;
    if (d.messageText.endsWith(" expected.")) return { status: "incomplete", indent: indentOnEnter(code) };
  }
  return { status: "complete" };
}

/** tslab's indentOnEnter: the last line's indent, one step more after an opening bracket, one less before a closing one. */
function indentOnEnter(code: string): string {
  const line = /[^\n]*$/.exec(code)![0];
  const current = /^\s*/.exec(line)![0];
  if (/^((?!.*?\/\*).*\*\/)?\s*[}\]].*$/.test(line)) {
    if (current.endsWith("  ")) return current.slice(0, -2);
    if (current.endsWith("\t") || current.endsWith(" ")) return current.slice(0, -1);
    return current;
  }
  if (/^((?!\/\/).)*(\{[^}"'`]*|\([^)"'`]*|\[[^\]"'`]*)$/.test(line)) return `${current}  `;
  return current;
}

/**
 * What every checker of a page shares: the declaration files, parsed once (a document
 * registry), an index of their folders (module resolution asks whether a folder exists for
 * every file of every program), and where each import of each file leads — the files never
 * change, so each import is resolved once, not again by every program that holds the file.
 */
export class DeclarationStore {
  readonly registry: TS.DocumentRegistry;
  readonly options: TS.CompilerOptions;
  /** Each module a cell may import → its declaration file. */
  readonly modules: Record<string, string>;
  private readonly texts: Map<string, string>;
  private readonly folders = new Set<string>(["/"]);
  private readonly resolvedModules = new Map<string, TS.ResolvedModuleWithFailedLookupLocations>();
  private readonly typeReferences = new Map<string, TS.ResolvedTypeReferenceDirectiveWithFailedLookupLocations>();

  constructor(
    readonly ts: typeof TS,
    bundle: DeclarationBundle,
  ) {
    this.registry = ts.createDocumentRegistry();
    this.modules = bundle.modules;
    this.options = tslabCompilerOptions(ts, bundle.modules, bundle.types);
    this.texts = new Map(Object.entries(bundle.files));
    for (const file of this.texts.keys()) addFolders(this.folders, file);
  }

  readFile(file: string): string | undefined {
    return this.texts.get(file);
  }

  directoryExists(folder: string): boolean {
    return this.folders.has(folder.length > 1 ? folder.replace(/\/$/, "") : folder);
  }

  resolveModule(name: string, containingFile: string, host: TS.ModuleResolutionHost): TS.ResolvedModuleWithFailedLookupLocations {
    const key = `${containingFile}\0${name}`;
    let resolved = this.resolvedModules.get(key);
    if (!resolved) {
      resolved = this.ts.resolveModuleName(name, containingFile, this.options, host);
      this.resolvedModules.set(key, resolved);
    }
    return resolved;
  }

  resolveTypeReference(name: string, containingFile: string, host: TS.ModuleResolutionHost): TS.ResolvedTypeReferenceDirectiveWithFailedLookupLocations {
    const key = `${containingFile}\0${name}`;
    let resolved = this.typeReferences.get(key);
    if (!resolved) {
      resolved = this.ts.resolveTypeReferenceDirective(name, containingFile, this.options, host);
      this.typeReferences.set(key, resolved);
    }
    return resolved;
  }
}

function addFolders(folders: Set<string>, file: string): void {
  for (let i = file.lastIndexOf("/"); i > 0; i = file.lastIndexOf("/", i - 1)) {
    const folder = file.slice(0, i);
    if (folders.has(folder)) break;
    folders.add(folder);
  }
}

/** One checker's two notebook files over the store's declarations, as a language service host sees them. */
class NotebookFiles {
  private readonly texts = new Map<string, string>();
  private readonly folders = new Set<string>();
  private readonly versions = new Map<string, number>();
  private readonly snapshots = new Map<string, TS.IScriptSnapshot>();
  private version = 0;

  constructor(private readonly store: DeclarationStore) {}

  set(file: string, text: string): void {
    if (this.texts.get(file) === text) return;
    this.texts.set(file, text);
    this.snapshots.delete(file);
    this.versions.set(file, ++this.version);
    addFolders(this.folders, file);
  }

  private read(file: string): string | undefined {
    return this.texts.get(file) ?? this.store.readFile(file);
  }

  host(roots: string[]): TS.LanguageServiceHost {
    const ts = this.store.ts;
    const files: TS.ModuleResolutionHost & { getCurrentDirectory(): string } = {
      getCurrentDirectory: () => "/",
      fileExists: (file) => this.read(file) !== undefined,
      readFile: (file) => this.read(file),
      directoryExists: (folder) => this.folders.has(folder) || this.store.directoryExists(folder),
    };
    return {
      ...files,
      getCompilationSettings: () => this.store.options,
      getScriptFileNames: () => roots,
      getProjectVersion: () => String(this.version),
      getScriptVersion: (file) => String(this.versions.get(file) ?? 0),
      getScriptSnapshot: (file) => {
        let snapshot = this.snapshots.get(file);
        const text = this.read(file);
        if (!snapshot && text !== undefined) {
          snapshot = ts.ScriptSnapshot.fromString(text);
          this.snapshots.set(file, snapshot);
        }
        return snapshot;
      },
      getDefaultLibFileName: (o) => `/${ts.getDefaultLibFileName(o)}`,
      getDirectories: () => [],
      useCaseSensitiveFileNames: () => true,
      resolveModuleNameLiterals: (literals, containingFile) => literals.map((literal) => this.store.resolveModule(literal.text, containingFile, files)),
      resolveTypeReferenceDirectiveReferences: (references, containingFile) =>
        references.map((reference) =>
          this.store.resolveTypeReference(typeof reference === "string" ? reference : reference.fileName.toLowerCase(), containingFile, files),
        ),
    };
  }
}
