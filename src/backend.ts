/**
 * Picks the fastest tfjs backend that loads here and prints one line saying which.
 * The candidates come from the host (src/platform): on Node native TensorFlow
 * (tfjs-node), else WebAssembly, else plain JavaScript; in a browser WebGPU or WebGL
 * where they initialize and pass a self-check, else WebAssembly. tfjs-node is an
 * optional dependency whose own install downloads from a host many machines cannot
 * reach, so a missing backend is normal and never an error. Force one with
 * `initBackend({ prefer })` or, on Node, VAE_BACKEND=tensorflow|wasm|cpu.
 */
import * as tf from "@tensorflow/tfjs";
import { ArgumentError } from "./errors";
import { graphStepSetting } from "./fast/graph-step";
import { backendOverride, backends } from "./platform";

export type BackendName = "tensorflow" | "wasm" | "cpu" | "webgpu" | "webgl";

export interface BackendInfo {
  name: BackendName;
  /** Why faster backends were skipped, for the one status line. */
  skipped: string[];
  /** Threads the backend computes with (wasm and cpu: what tfjs reports; native: TensorFlow's own pool). */
  threads?: number;
  /** The device it computes on, where the backend says (WebGPU: the adapter, e.g. "nvidia ampere"). */
  device?: string;
  /** On tfjs-node: whether the trainer runs its step as one graph (src/fast/graph-step.ts) or eagerly, and why eagerly. */
  step?: { kind: "graph" | "eager"; why?: string };
}

let chosen: BackendInfo | null = null;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].slice(0, 160);
}

/**
 * Selects and initializes the backend once per process (or worker); later calls return
 * the same answer. Prints one line saying which backend runs, unless `quiet`.
 */
export async function initBackend(options: { prefer?: BackendName; quiet?: boolean } = {}): Promise<BackendInfo> {
  if (chosen) return chosen;
  const names = backends.map((b) => b.name);
  const forced = options.prefer ?? backendOverride();
  if (forced !== undefined && !names.includes(forced)) {
    const what = options.prefer !== undefined ? "prefer" : "VAE_BACKEND";
    throw new ArgumentError(what, `must be one of ${names.join(", ")} here; got "${forced}"`);
  }
  const order = forced ? backends.filter((b) => b.name === forced) : backends;
  const skipped: string[] = [];
  for (const candidate of order) {
    try {
      await candidate.load({ forced: forced !== undefined });
      const ok = await tf.setBackend(candidate.name);
      if (!ok) throw new Error(`tf.setBackend("${candidate.name}") returned false`);
      await tf.ready();
      await candidate.check?.();
      chosen = { name: candidate.name as BackendName, skipped };
      const threads = candidate.threads?.();
      if (threads) chosen.threads = threads;
      const device = candidate.device?.();
      if (device) chosen.device = device;
      if (candidate.name === "tensorflow") {
        const graph = graphStepSetting();
        chosen.step = graph.use ? { kind: "graph" } : { kind: "eager", why: graph.why };
      }
      if (!options.quiet) console.log(describeBackend(chosen));
      return chosen;
    } catch (error) {
      skipped.push(`${candidate.name}: ${firstLine(error)}`);
    }
  }
  throw new Error(`no tfjs backend could be initialized:\n  ${skipped.join("\n  ")}`);
}

export function describeBackend(info: BackendInfo): string {
  const threads = info.threads ? `, ${info.threads} thread${info.threads > 1 ? "s" : ""}` : "";
  const device = info.device ? ` on ${info.device}` : "";
  const step = info.step ? ` (${info.step.kind} step${info.step.why ? `: ${info.step.why}` : ""})` : "";
  const why = info.skipped.length ? ` (skipped ${info.skipped.map((s) => s.split(":")[0]).join(", ")})` : "";
  return `tfjs backend: ${info.name}${device}${step}${threads}${why}`;
}
