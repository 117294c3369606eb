/**
 * The browser kernel's Web Worker: runs the notebook's cells (./runtime) and turns
 * everything they print or show into Jupyter messages for the page (./kernel.ts relays
 * them). Cells import `tslab` (built in) and the modules of the site's import map, each
 * loaded from its URL when a cell first imports it. Messages: ./protocol.ts.
 */
import { parse } from "acorn";
import type { TypeScriptTranspiler } from "./compile";
import { createConsole } from "./console";
import type { FromWorker, ModuleSpec, ToWorker } from "./protocol";
import { type ModuleTable, NotebookState, plainText } from "./runtime";
import { CellStreams } from "./streams";
import { createTslabModule, type DisplayMessage } from "./tslab";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: string, listener: (event: never) => void): void;
  close(): void;
}
const worker = self as unknown as WorkerScope;

const post = (message: FromWorker) => worker.postMessage(message);

/** The execution that output belongs to: the running cell, else the last one (late output). */
let current = 0;
const streams = new CellStreams((name, text) => post({ type: "iopub", id: current, msgType: "stream", content: { name, text } }));
const iopub = (msgType: string, content: Record<string, unknown>) => {
  streams.flush();
  post({ type: "iopub", id: current, msgType, content });
};

const tslab = createTslabModule((message: DisplayMessage) => iopub(message.type, message.content));

let typescript: Promise<TypeScriptTranspiler> | undefined;
/** TypeScript's transpiler, a file of its own beside this worker (3.5 MB), fetched when a cell first needs it. */
const loadTypeScript = () =>
  (typescript ??= (import(/* @vite-ignore */ new URL("./kernel-typescript.js", import.meta.url).href) as Promise<typeof import("./typescript")>).then(
    (m) => m.typescript,
  ));

/** The import map's modules, loaded from their URLs; `tslab` is the kernel's own. */
function moduleTable(imports: Record<string, ModuleSpec>): ModuleTable {
  const table: ModuleTable = { tslab: { load: async () => tslab } };
  for (const [specifier, spec] of Object.entries(imports)) {
    table[specifier] = {
      load: async () => {
        const module = (await import(/* webpackIgnore: true */ spec.url)) as Record<string, unknown>;
        if (spec.displaySink) (module[spec.displaySink] as (d: unknown) => void)(tslab.display);
        return module;
      },
      prepare: Object.fromEntries(
        Object.entries(spec.prepare ?? {}).map(([name, hook]) => [name, async (m: Record<string, unknown>) => (m[hook] as () => Promise<void>)()]),
      ),
    };
  }
  return table;
}

let notebook = new NotebookState({}, loadTypeScript);

// console.* becomes the cell's stdout and stderr, printed as Node's console prints.
const nodeConsole = createConsole({ write: (name, text) => streams.write(name, text), frames: (stack) => notebook.frames(stack) });
Object.assign(console, nodeConsole);

// Node's setImmediate, which notebook code written for tslab may use.
const immediates = new Map<number, MessageChannel>();
let nextImmediate = 0;
Object.assign(globalThis, {
  setImmediate: (callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    const id = ++nextImmediate;
    const channel = new MessageChannel();
    immediates.set(id, channel);
    channel.port1.onmessage = () => {
      immediates.delete(id);
      channel.port1.close();
      callback(...args);
    };
    channel.port2.postMessage(null);
    return id;
  },
  clearImmediate: (id: number) => {
    immediates.get(id)?.port1.close();
    immediates.delete(id);
  },
});

// A cell that calls close() ends the worker: say so first, so the page can start another.
const close = worker.close.bind(worker);
worker.close = () => {
  streams.flush();
  post({ type: "exit", reason: "a cell called close(), which ends the kernel's worker" });
  close();
};

/** An error thrown later, from a timer or a forgotten promise: an error output, as tslab reports it. */
function reportLate(kind: string, error: unknown): void {
  const e = notebook.describe(error);
  iopub("error", { ename: kind, evalue: `${e.ename}: ${e.evalue}`, traceback: [`${kind} (after the cell returned)`, ...e.traceback] });
}
worker.addEventListener("error", (event: ErrorEvent) => {
  event.preventDefault();
  reportLate("UncaughtException", event.error ?? event.message);
});
worker.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
  event.preventDefault();
  reportLate("UnhandledPromiseRejection", event.reason);
});

async function execute(id: number, code: string, label: string): Promise<Record<string, unknown>> {
  streams.end();
  current = id;
  const outcome = await notebook.run(code, label);
  if (!outcome.ok) {
    streams.end();
    iopub("error", { ...outcome.error });
    return { status: "error", ...outcome.error };
  }
  const text = outcome.hasValue ? plainText(outcome.value) : null;
  streams.end();
  if (text !== null) iopub("execute_result", { data: { "text/plain": text }, metadata: {} });
  return { status: "ok", user_expressions: {} };
}

/** Completion: names at the cursor, or the members of a dotted path (`model.` → its methods). */
function complete(code: string, cursor: number): Record<string, unknown> {
  const before = code.slice(0, cursor);
  const m = /((?:[A-Za-z_$][\w$]*\.)*)([A-Za-z_$][\w$]*)?$/.exec(before)!;
  const path = m[1] ? m[1].slice(0, -1).split(".") : [];
  const word = m[2] ?? "";
  const matches = (path.length ? notebook.members(path) : notebook.completions(word)).filter((n) => n.startsWith(word));
  return { status: "ok", matches, cursor_start: cursor - word.length, cursor_end: cursor, metadata: {} };
}

/** A cell is incomplete when its JavaScript would end too early (types are ignored here). */
function isComplete(code: string): Record<string, unknown> {
  try {
    parse(code, { ecmaVersion: "latest", sourceType: "module" });
    return { status: "complete" };
  } catch (error) {
    const e = error as { pos?: number };
    return e.pos !== undefined && e.pos >= code.trimEnd().length ? { status: "incomplete", indent: "" } : { status: "complete" };
  }
}

/** Every request gets one reply, an error reply if answering it threw. */
function answer(id: number, produce: () => Record<string, unknown>): void {
  let content: Record<string, unknown>;
  try {
    content = produce();
  } catch (error) {
    const e = notebook.describe(error);
    content = { status: "error", ...e };
  }
  post({ type: "reply", id, content });
}

worker.addEventListener("message", async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      Object.assign(globalThis, message.globals);
      notebook = new NotebookState(moduleTable(message.imports), loadTypeScript);
      post({ type: "ready" });
      return;
    case "execute":
      post({ type: "reply", id: message.id, content: await execute(message.id, message.code, message.label) });
      return;
    case "interrupt":
      // Reached only when the running cell awaits (a busy loop keeps this message waiting).
      return answer(message.id, () => ({ status: "ok", interrupted: notebook.interrupt() }));
    case "complete":
      return answer(message.id, () => complete(message.code, message.cursor));
    case "is_complete":
      return answer(message.id, () => isComplete(message.code));
    case "ping":
      return answer(message.id, () => ({ status: "ok" }));
  }
});
