/**
 * Reading a QDQ model as a map of its quantized layers, and switching quantization off layer by
 * layer (for layerwise sensitivity): a disabled layer's weight DequantizeLinear becomes a float
 * initializer holding the dequantized weight, and a disabled activation Q/DQ pair becomes an Identity.
 * Names: quantize() keeps the float model's value names (the DequantizeLinear of activation t writes
 * t), so QDQ tensors map back to float tensors by name.
 */
import { OnnxPtqError } from '../errors.js';
import { makeNode, type Graph, type Model, type Node } from '../ir/graph.js';
import { cloneModel } from '../runtime/session.js';
import { Tensor } from '../tensor.js';
import { intAttr } from '../passes/pass.js';
import { inferAndFold } from '../ir/infer.js';
import { foldIntoLayers } from '../passes/fold-into-layers.js';
import { EqualizationPass } from '../passes/equalization.js';

export const LAYER_OPS = new Set(['Conv', 'Gemm', 'MatMul', 'ConvTranspose']);

export interface QdqLayer {
  /** Node name (or its output when unnamed). */
  name: string;
  op: string;
  /** The layer's output as the float model names it (after the output DQ, when quantized). */
  output: string;
  /** The activation feeding it (float name). */
  input: string;
  /** The weight's DequantizeLinear node, when the weight is quantized. */
  weightDq?: Node;
  /** Activation Q/DQ pairs that belong to this layer (its input and output). */
  activationPairs: { q: Node; dq: Node }[];
}

function constOf(g: Graph, name: string | undefined): Tensor | undefined {
  return name ? g.initializers.get(name) : undefined;
}

/** The Q/DQ pair whose DequantizeLinear writes `t`, if any. */
function pairWriting(g: Graph, t: string): { q: Node; dq: Node } | undefined {
  const dq = g.producerOf(t);
  if (dq?.opType !== 'DequantizeLinear') return undefined;
  const q = g.producerOf(dq.inputs[0]);
  if (q?.opType !== 'QuantizeLinear') return undefined;
  return { q, dq };
}

/** The layers of a QDQ model: Conv/Gemm/MatMul whose weight is a DequantizeLinear of a constant. */
export function qdqLayers(model: Model): QdqLayer[] {
  const g = model.graph;
  const out: QdqLayer[] = [];
  for (const n of g.nodes) {
    if (!LAYER_OPS.has(n.opType) || n.domain) continue;
    const wp = g.producerOf(n.inputs[1]);
    const weightDq = wp && wp.opType === 'DequantizeLinear' && constOf(g, wp.inputs[0]) ? wp : undefined;
    // The layer writes `<t>_float` and the output DQ writes t when its output is quantized.
    let output = n.outputs[0];
    const readers = g.consumersOf(output);
    if (readers.length === 1 && readers[0].opType === 'QuantizeLinear') {
      const dq = g.consumersOf(readers[0].outputs[0]).find((d) => d.opType === 'DequantizeLinear');
      if (dq) output = dq.outputs[0];
    }
    const pairs: { q: Node; dq: Node }[] = [];
    const inPair = pairWriting(g, n.inputs[0]);
    if (inPair) pairs.push(inPair);
    const outPair = pairWriting(g, output);
    if (outPair) pairs.push(outPair);
    if (!weightDq && pairs.length === 0) continue;
    out.push({ name: n.name || n.outputs[0], op: n.opType, output, input: n.inputs[0], weightDq, activationPairs: pairs });
  }
  return out;
}

/** An activation DequantizeLinear that belongs to no layer's input or output pair. */
function isUnownedActivation(g: Graph, dq: Node, owned: ReadonlySet<Node>): boolean {
  return (
    dq.opType === 'DequantizeLinear' &&
    !owned.has(dq) &&
    !constOf(g, dq.inputs[0]) &&
    g.producerOf(dq.inputs[0])?.opType === 'QuantizeLinear'
  );
}

function ownedDqs(layers: readonly QdqLayer[]): Set<Node> {
  const owned = new Set<Node>();
  for (const l of layers) for (const p of l.activationPairs) owned.add(p.dq);
  return owned;
}

/**
 * The activation Q/DQ pairs that belong to no layer (outputs of Add, Mul, Clip, pooling, a
 * decomposed HardSwish's steps...), named by the tensor their DequantizeLinear writes.
 */
export function unownedActivations(model: Model): string[] {
  const g = model.graph;
  const owned = ownedDqs(qdqLayers(model));
  return g.nodes.filter((dq) => isUnownedActivation(g, dq, owned)).map((dq) => dq.outputs[0]);
}

