/**
 * A TensorFlow graph written from TypeScript as a SavedModel (`saved_model.pb`), for the
 * graph step (./graph-step.ts) to load into a TF_Session through tfjs-node.
 *
 * The file is a protocol buffer. Only a handful of TensorFlow's messages and fields are
 * needed, so this module writes the wire format itself (varints, length-delimited fields,
 * fixed32 floats) rather than depending on a protobuf runtime: the library also runs in
 * browsers, where no such runtime is bundled. The field numbers are those of
 * tensorflow/core/protobuf/{saved_model,meta_graph}.proto and
 * tensorflow/core/framework/{graph,node_def,attr_value,tensor,tensor_shape}.proto:
 *
 *   SavedModel     1 saved_model_schema_version   2 meta_graphs
 *   MetaGraphDef   1 meta_info_def (4 tags)       2 graph_def
 *   GraphDef       1 node                         4 versions (1 producer)
 *   NodeDef        1 name  2 op  3 input  5 attr (map<string, AttrValue>)
 *   AttrValue      1 list  2 s  3 i  4 f  5 b  6 type  7 shape  8 tensor
 *   TensorShape    2 dim (1 size)                 3 unknown_rank
 *   TensorProto    1 dtype  2 tensor_shape  4 tensor_content
 *
 * No variables/ folder is written: TensorFlow's loader skips the restore when
 * variables/variables.index is missing, and the graph step fills its variables itself.
 */

/** TensorFlow's DataType codes (the same numbers as the C API's TF_DataType). */
export const DT = { float: 1, int32: 3, int64: 9, bool: 10, resource: 20 } as const;

/**
 * The graph version the file declares. TensorFlow refuses a GraphDef whose producer is
 * older than its minimum (0) and rejects ops deprecated at or below the producer; the ops
 * used here are deprecated in no version, so any recent number works with every wheel.
 */
const GRAPH_PRODUCER = 1087;

export interface TensorValue {
  dtype: number;
  shape: number[];
  /** The values, row-major, in TensorFlow's layout for `dtype` (little-endian). */
  data: ArrayBufferView;
}

export type AttrValue =
  | { s: string }
  | { i: number }
  | { f: number }
  | { b: boolean }
  | { type: number }
  /** null: unknown rank; −1 in a dimension: unknown size. */
  | { shape: number[] | null }
  | { tensor: TensorValue }
  | { list: { s?: string[]; i?: number[]; f?: number[]; b?: boolean[]; type?: number[]; shape?: (number[] | null)[] } };

export interface NodeDef {
  name: string;
  op: string;
  /** "node" or "node:k" for data inputs, "^node" for control inputs (after the data inputs). */
  inputs: string[];
  attrs: Record<string, AttrValue>;
}

// ---------------------------------------------------------------- wire format

const utf8 = new TextEncoder();

function varint(value: number | bigint): number[] {
  // Negative int64 values (unknown dimensions) take ten bytes of two's complement.
  let n = typeof value === "bigint" || value < 0 ? BigInt.asUintN(64, BigInt(value)) : value;
  const out: number[] = [];
  if (typeof n === "bigint") {
    while (n >= 128n) {
      out.push(Number(n & 127n) | 128);
      n >>= 7n;
    }
    out.push(Number(n));
    return out;
  }
  if (!Number.isSafeInteger(n)) throw new RangeError(`varint: ${n} is not a safe integer`);
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const key = (field: number, wire: 0 | 2 | 5) => varint(field * 8 + wire);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const fieldVarint = (field: number, value: number | bigint | boolean) =>
  Uint8Array.from([...key(field, 0), ...varint(typeof value === "boolean" ? Number(value) : value)]);
const fieldBytes = (field: number, bytes: Uint8Array) => concat([Uint8Array.from([...key(field, 2), ...varint(bytes.length)]), bytes]);
const fieldString = (field: number, text: string) => fieldBytes(field, utf8.encode(text));
const fieldMessage = (field: number, parts: Uint8Array[]) => fieldBytes(field, concat(parts));

function fieldFloat(field: number, value: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = field * 8 + 5;
  new DataView(out.buffer).setFloat32(1, value, true);
  return out;
}

const packedVarints = (field: number, values: number[]) => fieldBytes(field, Uint8Array.from(values.flatMap((v) => varint(v))));

function packedFloats(field: number, values: number[]): Uint8Array {
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setFloat32(4 * i, v, true);
  });
  return fieldBytes(field, bytes);
}

