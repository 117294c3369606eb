/**
 * A notebook's state in the browser kernel, and running one cell in it: compile
 * (./compile), load the modules the cell imports, run, and turn whatever went wrong into
 * a Jupyter error naming the cell's own line. Nothing here touches the worker's message
 * port, so the same code runs under mocha on Node.
 */
import inspect from "object-inspect";
import { CellSyntaxError, compileCell } from "./compile";

type ModuleNamespace = Record<string, unknown>;

/** A module cells may import. */
export interface ModuleEntry {
  load(): Promise<ModuleNamespace>;
  /**
   * Work an export needs done before a cell uses it synchronously, keyed by export name
   * (the digits asset behind `loadDefaultDigits`, say). Run when a cell imports that name,
   * or the whole module.
   */
  prepare?: Record<string, (module: ModuleNamespace) => Promise<void>>;
}

export type ModuleTable = Record<string, ModuleEntry>;

/** Jupyter's error content. */
export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export type CellOutcome = { ok: true; value: unknown } | { ok: false; error: CellError };

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** The text/plain form of a cell's value, as tslab shows it (none for undefined or null). */
export function plainText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value; // tslab prints it with console.log: no quotes
  return inspect(value, { depth: 4 });
}

export class NotebookState {
  /** The notebook's top-level names, shared by every cell. */
  readonly scope: Record<string, unknown> = Object.create(null);
  private readonly loaded = new Map<string, ModuleNamespace>();
  private readonly prepared = new Set<string>();
  /** Each run cell's lines, by the name its stack frames carry. */
  private readonly sources = new Map<string, { label: string; lines: string[] }>();

  constructor(private readonly modules: ModuleTable) {}

  /** Runs one cell; `label` is how errors name it (e.g. "[3]", the execution count). */
  async run(source: string, label: string): Promise<CellOutcome> {
    const sourceURL = `cell-${this.sources.size + 1}.ts`;
    this.sources.set(sourceURL, { label, lines: source.split("\n") });
    try {
      const cell = compileCell(source, { isKnown: (name) => hasOwn(this.scope, name), sourceURL });
      for (const { source: specifier, names } of cell.imports) await this.load(specifier, names);
      const run = (0, eval)(cell.code) as (...args: unknown[]) => Promise<unknown>;
      const value = await run(
        this.scope,
        (specifier: string) => this.required(specifier),
        (specifier: string) => this.load(String(specifier), "*"),
        (module: ModuleNamespace) => (module && hasOwn(module, "default") ? module.default : module),
      );
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: this.describe(error, source, label) };
    }
  }

  /** Names a cell could mean at `prefix` (completion): notebook names, then globals. */
  completions(prefix: string): string[] {
    const names = new Set<string>([...Object.keys(this.scope), ...Object.getOwnPropertyNames(globalThis)]);
    return [...names].filter((n) => n.startsWith(prefix) && /^[A-Za-z_$][\w$]*$/.test(n)).sort();
  }

  /** The properties of the value a dotted path names (`model.` completes from `model`). */
  members(path: string[]): string[] {
    let value: unknown = hasOwn(this.scope, path[0]) ? this.scope[path[0]] : (globalThis as Record<string, unknown>)[path[0]];
    for (const key of path.slice(1)) value = value == null ? undefined : (value as Record<string, unknown>)[key];
    if (value == null) return [];
    const names = new Set<string>();
    for (let o: object | null = Object(value); o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const n of Object.getOwnPropertyNames(o)) if (n !== "constructor" && !n.startsWith("__")) names.add(n);
    }
    return [...names].sort();
  }

  private async load(specifier: string, names: string[] | "*"): Promise<ModuleNamespace> {
    const entry = this.modules[specifier];
    if (!entry) {
      throw new ModuleNotFound(specifier, Object.keys(this.modules));
    }
    let module = this.loaded.get(specifier);
    if (!module) {
      module = await entry.load();
      this.loaded.set(specifier, module);
    }
    const wanted = names === "*" ? Object.keys(entry.prepare ?? {}) : names.filter((n) => entry.prepare && hasOwn(entry.prepare, n));
    for (const name of wanted) {
      const key = `${specifier}#${name}`;
      if (this.prepared.has(key)) continue;
      await entry.prepare![name](module);
      this.prepared.add(key);
    }
    return module;
  }

  private required(specifier: string): ModuleNamespace {
    const module = this.loaded.get(specifier);
    if (!module) throw new ModuleNotFound(specifier, Object.keys(this.modules));
    return module;
  }

  /** Jupyter error content for anything a cell threw (or a late error from its timers). */
  describe(error: unknown, source?: string, label?: string): CellError {
    if (error instanceof CellSyntaxError) {
      const lines = (source ?? "").split("\n");
      const where = `line ${error.line}${error.column ? `, column ${error.column}` : ""}`;
      const traceback = [`SyntaxError: ${error.message} (${where}${label ? ` of cell ${label}` : ""})`];
      const text = lines[error.line - 1];
      if (text !== undefined) {
        traceback.push(`  ${error.line} | ${text}`);
        if (error.column) traceback.push(`  ${" ".repeat(String(error.line).length)} | ${" ".repeat(error.column - 1)}^`);
      }
      return { ename: "SyntaxError", evalue: `${error.message} (${where})`, traceback };
    }
    const e = error instanceof Error ? error : new Error(`a non-Error value was thrown: ${plainText(error)}`);
    const ename = e.name || "Error";
    const traceback = [`${ename}: ${e.message}`, ...this.frames(e.stack ?? "")];
    return { ename, evalue: e.message, traceback };
  }

  /** Stack frames in cells become "at line L of cell [N]: <that line>"; library frames stay short. */
  private frames(stack: string): string[] {
    const out: string[] = [];
    for (const raw of stack.split("\n").slice(1)) {
      const m = /(cell-\d+\.ts):(\d+):(\d+)/.exec(raw);
      if (m) {
        const cell = this.sources.get(m[1]);
        const line = Number(m[2]);
        const text = cell?.lines[line - 1]?.trim() ?? "";
        out.push(`    at line ${line} of cell ${cell?.label ?? "?"}: ${text}`);
      } else if (/^\s+at /.test(raw) && out.length < 12) {
        out.push(raw.replace(/\(?https?:\/\/[^)]*\/([^/)]+)\)?$/, "($1)"));
      }
    }
    return out;
  }
}

export class ModuleNotFound extends Error {
  constructor(specifier: string, known: string[]) {
    super(`Cannot find module "${specifier}": the browser kernel provides ${known.map((k) => `"${k}"`).join(", ")}`);
    this.name = "ModuleNotFoundError";
  }
}
