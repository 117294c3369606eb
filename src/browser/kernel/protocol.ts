/**
 * The messages between the page (./kernel.ts) and the kernel's worker (./worker.ts).
 * Every request carries an id and gets exactly one reply with that id — from the worker,
 * or from the page's channel when the worker does not answer in time or has died
 * (./channel.ts).
 */

/** A module cells may import: its URL, and what the kernel does with it once loaded. */
export interface ModuleSpec {
  /** Where the ES module is (relative to the site's root, or absolute). */
  url: string;
  /** An export to call with the kernel's `tslab.display`, so the module's rich output reaches the cell. */
  displaySink?: string;
  /** Export name → name of an async export to await before a cell that imports it runs. */
  prepare?: Record<string, string>;
}

/** The kernel's import map: bare specifier → URL, or URL and hooks. */
export type ImportMap = Record<string, string | ModuleSpec>;

export type ToWorker =
  /** `globals` are set on the worker's globalThis before any module loads (from the page's URL, see ./extension.ts). */
  | { type: "init"; imports: Record<string, ModuleSpec>; globals: Record<string, string> }
  | { type: "execute"; id: number; code: string; label: string }
  | { type: "complete"; id: number; code: string; cursor: number }
  | { type: "is_complete"; id: number; code: string }
  | { type: "interrupt"; id: number }
  | { type: "ping"; id: number };

export type FromWorker =
  | { type: "ready" }
  | { type: "iopub"; id: number; msgType: string; content: Record<string, unknown> }
  | { type: "reply"; id: number; content: Record<string, unknown> }
  /** The worker is about to stop on its own (a cell called `close()`). */
  | { type: "exit"; reason: string };

/** A request before it gets its id. */
export type Request = ToWorker extends infer T ? (T extends { id: number } ? Omit<T, "id"> : never) : never;
