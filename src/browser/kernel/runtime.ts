/**
 * A notebook's state in the browser kernel, and running one cell in it: compile
 * (./compile), load the modules the cell imports, run, and turn whatever went wrong into
 * a Jupyter error naming the cell's own line. An interrupt abandons a cell that awaits:
 * its names stay, and its own code stops at its next `await`. Nothing here touches the
 * worker's message port, so the same code runs under mocha on Node.
 */
import { inspect } from "node-inspect-extracted";
import { type CompiledCell, compileCell, isCellSyntaxError, type TypeScriptTranspiler } from "./compile";

type ModuleNamespace = Record<string, unknown>;

/** A module cells may import. */
export interface ModuleEntry {
  load(): Promise<ModuleNamespace>;
  /**
   * Work an export needs done before a cell uses it synchronously, keyed by export name
   * (the digits asset behind a synchronous loader, say). Run when a cell imports that
   * name, or the whole module.
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

export type CellOutcome = { ok: true; value: unknown; hasValue: boolean } | { ok: false; error: CellError; interrupted?: boolean };

const hasOwn = (o: object, k: string) => Object.hasOwn(o, k);

/** How much text one value may show (a huge string as a cell's value). */
export const VALUE_TEXT_LIMIT = 100_000;

/**
 * The text/plain form of a cell's value, as tslab prints it with Node's console.log: none
 * for undefined or null, a string as it is, anything else through Node's util.inspect
 * (depth 2, the first 100 items of an array, class names, Maps, typed arrays).
 */
export function plainText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === "string" ? value : inspect(value);
  return text.length <= VALUE_TEXT_LIMIT
    ? text
    : `${text.slice(0, VALUE_TEXT_LIMIT)}\n… ${(text.length - VALUE_TEXT_LIMIT).toLocaleString("en-US")} more characters of this value not shown`;
}

/** Thrown at a cell's next `await` once it has been interrupted. */
export class CellInterrupted extends Error {
  constructor() {
    super("the cell was interrupted");
    this.name = "Interrupted";
  }
}

export const INTERRUPTED_COOPERATIVELY =
  "Interrupted: the cell was stopped where it awaited; the kernel was not restarted, so every name " +
  "defined so far (by earlier cells, and by this one up to that point) is still there.";

/**
 * Binds a cell's top-level names to the notebook's scope: accessors that read the cell's
 * local bindings; assigning one from a later cell replaces the accessor by the value. A
 * name the cell never reached (it threw, or was interrupted, before its declaration) reads
 * as undefined, as tslab's `exports.name = void 0` does.
 */
function bind(scope: Record<string, unknown>, getters: Record<string, () => unknown>): void {
  for (const [name, read] of Object.entries(getters)) {
    Object.defineProperty(scope, name, {
      get() {
        try {
          return read();
        } catch {
          return undefined; // still in its temporal dead zone
        }
      },
      set(value: unknown) {
        Object.defineProperty(scope, name, { value, writable: true, enumerable: true, configurable: true });
      },
      enumerable: true,
      configurable: true,
    });
  }
}

export class NotebookState {
  /** The notebook's top-level names, shared by every cell. */
  readonly scope: Record<string, unknown> = Object.create(null);
  private readonly loaded = new Map<string, ModuleNamespace>();
  private readonly prepared = new Set<string>();
  /** Each run cell's lines and line map, by the name its stack frames carry. */
  private readonly sources = new Map<string, { label: string; lines: string[]; cellLine: CompiledCell["cellLine"] }>();
  private runs = 0;
  /** The run that is executing, and how to abandon it. */
  private running: { run: number; abandon(): void } | null = null;
  /** The run last interrupted: its `await`s throw until another cell starts. */
  private interrupted = 0;

  constructor(
    private readonly modules: ModuleTable,
    private readonly typescript?: () => Promise<TypeScriptTranspiler>,
  ) {}

