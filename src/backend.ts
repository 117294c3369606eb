/**
 * Picks the fastest tfjs backend that loads here: native TensorFlow (tfjs-node),
 * else WebAssembly, else plain JavaScript. tfjs-node is an optional dependency whose
 * own install downloads from a host many machines cannot reach, so its absence is
 * normal and never an error. Set VAE_BACKEND=tensorflow|wasm|cpu to force one.
 */
import * as tf from "@tensorflow/tfjs";

export type BackendName = "tensorflow" | "wasm" | "cpu";

export interface BackendInfo {
  name: BackendName;
  /** Why faster backends were skipped, for the one status line. */
  skipped: string[];
  /** Threads the backend computes with (wasm and cpu: what tfjs reports; native: TensorFlow's own pool). */
  threads?: number;
}

let chosen: BackendInfo | null = null;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0].slice(0, 160);
}

async function tryBackend(name: BackendName): Promise<void> {
  if (name === "tensorflow") {
    // TensorFlow's C++ logging prints an info banner (oneDNN, CPU features) on stderr at
    // load; level 1 keeps warnings and errors. An explicit setting by the user wins.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= "1";
    // Loading the addon registers the "tensorflow" backend as a side effect.
    require("@tensorflow/tfjs-node");
  } else if (name === "wasm") {
    require("@tensorflow/tfjs-backend-wasm");
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend("${name}") returned false`);
  await tf.ready();
}

/**
 * Selects and initializes the backend once per process; later calls return the same
 * answer. Prints one line saying which backend runs, unless `quiet`.
 */
export async function initBackend(options: { prefer?: BackendName; quiet?: boolean } = {}): Promise<BackendInfo> {
  if (chosen) return chosen;
  const forced = (options.prefer ?? process.env.VAE_BACKEND) as BackendName | undefined;
  if (forced && !["tensorflow", "wasm", "cpu"].includes(forced)) {
    throw new Error(`VAE_BACKEND must be one of tensorflow, wasm, cpu; got "${forced}"`);
  }
  const order: BackendName[] = forced ? [forced] : ["tensorflow", "wasm", "cpu"];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      await tryBackend(name);
      chosen = { name, skipped };
      if (name === "wasm") {
        const wasm = require("@tensorflow/tfjs-backend-wasm");
        chosen.threads = wasm.getThreadsCount?.();
      }
      if (!options.quiet) console.log(describeBackend(chosen));
      return chosen;
    } catch (error) {
      skipped.push(`${name}: ${firstLine(error)}`);
    }
  }
  throw new Error(`no tfjs backend could be initialized:\n  ${skipped.join("\n  ")}`);
}

export function describeBackend(info: BackendInfo): string {
  const threads = info.threads ? `, ${info.threads} thread${info.threads > 1 ? "s" : ""}` : "";
  const why = info.skipped.length ? ` (skipped ${info.skipped.map((s) => s.split(":")[0]).join(", ")})` : "";
  return `tfjs backend: ${info.name}${threads}${why}`;
}

/** The backend chosen by initBackend, or null before it ran. */
export function currentBackend(): BackendInfo | null {
  return chosen;
}
