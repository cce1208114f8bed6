// Decoded ModelProto objects <-> the IR (Model, Graph, Node). No I/O here.
import protobuf from 'protobufjs';
import { OnnxPtqError, check } from '../errors.js';
import { Graph, type Attribute, type Dim, type Model, type Node, type ValueInfo } from '../ir/graph.js';
import { dataTypeFromOnnx, onnxDataType } from '../tensor.js';
import { toNumber, type Msg } from './proto.js';
import { tensorFromProto, tensorToProto, type TensorReadOptions } from './tensor-proto.js';

const utf8 = new TextDecoder();

/** A JS number for an int64 field; values past 2^53 (INT64_MAX sentinels in Slice) go through Long exactly. */
function int64Field(v: number): number | protobuf.Long {
  if (Number.isSafeInteger(v)) return v;
  const b = v >= 2 ** 63 ? 9223372036854775807n : v <= -(2 ** 63) ? -9223372036854775808n : BigInt(Math.trunc(v));
  return (protobuf.util.Long as unknown as { fromString(s: string): protobuf.Long }).fromString(b.toString());
}
const enc = new TextEncoder();

export function modelFromProto(m: Msg, opts: TensorReadOptions = {}): Model {
  const ir = toNumber(m.ir_version ?? 0);
  check(ir > 0, 'INVALID_MODEL', `${opts.what ?? 'model'}: no ir_version; not an ONNX model`);
  check(m.graph, 'INVALID_MODEL', `${opts.what ?? 'model'}: no graph; not an ONNX model`);
  const opsetImports = ((m.opset_import ?? []) as Msg[]).map((o) => ({
    domain: (o.domain as string) ?? '',
    version: toNumber(o.version),
  }));
  // IR version 1-2 files predate opset_import and mean opset 1.
  if (opsetImports.length === 0) opsetImports.push({ domain: '', version: 1 });
  const metadata = new Map<string, string>();
  for (const e of (m.metadata_props ?? []) as Msg[]) metadata.set(e.key ?? '', e.value ?? '');
  const extra: Model['extra'] = {};
  if (m.functions?.length) extra.functions = m.functions;
  if (m.training_info?.length) extra.trainingInfo = m.training_info;
  return {
    irVersion: ir,
    opsetImports,
    producerName: m.producer_name ?? '',
    producerVersion: m.producer_version ?? '',
    domain: m.domain ?? '',
    modelVersion: toNumber(m.model_version ?? 0),
    docString: m.doc_string ?? '',
    metadata,
    graph: graphFromProto(m.graph, opts),
    extra,
  };
}

export function graphFromProto(g: Msg, opts: TensorReadOptions): Graph {
  const graph = new Graph({ name: g.name ?? '', docString: g.doc_string || undefined });
  for (const tp of (g.initializer ?? []) as Msg[]) {
    check(tp.name, 'INVALID_MODEL', `graph '${graph.name}' has an initializer without a name`);
    check(!graph.initializers.has(tp.name), 'INVALID_MODEL', `initializer '${tp.name}' is defined twice`);
    graph.initializers.set(tp.name, tensorFromProto(tp, opts));
  }
  check(
    !(g.sparse_initializer?.length > 0),
    'UNSUPPORTED_OP',
    `graph '${graph.name}' has sparse initializers, which onnx-ptq does not support`,
  );
  graph.inputs = ((g.input ?? []) as Msg[]).map(valueInfoFromProto);
  graph.outputs = ((g.output ?? []) as Msg[]).map(valueInfoFromProto);
  for (const vi of (g.value_info ?? []) as Msg[]) {
    const v = valueInfoFromProto(vi);
    graph.valueInfo.set(v.name, v);
  }
  graph.nodes = ((g.node ?? []) as Msg[]).map((n, i) => nodeFromProto(n, i, opts));
  return graph;
}

function valueInfoFromProto(vi: Msg): ValueInfo {
  const v: ValueInfo = { name: vi.name ?? '' };
  const tt = vi.type?.tensor_type;
  if (tt) {
    v.dtype = dataTypeFromOnnx(toNumber(tt.elem_type ?? 0));
    if (tt.shape) {
      v.shape = ((tt.shape.dim ?? []) as Msg[]).map((d): Dim => {
        if (d.value === 'dim_value') return toNumber(d.dim_value);
        if (d.value === 'dim_param' && d.dim_param) return d.dim_param as string;
        return null;
      });
    }
  }
  if (vi.doc_string) v.docString = vi.doc_string;
  return v;
}

function nodeFromProto(n: Msg, index: number, opts: TensorReadOptions): Node {
  const node: Node = {
    name: n.name ?? '',
    opType: n.op_type ?? '',
    domain: n.domain ?? '',
    inputs: [...((n.input ?? []) as string[])],
    outputs: [...((n.output ?? []) as string[])],
    attributes: new Map(),
  };
  check(node.opType, 'INVALID_MODEL', `node #${index} ('${node.name}') has no op_type`);
  if (n.doc_string) node.docString = n.doc_string;
  for (const a of (n.attribute ?? []) as Msg[]) {
    node.attributes.set(a.name, attributeFromProto(a, node, opts));
  }
  return node;
}