/** The quantize() options a QDQ model records in its onnx_ptq.options metadata ({} when absent or unreadable). */
export function recordedOptions(model: Model | undefined): Record<string, unknown> {
  try {
    const v = JSON.parse(model?.metadata.get('onnx_ptq.options') ?? '{}') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function dequantize(g: Graph, dq: Node): Tensor {
  const q = constOf(g, dq.inputs[0])!;
  const s = constOf(g, dq.inputs[1]);
  const z = constOf(g, dq.inputs[2]);
  if (!s) throw new OnnxPtqError('INVALID_MODEL', `DequantizeLinear '${dq.name}': the scale is not a constant`);
  let axis = intAttr(dq, 'axis', 1);
  if (axis < 0) axis += q.dims.length;
  const sd = s.data as ArrayLike<number>,
    zd = z ? (z.data as ArrayLike<number>) : undefined;
  const qd = q.data as ArrayLike<number>;
  const out = new Float32Array(q.size);
  const perAxis = sd.length > 1;
  let inner = 1;
  if (perAxis) for (let i = axis + 1; i < q.dims.length; i++) inner *= q.dims[i];
  const ch = perAxis ? q.dims[axis] : 1;
  for (let i = 0; i < out.length; i++) {
    const c = perAxis ? Math.floor(i / inner) % ch : 0;
    out[i] = (Number(qd[i]) - (zd ? Number(zd[perAxis ? c : 0]) : 0)) * sd[c];
  }
  return new Tensor('float32', out, [...q.dims]);
}

/**
 * A copy of the QDQ model with quantization kept only on the layers named in `enabled` (their
 * weight and their input/output activations); everything else runs in float.
 */
export function keepOnlyLayers(
  model: Model,
  enabled: ReadonlySet<string>,
  floatWeights?: ReadonlyMap<string, FloatLayer>,
  /**
   * The Q/DQ pairs that belong to no layer (unownedActivations): true keeps them all, a set keeps
   * those whose DequantizeLinear writes a tensor in it. Default false (none).
   */
  keepUnowned: boolean | ReadonlySet<string> = false,
): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const layers = qdqLayers(m);
  const keepNodes = new Set<Node>();
  const floatOf = new Map<string, Tensor>();
  for (const l of layers) {
    if (!enabled.has(l.name)) {
      // A disabled layer gets its float weight and bias back (the dequantized ones are rounded).
      const fw = floatWeights?.get(l.name);
      const node = g.nodes.find((n) => (n.name || n.outputs[0]) === l.name)!;
      if (fw && l.weightDq && fw.weight.size === g.initializers.get(l.weightDq.inputs[0])!.size)
        floatOf.set(l.weightDq.outputs[0], fw.weight);
      const bdq = node.inputs[2] ? g.producerOf(node.inputs[2]) : undefined;
      if (fw?.bias && bdq && bdq.opType === 'DequantizeLinear' && fw.bias.size === g.initializers.get(bdq.inputs[0])?.size)
        floatOf.set(bdq.outputs[0], fw.bias);
      continue;
    }
    if (l.weightDq) keepNodes.add(l.weightDq);
    for (const p of l.activationPairs) {
      keepNodes.add(p.q);
      keepNodes.add(p.dq);
    }
  }
  const owned = ownedDqs(layers);
  for (const dq of g.nodes.filter((n) => n.opType === 'DequantizeLinear')) {
    if (keepNodes.has(dq)) continue;
    if (isUnownedActivation(g, dq, owned) && (keepUnowned === true || (keepUnowned instanceof Set && keepUnowned.has(dq.outputs[0]))))
      continue;
    if (constOf(g, dq.inputs[0])) {
      // A constant (weight or bias): bake the dequantized value.
      const t = floatOf.get(dq.outputs[0]) ?? dequantize(g, dq);
      g.removeNode(dq);
      g.initializers.set(dq.outputs[0], t);
      continue;
    }
    const q = g.producerOf(dq.inputs[0]);
    if (q?.opType !== 'QuantizeLinear') continue;
    g.replaceNode(dq, makeNode('Identity', [q.inputs[0]], [dq.outputs[0]], {}, `${dq.name || dq.outputs[0]}_bypass`));
    if (g.consumersOf(q.outputs[0]).length === 0 && !g.outputs.some((o) => o.name === q.outputs[0])) g.removeNode(q);
  }
  g.sortTopologically();
  return m;
}

export interface FloatLayer {
  weight: Tensor;
  bias?: Tensor;
}

/**
 * The float weights and biases of each layer as quantize() saw them (after BatchNormalization and
 * bias-Add folding), by node name: what a layer kept in float computes with.
 */
export function foldedFloatLayers(floatModel: Model, quantModel?: Model): Map<string, FloatLayer> {
  const m = cloneModel(floatModel);
  m.graph.inputs = m.graph.inputs.filter((v) => !m.graph.initializers.has(v.name));
  const { types } = inferAndFold(m, { fold: true });
  // Weight-changing passes recorded in the quantized model: its float layers must compute with the
  // same transformed weights, or enabled and disabled layers would not fit together. Folds and
  // equalization (from weights alone) are replayed; passes that cannot be replayed from the float
  // model alone (layer split, single shift, equalization with activation ranges) leave the
  // dequantized weights.
  const recorded = recordedOptions(quantModel) as {
    passes?: string[];
    passOptions?: Record<string, Record<string, unknown>>;
    fuseHardSwish?: boolean;
    fuseGelu?: boolean;
    fuseLayerNorm?: boolean;
    foldBatchNorm?: boolean;
  };
  foldIntoLayers(m, types, {
    batchNorm: recorded.foldBatchNorm ?? true,
    hardSwish: recorded.fuseHardSwish ?? true,
    gelu: recorded.fuseGelu ?? true,
    layerNorm: recorded.fuseLayerNorm ?? true,
  });
  const passes = recorded.passes ?? [];
  if (passes.includes('layer-split') || passes.includes('single-shift')) return new Map();
  if (passes.includes('equalization')) {
    const po = (recorded.passOptions?.equalization ?? {}) as Record<string, never>;
    const eq = new EqualizationPass(po);
    if (eq.options.including_activation) return new Map();
    eq.apply(m);
  }
  const out = new Map<string, FloatLayer>();
  for (const n of m.graph.nodes) {
    if (!LAYER_OPS.has(n.opType)) continue;
    const w = m.graph.initializers.get(n.inputs[1]);
    if (!w) continue;
    out.set(n.name || n.outputs[0], { weight: w, bias: n.inputs[2] ? m.graph.initializers.get(n.inputs[2]) : undefined });
  }
  return out;
}