  /** Runs one cell; `label` is how errors name it (e.g. "[3]", the execution count). */
  async run(source: string, label: string): Promise<CellOutcome> {
    const run = ++this.runs;
    this.interrupted = 0;
    const sourceURL = `cell-${run}.ts`;
    try {
      const cell = await compileCell(source, { isKnown: (name) => hasOwn(this.scope, name), sourceURL, typescript: this.typescript });
      this.sources.set(sourceURL, { label, lines: source.split("\n"), cellLine: cell.cellLine });
      for (const { source: specifier, names } of cell.imports) await this.load(specifier, names);
      const helpers = cell.viaTypeScript && this.typescript ? (await this.typescript()).helpers : {};
      // The kernel's purpose: run the reader's compiled cell. Indirect eval, so the cell sees
      // globals only; its names come in through the scope argument the wrapper takes.
      // biome-ignore lint/security/noGlobalEval: evaluating the reader's own cell is what a kernel does.
      const indirectEval = eval;
      const fn = indirectEval(cell.code) as (...args: unknown[]) => Promise<{ value: unknown } | undefined>;
      const resume = (value: unknown) => {
        if (this.interrupted === run) throw new CellInterrupted();
        return value;
      };
      let abandon!: () => void;
      const abandoned = new Promise<never>((_, reject) => (abandon = () => reject(new CellInterrupted())));
      this.running = { run, abandon };
      const result = await Promise.race([
        fn(
          this.scope,
          (specifier: string) => this.required(specifier),
          (specifier: string) => this.load(String(specifier), "*"),
          (module: ModuleNamespace) => (module && hasOwn(module, "default") ? module.default : module),
          bind,
          resume,
          helpers,
        ),
        abandoned,
      ]);
      return { ok: true, value: result?.value, hasValue: result !== undefined };
    } catch (error) {
      if (error instanceof CellInterrupted) {
        return { ok: false, interrupted: true, error: { ename: "Interrupted", evalue: INTERRUPTED_COOPERATIVELY, traceback: [INTERRUPTED_COOPERATIVELY] } };
      }
      return { ok: false, error: this.describe(error, source, label) };
    } finally {
      if (this.running?.run === run) this.running = null;
    }
  }

  /**
   * Abandons the running cell, if any: its promise is no longer awaited, and its own code
   * throws at its next `await`. Returns whether a cell was running.
   */
  interrupt(): boolean {
    if (!this.running) return false;
    this.interrupted = this.running.run;
    this.running.abandon();
    this.running = null;
    return true;
  }

  /** Names a cell could mean at `prefix` (completion): notebook names, then globals. */
  completions(prefix: string): string[] {
    const names = new Set<string>([...Object.keys(this.scope), ...Object.getOwnPropertyNames(globalThis)]);
    return [...names].filter((n) => n.startsWith(prefix) && /^[A-Za-z_$][\w$]*$/.test(n)).sort();
  }

  /**
   * The properties of the value a dotted path names (`model.` completes from `model`).
   * A getter on the way that throws (or a name in its temporal dead zone) gives no names.
   */
  members(path: string[]): string[] {
    try {
      let value: unknown = hasOwn(this.scope, path[0]) ? this.scope[path[0]] : (globalThis as Record<string, unknown>)[path[0]];
      for (const key of path.slice(1)) value = value == null ? undefined : (value as Record<string, unknown>)[key];
      if (value == null) return [];
      const names = new Set<string>();
      for (let o: object | null = Object(value); o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
        for (const n of Object.getOwnPropertyNames(o)) if (n !== "constructor" && !n.startsWith("__")) names.add(n);
      }
      return [...names].sort();
    } catch {
      return [];
    }
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
    if (isCellSyntaxError(error)) {
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
  frames(stack: string): string[] {
    const out: string[] = [];
    for (const raw of stack.split("\n").slice(1)) {
      const m = /(cell-\d+\.ts):(\d+):(\d+)/.exec(raw);
      if (m) {
        const cell = this.sources.get(m[1]);
        const line = cell ? cell.cellLine(Number(m[2])) : Number(m[2]);
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
    const offered = known.length ? `the browser kernel provides ${known.map((k) => `"${k}"`).join(", ")}` : "the site's configuration names no modules";
    super(`Cannot find module "${specifier}": ${offered} (see the kernel's import map in jupyter-lite.json)`);
    this.name = "ModuleNotFoundError";
  }
}
