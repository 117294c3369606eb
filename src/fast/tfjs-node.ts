/**
 * The parts of tfjs-node's backend that the native fast paths talk to directly (they are
 * not in tfjs's public types): its N-API binding to TensorFlow's C API, and the map from
 * tfjs tensors to the binding's tensor handles. NativeAdam (./native-adam.ts) runs single
 * TensorFlow ops through it; the graph step (./graph-step.ts) records the eager step's
 * kernel calls through it (./kernel-trace.ts) and runs a whole graph in one call.
 */
import * as tf from "@tensorflow/tfjs";
import { onTfjsNode } from "./backends";

/** One attribute of a TensorFlow op as the binding takes it (type: one of the TF_ATTR_* codes). */
export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** A tensor handle the binding returns: its id, shape and TF_DataType code. */
export interface TensorMetadata {
  id: number;
  shape: number[];
  dtype: number;
}

export interface TfBinding {
  TF_FLOAT: number;
  TF_INT32: number;
  TF_INT64: number;
  TF_BOOL: number;
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_SHAPE: number;
  TF_Version: string;
  /** A tensor handle holding a copy of `values`; returns its id. */
  createTensor(shape: number[], dtype: number, values: ArrayLike<number>): number;
  deleteTensor(id: number): void;
  tensorDataSync(id: number): Float32Array | Int32Array | Uint8Array;
  /** Runs one TensorFlow op eagerly (TFE_Execute). */
  executeOp(name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): TensorMetadata[];
  /** Loads a SavedModel folder into a new TF_Session; returns the session's id. */
  loadSavedModel(exportDir: string, tags: string): number;
  deleteSavedModel(id: number): void;
  /** One TF_SessionRun: feeds `inputNames` ("op:index", comma-separated), fetches `outputNames`. */
  runSavedModel(id: number, inputIds: number[], inputNames: string, outputNames: string): TensorMetadata[];
}

export interface NodeBackend {
  binding: TfBinding;
  /** The binding's handle ids of these tensors (data not yet handed to TensorFlow is uploaded first). */
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  /** A new tfjs tensor (already tracked by the engine) owning the binding's output handle. */
  createOutputTensor(metadata: TensorMetadata): tf.Tensor;
  refCount(dataId: tf.DataId): number;
  /** dataId → the binding's TensorFlow handle id (values: data not yet handed to TensorFlow). */
  tensorMap: { get(dataId: tf.DataId): { id: number; values: unknown } };
}

/** tfjs-node's backend, when it is the active one and has the binding these paths need; else null. */
export function nodeBackend(): NodeBackend | null {
  if (!onTfjsNode()) return null;
  const be = tf.backend() as unknown as Partial<NodeBackend>;
  const ok = typeof be.binding?.executeOp === "function" && typeof be.createOutputTensor === "function" && typeof be.getInputTensorIds === "function";
  return ok ? (be as NodeBackend) : null;
}

/** The binding's handle id of a tensor, uploading its data first if it is still in JavaScript. */
export function handleId(be: NodeBackend, t: tf.Tensor): number {
  return be.getInputTensorIds([t])[0];
}