function attributeFromProto(a: Msg, node: Node, opts: TensorReadOptions): Attribute {
  if (a.ref_attr_name) return { type: 'opaque', value: a };
  const type = toNumber(a.type ?? 0);
  const what = { ...opts, what: `attribute '${a.name}' of node '${node.name || node.opType}'` };
  switch (type) {
    case 1:
      return { type: 'float', value: a.f ?? 0 };
    case 2:
      return { type: 'int', value: toNumber(a.i ?? 0) };
    case 3:
      return { type: 'string', value: utf8.decode(a.s ?? new Uint8Array()) };
    case 4:
      return { type: 'tensor', value: tensorFromProto(a.t, what) };
    case 5:
      return { type: 'graph', value: graphFromProto(a.g, opts) };
    case 6:
      return { type: 'floats', value: [...((a.floats ?? []) as number[])] };
    case 7:
      return { type: 'ints', value: ((a.ints ?? []) as unknown[]).map(toNumber) };
    case 8:
      return { type: 'strings', value: ((a.strings ?? []) as Uint8Array[]).map((s) => utf8.decode(s)) };
    case 9:
      return { type: 'tensors', value: ((a.tensors ?? []) as Msg[]).map((t) => tensorFromProto(t, what)) };
    case 10:
      return { type: 'graphs', value: ((a.graphs ?? []) as Msg[]).map((g) => graphFromProto(g, opts)) };
    case 0:
      throw new OnnxPtqError('INVALID_MODEL', `attribute '${a.name}' of node '${node.name || node.opType}' has no type`);
    default:
      return { type: 'opaque', value: a };
  }
}

// ---- IR -> protobuf objects ----

export function modelToProto(model: Model): Msg {
  const m: Msg = {
    ir_version: model.irVersion,
    opset_import: model.opsetImports.map((o) => ({ domain: o.domain, version: o.version })),
    producer_name: model.producerName,
    producer_version: model.producerVersion,
    domain: model.domain,
    model_version: model.modelVersion,
    doc_string: model.docString,
    graph: graphToProto(model.graph),
    metadata_props: [...model.metadata].map(([key, value]) => ({ key, value })),
  };
  if (model.extra?.functions) m.functions = model.extra.functions;
  if (model.extra?.trainingInfo) m.training_info = model.extra.trainingInfo;
  return m;
}

/** Initializers are written only when something reads them (a node, a subgraph, a graph output) or they are graph inputs: onnxruntime warns about each unread one, and folded-away weights would otherwise double the file. */
export function graphToProto(g: Graph): Msg {
  const read = g.readNames();
  for (const v of g.inputs) read.add(v.name);
  return {
    name: g.name,
    doc_string: g.docString ?? '',
    node: g.nodes.map(nodeToProto),
    initializer: [...g.initializers].filter(([name]) => read.has(name)).map(([name, t]) => tensorToProto(t, name)),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    value_info: [...g.valueInfo.values()].map(valueInfoToProto),
  };
}

function valueInfoToProto(v: ValueInfo): Msg {
  const out: Msg = { name: v.name };
  if (v.dtype !== undefined) {
    const tt: Msg = { elem_type: onnxDataType(v.dtype) };
    if (v.shape)
      tt.shape = {
        dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {})),
      };
    out.type = { tensor_type: tt };
  }
  if (v.docString) out.doc_string = v.docString;
  return out;
}

function nodeToProto(n: Node): Msg {
  const out: Msg = {
    name: n.name,
    op_type: n.opType,
    domain: n.domain,
    input: n.inputs,
    output: n.outputs,
    attribute: [...n.attributes].map(([name, a]) => attributeToProto(name, a)),
  };
  if (n.docString) out.doc_string = n.docString;
  return out;
}

function attributeToProto(name: string, a: Attribute): Msg {
  switch (a.type) {
    case 'float':
      return { name, type: 1, f: a.value };
    case 'int':
      return { name, type: 2, i: int64Field(a.value) };
    case 'string':
      return { name, type: 3, s: enc.encode(a.value) };
    case 'tensor':
      return { name, type: 4, t: tensorToProto(a.value) };
    case 'graph':
      return { name, type: 5, g: graphToProto(a.value) };
    case 'floats':
      return { name, type: 6, floats: a.value };
    case 'ints':
      return { name, type: 7, ints: a.value.map(int64Field) };
    case 'strings':
      return { name, type: 8, strings: a.value.map((s) => enc.encode(s)) };
    case 'tensors':
      return { name, type: 9, tensors: a.value.map((t) => tensorToProto(t)) };
    case 'graphs':
      return { name, type: 10, graphs: a.value.map(graphToProto) };
    case 'opaque':
      return a.value as Msg;
  }
}
