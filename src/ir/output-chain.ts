// Where a graph output's values come from, looked through the ops that only reshape them: shared by
// the analysis (which output tensor to measure) and the quantizer (which tensors a user reads).
import type { Graph } from './graph.js';

/** Ops that only reshape: a value read through them is the same values, in the same order. */
export const SHAPE_ONLY = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

/** `t`, then each tensor reached backwards from it through shape-only ops. */
export function throughShapes(graph: Graph, t: string): string[] {
  const out = [t];
  for (let p = graph.producerOf(t); p && !p.domain && SHAPE_ONLY.has(p.opType) && p.inputs[0]; p = graph.producerOf(t)) {
    t = p.inputs[0];
    out.push(t);
  }
  return out;
}

/**
 * The logits behind graph output `out` when a Softmax/LogSoftmax produces it (through shape-only
 * ops on both sides, as the opset-13 upgrade wraps an old Softmax in Flatten ... Reshape): the
 * Softmax's input and what it reads through shape-only ops, nearest first; [] otherwise.
 */
export function softmaxLogits(graph: Graph, out: string): string[] {
  const chain = throughShapes(graph, out);
  const sm = graph.producerOf(chain[chain.length - 1]!);
  return sm && !sm.domain && (sm.opType === 'Softmax' || sm.opType === 'LogSoftmax') && sm.inputs[0]
    ? throughShapes(graph, sm.inputs[0])
    : [];
}
