/** The shapes both hosts' platform modules share (Node: ./index.ts; browser: src/browser/platform). */

/** What show.* sends rich output to: tslab's display, or the browser kernel's Jupyter messages. */
export interface RichDisplay {
  /** `metadata` travels with the output (the Plotly helpers vouch for their scripts there). */
  html(s: string, metadata?: Record<string, unknown>): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
  markdown(s: string): void;
  text(s: string): void;
}

/** One tfjs backend the host can try: `load` registers it (or throws why not). */
export interface BackendCandidate {
  name: string;
  /** `forced`: the user asked for this backend by name, so a slow but correct one is fine. */
  load(how: { forced: boolean }): void | Promise<void>;
  /** Runs after tf.setBackend succeeded; throws if the backend computes wrongly here. */
  check?(): void | Promise<void>;
  /** Threads the backend computes with, when it says. */
  threads?(): number | undefined;
  /** The device it computes on, when it says (a GPU adapter's vendor and architecture). */
  device?(): string | undefined;
}

export interface ProgressBarOptions {
  /** cli-progress format string with {bar}, {value}, {total} and custom payload keys. */
  format: string;
}

export interface ProgressBar {
  start(total: number, value: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

/** A Plotly bundle: its source to inline (Node), or the URL of the site's copy (browser). */
export type PlotlyBundleFile = { version: string; source: string } | { version: string; url: string };
