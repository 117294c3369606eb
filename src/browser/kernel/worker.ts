/**
 * The browser kernel's Web Worker: runs the notebook's cells (./runtime) and turns
 * everything they print or show into Jupyter messages for the page (./kernel.ts relays
 * them). Cells import the library, TensorFlow.js and `tslab` from chunks of the same
 * build, loaded when a cell first imports them.
 *
 * Protocol (page → worker): init, execute, complete, is_complete; (worker → page):
 * ready, iopub (a Jupyter iopub message for execution `id`), reply.
 */
import { parse } from "acorn";
import type { RichDisplay } from "../../platform/types";
import { formatLog } from "./console";
import { NotebookState, plainText, type ModuleTable } from "./runtime";
import { createTslabModule, type DisplayMessage } from "./tslab";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: string, listener: (event: any) => void): void;
}
const worker = self as unknown as WorkerScope;

export type ToWorker =
  | { type: "init"; backend?: string }
  | { type: "execute"; id: number; code: string; label: string }
  | { type: "complete"; id: number; code: string; cursor: number }
  | { type: "is_complete"; id: number; code: string };

export type FromWorker =
  | { type: "ready" }
  | { type: "iopub"; id: number; msgType: string; content: Record<string, unknown> }
  | { type: "reply"; id: number; content: Record<string, unknown> };

const post = (message: FromWorker) => worker.postMessage(message);

/** The execution that output belongs to: the running cell, else the last one (late output). */
let current = 0;
const iopub = (msgType: string, content: Record<string, unknown>) => post({ type: "iopub", id: current, msgType, content });

const tslab = createTslabModule((message: DisplayMessage) => iopub(message.type, message.content));

/** show.* in the library: the same messages as tslab's display. */
const sink: RichDisplay = tslab.display;

const withSink = async <T extends { setDisplaySink(d: RichDisplay | null | undefined): void }>(load: Promise<T>): Promise<T> => {
  const module = await load;
  module.setDisplaySink(sink);
  return module;
};

const preloadDigits = async (m: Record<string, unknown>) => (m.preloadDefaultDigits as () => Promise<void>)();

const modules: ModuleTable = {
  "vae-workbook": {
    load: () => withSink(import("../../index")) as Promise<Record<string, unknown>>,
    // loadDefaultDigits is synchronous, as on Node: fetch its asset before the cell runs.
    prepare: { loadDefaultDigits: preloadDigits, loadMnistPackage: preloadDigits },
  },
  "vae-workbook/exact": { load: () => withSink(import("../../exact-entry")) as Promise<Record<string, unknown>> },
  "@tensorflow/tfjs": { load: () => import("../tfjs") as Promise<Record<string, unknown>> },
  tslab: { load: async () => tslab },
};

const notebook = new NotebookState(modules);

// console.* becomes the cell's stdout and stderr, formatted like Node's.
for (const [method, name] of [["log", "stdout"], ["info", "stdout"], ["debug", "stdout"], ["warn", "stderr"], ["error", "stderr"]] as const) {
  console[method] = (...args: unknown[]) => iopub("stream", { name, text: formatLog(args) + "\n" });
}

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
  current = id;
  const outcome = await notebook.run(code, label);
  if (!outcome.ok) {
    iopub("error", { ...outcome.error });
    return { status: "error", ...outcome.error };
  }
  const text = plainText(outcome.value);
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

worker.addEventListener("message", async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      if (message.backend) (globalThis as { VAE_BACKEND?: string }).VAE_BACKEND = message.backend;
      post({ type: "ready" });
      return;
    case "execute":
      post({ type: "reply", id: message.id, content: await execute(message.id, message.code, message.label) });
      return;
    case "complete":
      // Reading a value's members can run a getter that throws: reply with the error, never silence.
      try {
        post({ type: "reply", id: message.id, content: complete(message.code, message.cursor) });
      } catch (error) {
        const e = notebook.describe(error);
        post({ type: "reply", id: message.id, content: { status: "error", ...e } });
      }
      return;
    case "is_complete":
      post({ type: "reply", id: message.id, content: isComplete(message.code) });
      return;
  }
});
