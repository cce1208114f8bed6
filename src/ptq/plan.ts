/**
 * Where quantization goes in a float graph (QDQ placement, as onnxruntime's QDQ quantizer and
 * DESIGN.md describe):
 *  - compute layers (Conv, ConvTranspose, Gemm, MatMul with a constant weight; ConvTranspose's
 *    per-channel weight axis is 1, [Cin, Cout/group, k...]) quantize their weights, their
 *    activation input and their output; a Relu (or Clip) that is the layer output's only reader is
 *    fused, so the output point moves after it (integer executors clamp in the integer domain);
 *    a MatMul of two activations (attention) quantizes both inputs and its output the same way;
 *  - ops with an integer form of their own (Add, Mul, Concat, AveragePool, GlobalAveragePool,
 *    Sigmoid, HardSigmoid, HardSwish, Tanh, LeakyRelu, Relu, Clip, Softmax, Gelu, Erf,
 *    LayerNormalization) quantize inputs and output; a constant operand of Add/Mul (a learnable
 *    scale or shift) is quantized from its values; LayerNormalization's Scale and B stay float
 *    constants, which the integer step folds in;
 *  - Div, Sub and Pow of an activation by a one-element constant (attention's 1/sqrt(d), GELU's
 *    sqrt(2)) are functions of x alone: input and output quantized, the constant stays float (the
 *    integer executor builds the op's 256-entry table with it);
 *  - a Gather from a float table (an embedding) by run-time indices: its output is calibrated and
 *    the table quantized with the output's parameters, so the Gather moves 8-bit rows
 *    (`gatherTables`; quantize() widens that range to the whole table so no unseen row clips);
 *  - data-movement ops (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Identity, Dropout,
 *    MaxPool, GlobalMaxPool, Slice, Pad, Resize nearest and linear, DepthToSpace, SpaceToDepth) pass a
 *    quantized input through: their output is quantized with the input's own parameters
 *    (max, copies and reshapes commute with an affine quantizer; a linear interpolation is a convex
 *    combination, so it stays inside the input's range), so no requantization is needed. Cubic
 *    Resize overshoots its input and is not passed through.
 *  - ReduceMean gets no Q/DQ of its own: where its input and its readers are quantized (a mean over
 *    the spatial axes feeding a Conv, as in squeeze-excitation) the neighbours place both points and
 *    it lowers integer;
 *  - a decomposed LayerNorm over the last axis (ReduceMean -> Sub -> Pow -> ReduceMean -> Add eps ->
 *    Sqrt -> Div; src/ir/layernorm-pattern.ts) is one unit: Q/DQ on its input and its normalized
 *    output only (an 8-bit mean or variance inside would only add error), and it lowers to one
 *    integer LayerNorm step; gamma and beta follow as Mul/Add by parameters.
 */
import type { Graph, Model, Node } from '../ir/graph.js';
import type { TypeInfo } from '../ops/index.js';
import type { QuantizeOptions } from './options.js';
import { OnnxPtqError } from '../errors.js';
import { matchLayerNorm } from '../ir/layernorm-pattern.js';
import { SCALAR_FN } from '../runtime/integer/lower/unary-lut.js';

export const COMPUTE_OPS = new Set(['Conv', 'Gemm', 'MatMul', 'ConvTranspose']);
export const REQUANT_OPS = new Set([
  'Add',
  'Mul',
  'Concat',
  'AveragePool',
  'GlobalAveragePool',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'LeakyRelu',
  'Relu',
  'Clip',
  'Softmax',
  'Gelu',
  'Erf',
  'LayerNormalization',
]);
export const PASS_THROUGH_OPS = new Set([
  'Reshape',
  'Flatten',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Identity',
  'Dropout',
  'MaxPool',
  'GlobalMaxPool',
  'Slice',
  'Pad',
  'Resize',
  'DepthToSpace',
  'SpaceToDepth',
]);
const FUSABLE = new Set(['Relu', 'Clip']);

/** Whether `n` is x op c with c a float32 constant of one element and rank <= 1 (no broadcast to a higher rank). */
export function isScalarFn(g: Graph, n: Node): boolean {
  if (!SCALAR_FN.has(n.opType) || n.domain !== '' || n.inputs.length !== 2) return false;
  const c = g.initializers.get(n.inputs[1]!);
  return !!c && c.dtype === 'float32' && c.size === 1 && c.rank <= 1 && !g.initializers.has(n.inputs[0]!);
}
const BINARY_OPS = new Set(['Add', 'Mul']);

