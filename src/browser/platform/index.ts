/**
 * The host seam, browser side: the same exports as src/platform/index.ts (the Node
 * side), swapped in by the browser build (scripts/build-lite.ts). Assets are files beside
 * this module in the built site, found through `import.meta.url`, so the site works from
 * any static server and any sub-path.
 *
 *   where output goes  — none by default: the browser kernel sets a sink that sends
 *                        Jupyter display messages (outside a kernel, show.* prints text)
 *   where files come from — the digits are one compact asset, fetched; files on disk
 *                        (checkpoints, IDX folders) are not available here and say so
 *   which tfjs backend runs — WebGPU or WebGL where they initialize and pass a self-check
 *                        on real hardware, else WebAssembly, else plain JavaScript (a
 *                        software GPU only when asked for by name: `?backend=webgpu`)
 */
import { gunzipSync } from "fflate";
import { NotAvailableInBrowserError } from "../../errors";
import type { BackendCandidate, PlotlyBundleFile, ProgressBar, ProgressBarOptions, RichDisplay } from "../../platform/types";
import { decodeDigits } from "./digits";

export type { BackendCandidate, PlotlyBundleFile, ProgressBar, ProgressBarOptions, RichDisplay } from "../../platform/types";

/** Set by the esbuild build (scripts/build-lite.ts). */
declare const __PLOTLY_CARTESIAN_VERSION__: string;

const here = (file: string) => new URL(file, import.meta.url).href;

/** No rich display until a kernel sets one (src/notebook.ts, setDisplaySink). */
export function richDisplay(): RichDisplay | null {
  return null;
}

/**
 * Throws unless a backend computes a small product like float64 does (float16 textures
 * fail). Read asynchronously: WebGPU cannot read GPU memory synchronously in a reliable way
 * (tfjs-webgpu's dataSync goes through canvases and, on SwiftShader, returned a product off
 * by 0.14), and a GPU backend's dataSync stalls the thread anyway.
 */
async function selfCheck(): Promise<void> {
  const tf = await import("@tensorflow/tfjs");
  const n = 48;
  const a = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i) * 0.5);
  const b = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i * 0.7) * 0.5);
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])));
  const got = await product.data();
  product.dispose();
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      worst = Math.max(worst, Math.abs(got[i * n + j] - s));
    }
  }
  if (!(worst < 1e-4)) throw new Error(`self-check failed: a 48×48 product is off by ${worst.toExponential(1)} (not float32 precision)`);
}

/** What a WebGPU adapter says of itself (`info` in current browsers; the flag on the adapter in older ones). */
interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<{ info?: GpuAdapterInfo; isFallbackAdapter?: boolean } | null>;
}

/** The WebGPU adapter tfjs computes on, e.g. "nvidia ampere" (set when the webgpu candidate loads). */
let gpuAdapter: string | undefined;

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|software|basic render/i;

/**
 * A hardware WebGPU adapter, else throws why not. A software adapter (SwiftShader, in
 * Chromium with --enable-unsafe-webgpu and no GPU) computes correctly but more slowly than
 * WebAssembly: it is used only when WebGPU is asked for by name (`?backend=webgpu`).
 */
async function loadWebGpu({ forced }: { forced: boolean }): Promise<void> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) throw new Error("WebGPU is not available");
  // The adapter tfjs-webgpu will ask for.
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("no WebGPU adapter");
  const info = adapter.info ?? {};
  gpuAdapter = [info.vendor, info.architecture || info.description].filter(Boolean).join(" ") || "an unnamed adapter";
  const software = (info.isFallbackAdapter ?? adapter.isFallbackAdapter) || SOFTWARE_RENDERER.test(`${info.architecture} ${info.description}`);
  if (software && !forced) throw new Error(`only a software WebGPU adapter (${gpuAdapter}), slower than WebAssembly`);
  await import("@tensorflow/tfjs-backend-webgpu");
}

/** WebGL through a software rasterizer (SwiftShader, llvmpipe) is slower than WebAssembly: only when asked for by name. */
function checkHardwareWebGL({ forced }: { forced: boolean }): void {
  if (typeof OffscreenCanvas === "undefined") throw new Error("no OffscreenCanvas for WebGL in a worker");
  const gl = new OffscreenCanvas(1, 1).getContext("webgl2") as WebGL2RenderingContext | null;
  if (!gl) throw new Error("WebGL2 is not available");
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  if (SOFTWARE_RENDERER.test(renderer) && !forced) throw new Error(`software renderer (${renderer}), slower than WebAssembly`);
}

