// Where a graph output's values come from, looked through the ops that only reshape them: shared by
// the analysis (which output tensor to measure) and the quantizer (which tensors a user reads).
import type { Graph, Node } from './graph.js';

/** Ops that only reshape: a value read through them is the same values, in the same order. */
export const SHAPE_ONLY = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

const isShapeOnly = (p: Node | undefined): p is Node => !!p && !p.domain && SHAPE_ONLY.has(p.opType) && !!p.inputs[0];

/**
 * The float tensor behind `t` when `t` is DequantizeLinear(QuantizeLinear(x)) (a QDQ graph's pair):
 * x, the same values to a quantization step; undefined otherwise.
 */
function beforeQdq(graph: Graph, t: string): string | undefined {
  const dq = graph.producerOf(t);
  if (!dq || dq.domain || dq.opType !== 'DequantizeLinear' || !dq.inputs[0]) return undefined;
  const q = graph.producerOf(dq.inputs[0]);
  return q && !q.domain && q.opType === 'QuantizeLinear' && q.inputs[0] ? q.inputs[0] : undefined;
}

/**
 * `t`, then each tensor reached backwards from it through shape-only ops. In a QDQ graph a Q/DQ pair
 * between two shape-only steps is looked through too (the pair's inner tensors are not listed), so
 * the chain names the same tensors as in the float graph.
 */
export function throughShapes(graph: Graph, t: string): string[] {
  const out = [t];
  for (;;) {
    let p = graph.producerOf(t);
    if (!isShapeOnly(p)) {
      const x = beforeQdq(graph, t);
      p = x === undefined ? undefined : graph.producerOf(x);
      if (!isShapeOnly(p)) return out;
    }
    t = p.inputs[0]!;
    out.push(t);
  }
}

/**
 * The logits behind graph output `out` when a Softmax/LogSoftmax produces it (through shape-only
 * ops on both sides, as the opset-13 upgrade wraps an old Softmax in Flatten ... Reshape, and
 * through the Q/DQ pair of a quantized Softmax): the Softmax's input and what it reads through
 * shape-only ops, nearest first; [] otherwise.
 */
export function softmaxLogits(graph: Graph, out: string): string[] {
  const chain = throughShapes(graph, out);
  const end = chain[chain.length - 1]!;
  const pre = beforeQdq(graph, end);
  const sm = graph.producerOf(pre ?? end);
  return sm && !sm.domain && (sm.opType === 'Softmax' || sm.opType === 'LogSoftmax') && sm.inputs[0]
    ? throughShapes(graph, sm.inputs[0])
    : [];
}