export interface QuantPlan {
  /** Compute layers whose weights are quantized. */
  layers: Node[];
  /** Activation tensors with parameters of their own, to calibrate. */
  calibrated: string[];
  /** Tensors quantized with another tensor's parameters (data-movement outputs): tensor -> source. */
  aliases: Map<string, string>;
  /** Nodes kept in float, with why. */
  keptFloat: { node: string; why: string }[];
  /**
   * Float constants read by ops with an integer form (Add/Mul by a learnable scale or shift that no
   * fold could absorb): each is quantized from its own values (8 bits, per tensor) and read through
   * a DequantizeLinear, so the op runs integer (qadd/qmul with a broadcast operand).
   */
  parameters: { tensor: string; node: Node }[];
  /** Gather tables (float constants read by run-time indices): quantized with the Gather output's parameters. */
  gatherTables: { tensor: string; node: Node }[];
}

function isFloatActivation(g: Graph, types: ReadonlyMap<string, TypeInfo>, name: string): boolean {
  if (!name || g.initializers.has(name)) return false;
  return types.get(name)?.dtype === 'float32';
}

function hasConstWeight(g: Graph, n: Node): boolean {
  const w = g.initializers.get(n.inputs[1]);
  return !!w && w.dtype === 'float32' && (n.opType !== 'MatMul' || w.rank === 2);
}

/**
 * The output point of a layer: after a sole Relu/Clip reader, else its own output. A Relu followed
 * by a sole Min with a constant bound (equalization's form of a ReLU6 crossed with per-channel
 * scales, src/passes/equalization.ts: Relu then Min(x, c), c per channel) fuses whole, like a Clip:
 * the chain sits between the layer and one QuantizeLinear, and the Min gets no Q/DQ of its own (an
 * integer executor clamps per channel in the integer domain). `fused` is the last fused node,
 * `fusedNodes` all of them.
 */
export function outputPoint(g: Graph, n: Node): { tensor: string; fused?: Node; fusedNodes: Node[] } {
  const out = n.outputs[0];
  const isOut = (t: string) => g.outputs.some((o) => o.name === t);
  const readers = g.consumersOf(out);
  if (readers.length === 1 && FUSABLE.has(readers[0].opType) && !isOut(out)) {
    const f = readers[0];
    // Clip fuses only with constant bounds (attributes, or initializer inputs).
    if (f.opType === 'Clip' && f.inputs.slice(1).some((i) => i && !g.initializers.has(i))) return { tensor: out, fusedNodes: [] };
    const next = g.consumersOf(f.outputs[0]);
    if (f.opType === 'Relu' && next.length === 1 && isConstMin(g, next[0], f.outputs[0]) && !isOut(f.outputs[0])) {
      return { tensor: next[0].outputs[0], fused: next[0], fusedNodes: [f, next[0]] };
    }
    return { tensor: f.outputs[0], fused: f, fusedNodes: [f] };
  }
  return { tensor: out, fusedNodes: [] };
}

/** Min(x, c) with c a float32 initializer: a (per-channel) upper clamp of x. */
function isConstMin(g: Graph, m: Node, x: string): boolean {
  if (m.opType !== 'Min' || m.domain !== '' || m.inputs.length !== 2) return false;
  const c = m.inputs[0] === x ? m.inputs[1] : m.inputs[1] === x ? m.inputs[0] : undefined;
  return c !== undefined && c !== x && g.initializers.get(c)?.dtype === 'float32';
}