export const backends: readonly BackendCandidate[] = [
  { name: "webgpu", load: loadWebGpu, check: selfCheck, device: () => gpuAdapter },
  { name: "webgl", load: checkHardwareWebGL, check: selfCheck },
  {
    name: "wasm",
    load: async () => {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      // The .wasm binaries are files of the site, beside this module.
      wasm.setWasmPaths(here("./"));
    },
    threads: () => 1,
  },
  { name: "cpu", load: () => undefined },
];

/**
 * A setting: a browser has no environment, so a page or a cell sets it on globalThis
 * (e.g. `globalThis.WORKBOOK_STRICT_CHECKS = "0"`); undefined when unset or empty.
 */
export function hostSetting(name: string): string | undefined {
  const value = (globalThis as Record<string, unknown>)[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A page may force one backend: `globalThis.VAE_BACKEND` (the kernel sets it from `?backend=`). */
export function backendOverride(): string | undefined {
  return (globalThis as { VAE_BACKEND?: string }).VAE_BACKEND || undefined;
}

let digits: { images: Float32Array; labels: Int32Array } | null = null;

/** Fetches and decodes the digits asset once (mnist-digits.bin, written by the build). */
export async function preloadMnistDigits(): Promise<void> {
  if (digits) return;
  const url = here("./mnist-digits.bin");
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}; the site is missing its digits asset (rebuild it with npm start)`);
  digits = decodeDigits(new Uint8Array(await response.arrayBuffer()), gunzipSync);
}

export function mnistDigits(): { images: Float32Array; labels: Int32Array } {
  if (!digits) {
    throw new Error(
      "the digits are not loaded yet: in the browser they are one asset fetched by `await preloadDefaultDigits()` " +
        "(the browser kernel does this when a cell imports loadDefaultDigits or loadMnistPackage)",
    );
  }
  return digits;
}

export function plotlyBundleFile(pkg: string): PlotlyBundleFile {
  if (pkg !== "plotly.js-cartesian-dist-min") {
    throw new NotAvailableInBrowserError(`the ${pkg} bundle`, 'only the cartesian Plotly bundle ships with the site: use flavor "cartesian"');
  }
  return { version: __PLOTLY_CARTESIAN_VERSION__, url: here("./plotly-cartesian.js") };
}

const FILES_INSTEAD =
  "checkpoints and IDX folders need the Node workbook (npm run train, or JupyterLab with tslab). " +
  "Here, train without checkpointDir and keep the model in memory, use loadDefaultDigits() for data, " +
  "or parse IDX bytes you fetched with parseIdx(bytes)";

/**
 * Node's `fs` or `path` in the browser: any member is a function that fails at once, naming
 * the call and what to use instead. Typed as what it is, not as Node's module, so this
 * project (src/browser/tsconfig.json) needs no Node types; the library is type-checked
 * against the Node side's exports.
 */
export type UnavailableModule = { readonly [member: string]: (...args: unknown[]) => never };

function unavailable(module: string): UnavailableModule {
  return new Proxy({} as UnavailableModule, {
    get: (_, name) => () => {
      throw new NotAvailableInBrowserError(`files on disk (${module}.${String(name)})`, FILES_INSTEAD);
    },
  });
}

export const fs = unavailable("fs");
export const path = unavailable("path");

/** Native TensorFlow's graph step writes one; it never runs in a browser. */
export function temporaryFolder(_prefix: string): string {
  throw new NotAvailableInBrowserError("temporary folders", FILES_INSTEAD);
}

export function gunzip(bytes: Uint8Array): Uint8Array {
  return gunzipSync(bytes);
}

/** A macrotask without setTimeout's 4 ms clamp for nested timers. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

export function isInteractiveTerminal(): boolean {
  return false;
}

/** No terminal here: a bar that draws nothing (a notebook shows progress with onStep and newDisplay). */
export function progressBar(_options: ProgressBarOptions): ProgressBar {
  return { start: () => undefined, update: () => undefined, stop: () => undefined };
}

export const instanceTag = "browser";

/** No other processes write here (checkpoints are files, which the browser has not). */
export function processAlive(_pid: number): boolean {
  return false;
}

/** No synchronous SHA-256 in a browser (crypto.subtle is async): script hashes are for exported pages. */
export function sha256Base64(_text: string): string | null {
  return null;
}

/** Checkpoints record data fingerprints; checkpoints are files, which the browser has not. */
export function sha256Hex(_parts: (string | Uint8Array)[]): string {
  throw new NotAvailableInBrowserError("content hashes of data (checkpoint fingerprints)", FILES_INSTEAD);
}

/** What a page may hold: the device's memory where the browser says, else a tab's usual 4 GiB. */
export function totalMemory(): number {
  const gib = (globalThis.navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  return (gib ?? 4) * 2 ** 30;
}