// ---------------------------------------------------------------- messages

function tensorShape(dims: number[] | null): Uint8Array[] {
  if (dims === null) return [fieldVarint(3, true)];
  return dims.map((d) => fieldMessage(2, [fieldVarint(1, d)]));
}

function tensorProto(t: TensorValue): Uint8Array[] {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return [fieldVarint(1, t.dtype), fieldMessage(2, tensorShape(t.shape)), fieldBytes(4, bytes)];
}

function attrValue(a: AttrValue): Uint8Array {
  if ("s" in a) return fieldString(2, a.s);
  if ("i" in a) return fieldVarint(3, a.i);
  if ("f" in a) return fieldFloat(4, a.f);
  if ("b" in a) return fieldVarint(5, a.b);
  if ("type" in a) return fieldVarint(6, a.type);
  if ("shape" in a) return fieldMessage(7, tensorShape(a.shape));
  if ("tensor" in a) return fieldMessage(8, tensorProto(a.tensor));
  const l = a.list;
  return fieldMessage(1, [
    ...(l.s ?? []).map((s) => fieldString(2, s)),
    ...(l.i?.length ? [packedVarints(3, l.i)] : []),
    ...(l.f?.length ? [packedFloats(4, l.f)] : []),
    ...(l.b?.length ? [packedVarints(5, l.b.map(Number))] : []),
    ...(l.type?.length ? [packedVarints(6, l.type)] : []),
    ...(l.shape ?? []).map((s) => fieldMessage(7, tensorShape(s))),
  ]);
}

function nodeDef(n: NodeDef): Uint8Array[] {
  const attrs = Object.keys(n.attrs)
    .sort()
    .map((k) => fieldMessage(5, [fieldString(1, k), fieldBytes(2, attrValue(n.attrs[k]))]));
  return [fieldString(1, n.name), fieldString(2, n.op), ...n.inputs.map((i) => fieldString(3, i)), ...attrs];
}

/** The bytes of a saved_model.pb holding one MetaGraphDef, tagged `tag`, with these nodes. */
export function encodeSavedModel(nodes: NodeDef[], tag: string): Uint8Array {
  const graph = [...nodes.map((n) => fieldMessage(1, nodeDef(n))), fieldMessage(4, [fieldVarint(1, GRAPH_PRODUCER)])];
  const metaGraph = [fieldMessage(1, [fieldString(4, tag)]), fieldMessage(2, graph)];
  return concat([fieldVarint(1, 1), fieldMessage(2, metaGraph)]);
}

// ---------------------------------------------------------------- building a graph

/** Collects the nodes of one graph under unique names. */
export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  private readonly taken = new Set<string>();

  /** Adds a node and returns its name; its k-th output is `${name}:${k}`. Names are made unique. */
  add(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, name: string = op): string {
    let unique = name;
    for (let k = 1; this.taken.has(unique); k++) unique = `${name}_${k}`;
    this.taken.add(unique);
    this.nodes.push({ name: unique, op, inputs, attrs });
    return unique;
  }

  constant(value: TensorValue, name = "Const"): string {
    return this.add("Const", [], { dtype: { type: value.dtype }, value: { tensor: value } }, name);
  }

  placeholder(dtype: number, shape: number[] | null, name: string): string {
    return this.add("Placeholder", [], { dtype: { type: dtype }, shape: { shape } }, name);
  }

  savedModel(tag: string): Uint8Array {
    return encodeSavedModel(this.nodes, tag);
  }
}