export function planQuantization(model: Model, types: ReadonlyMap<string, TypeInfo>, opts: QuantizeOptions): QuantPlan {
  const g = model.graph;
  const order = g.topologicalOrder();
  const names = new Set(order.map((n) => n.name).filter(Boolean));
  for (const k of opts.keepFloat)
    if (!names.has(k)) throw new OnnxPtqError('INVALID_OPTION', `keepFloat names node '${k}', which is not in the graph`);
  const computes = order.filter((n) => COMPUTE_OPS.has(n.opType) && n.domain === '' && hasConstWeight(g, n));
  const keep = new Map<Node, string>();
  for (const n of order) if (n.name && opts.keepFloat.includes(n.name)) keep.set(n, 'keepFloat');
  if (opts.keepFirstLayerFloat && computes.length) keep.set(computes[0], 'keepFirstLayerFloat');
  if (opts.keepLastLayerFloat && computes.length) keep.set(computes[computes.length - 1], 'keepLastLayerFloat');

  const layers = computes.filter((n) => !keep.has(n));
  const marked = new Set<string>();
  const parameters: { tensor: string; node: Node }[] = [];
  const gatherTables: { tensor: string; node: Node }[] = [];
  const fusedAway = new Set<Node>();
  if (!opts.weightOnly) {
    for (const n of order) {
      if (keep.has(n) || n.domain !== '') continue;
      // A MatMul of two activations (attention's Q K^T and weights x V): both inputs and the output
      // point, as a layer without weights; it lowers to a qgemm with a run-time B.
      if (n.opType === 'MatMul' && !hasConstWeight(g, n) && n.inputs.every((i) => isFloatActivation(g, types, i))) {
        for (const i of n.inputs) marked.add(i);
        const op = outputPoint(g, n);
        for (const f of op.fusedNodes) fusedAway.add(f);
        marked.add(op.tensor);
        continue;
      }
      if (COMPUTE_OPS.has(n.opType)) {
        if (!computes.includes(n)) continue;
        for (const i of n.opType === 'MatMul' ? n.inputs.slice(0, 1) : n.inputs.slice(0, 1))
          if (isFloatActivation(g, types, i)) marked.add(i);
        const op = outputPoint(g, n);
        for (const f of op.fusedNodes) fusedAway.add(f);
        marked.add(op.tensor);
      }
    }
    // A decomposed LayerNorm (src/ir/layernorm-pattern.ts) is one unit: Q/DQ on its input and its
    // normalized output, none inside (its eps Add is no quantized op), so it lowers to one integer step.
    for (const n of order) {
      if (keep.has(n) || n.opType !== 'ReduceMean' || n.domain !== '') continue;
      const ln = matchLayerNorm(g, n, types.get(n.inputs[0]!)?.shape?.length);
      if (!ln || ln.nodes.some((u) => keep.has(u))) continue;
      for (const u of ln.nodes) fusedAway.add(u);
      if (isFloatActivation(g, types, ln.x)) marked.add(ln.x);
      if (isFloatActivation(g, types, ln.output)) marked.add(ln.output);
    }
    for (const n of order) {
      // An embedding: Gather(table, ids) with a float table and indices computed at run time.
      const table = n.opType === 'Gather' && n.domain === '' && !keep.has(n) ? g.initializers.get(n.inputs[0]!) : undefined;
      if (table?.dtype === 'float32' && !g.initializers.has(n.inputs[1]!) && isFloatActivation(g, types, n.outputs[0]!)) {
        if (!gatherTables.some((t) => t.tensor === n.inputs[0])) gatherTables.push({ tensor: n.inputs[0]!, node: n });
        marked.add(n.outputs[0]!);
      }
    }
    for (const n of order) {
      if (keep.has(n) || fusedAway.has(n) || !isScalarFn(g, n)) continue;
      if (isFloatActivation(g, types, n.inputs[0]!) && isFloatActivation(g, types, n.outputs[0]!)) {
        marked.add(n.inputs[0]!);
        marked.add(n.outputs[0]!);
      }
    }
    for (const n of order) {
      if (keep.has(n) || n.domain !== '' || !REQUANT_OPS.has(n.opType) || fusedAway.has(n)) continue;
      for (const i of n.inputs) if (isFloatActivation(g, types, i)) marked.add(i);
      if (isFloatActivation(g, types, n.outputs[0])) marked.add(n.outputs[0]);
      if (BINARY_OPS.has(n.opType) && n.inputs.some((i) => isFloatActivation(g, types, i))) {
        for (const i of n.inputs) if (g.initializers.get(i)?.dtype === 'float32') parameters.push({ tensor: i, node: n });
      }
    }
  }
  // Data-movement outputs inherit their input's parameters, in graph order so chains resolve.
  const aliases = new Map<string, string>();
  const root = (t: string): string => aliases.get(t) ?? t;
  for (const n of order) {
    if (keep.has(n) || !PASS_THROUGH_OPS.has(n.opType) || n.domain !== '') continue;
    if (n.opType === 'Resize' && !['nearest', 'linear'].includes(String(n.attributes.get('mode')?.value ?? 'nearest'))) continue;
    const x = n.inputs[0],
      y = n.outputs[0];
    if ((marked.has(x) || aliases.has(x)) && isFloatActivation(g, types, y)) aliases.set(y, root(x));
  }
  for (const a of aliases.keys()) marked.delete(a);
  return {
    layers,
    calibrated: order
      .flatMap((n) => n.outputs)
      .filter((t) => marked.has(t))
      .concat(g.inputs.map((i) => i.name).filter((t) => marked.has(t))),
    aliases,
    keptFloat: [...keep].map(([n, why]) => ({ node: n.name || n.outputs[0], why })),
    parameters,
    gatherTables,
  };
}
