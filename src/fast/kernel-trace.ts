/**
 * What TensorFlow ops tfjs-node runs while a function executes: every op the function's
 * tfjs kernels hand to TensorFlow (the binding's executeOp: name, attributes, inputs,
 * output shapes), every tensor uploaded from JavaScript meanwhile (createTensor: its
 * values, which become constants of a graph), and every tensor that already existed
 * (external: a variable, the batch). The graph step (./graph-step.ts) turns such a trace
 * of the eager training step into a graph, so the graph runs the very kernels the eager
 * step runs, autodiff included.
 *
 * A function that reads a tensor back into JavaScript mid-way computes something in
 * JavaScript from data, which a graph of TensorFlow ops cannot replay: tracing it fails.
 */
import type { NodeBackend, OpAttr, TensorMetadata, TfBinding } from "./tfjs-node";

/** Where a traced op's input comes from. */
export type TraceRef =
  | { kind: "op"; op: number; output: number }
  | { kind: "constant"; index: number }
  /** A handle that existed before the trace (the binding's tensor id). */
  | { kind: "external"; id: number };

export interface TracedOp {
  op: string;
  attrs: OpAttr[];
  inputs: TraceRef[];
  outputs: { shape: number[]; dtype: number }[];
}

export interface TracedConstant {
  dtype: number;
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

export class KernelTrace {
  readonly ops: TracedOp[] = [];
  readonly constants: TracedConstant[] = [];
  /** The latest producer of each handle id seen in the trace (the binding may reuse freed ids). */
  private readonly producers = new Map<number, TraceRef>();

  /** Where the handle `id` came from, as of the end of the trace. */
  refOf(id: number): TraceRef {
    return this.producers.get(id) ?? { kind: "external", id };
  }

  /** @internal */
  recordOp(op: string, attrs: OpAttr[], inputIds: number[], outputs: TensorMetadata[]): void {
    const index = this.ops.length;
    this.ops.push({ op, attrs, inputs: inputIds.map((id) => this.refOf(id)), outputs: outputs.map((o) => ({ shape: o.shape.slice(), dtype: o.dtype })) });
    outputs.forEach((o, output) => {
      this.producers.set(o.id, { kind: "op", op: index, output });
    });
  }

  /** @internal */
  recordConstant(id: number, dtype: number, shape: number[], values: ArrayLike<number>): void {
    const copy = (values as Float32Array).slice();
    this.producers.set(id, { kind: "constant", index: this.constants.length });
    this.constants.push({ dtype, shape: shape.slice(), values: copy });
  }
}

export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TraceError";
  }
}

/**
 * Runs `fn` on tfjs-node, recording the TensorFlow ops it runs and the tensors it uploads.
 * The ops still run (eagerly), so `fn` returns its usual result.
 */
export function traceKernels<T>(be: NodeBackend, fn: () => T): { result: T; trace: KernelTrace } {
  const trace = new KernelTrace();
  const original = be.binding;
  // The binding's methods are read-only properties: a stand-in object shadows the three
  // that matter and inherits everything else (the other methods, the TF_* constants).
  const recording: TfBinding = Object.create(original, {
    executeOp: {
      value: (name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number) => {
        const outputs = original.executeOp(name, attrs, inputIds, numOutputs);
        trace.recordOp(name, attrs, inputIds, outputs);
        return outputs;
      },
    },
    createTensor: {
      value: (shape: number[], dtype: number, values: ArrayLike<number>) => {
        const id = original.createTensor(shape, dtype, values);
        trace.recordConstant(id, dtype, shape, values);
        return id;
      },
    },
    tensorDataSync: {
      value: () => {
        throw new TraceError("the traced step reads a tensor back into JavaScript mid-way; a graph cannot replay that");
      },
    },
  });
  be.binding = recording;
  try {
    return { result: fn(), trace };
  } finally {
    be.binding = original;
  }
}
