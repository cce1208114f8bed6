// How to run onnxruntime as an exact peer of our integer kernels.
import { Graph, type Model } from '../ir/graph.js';
import { Tensor } from '../tensor.js';

/**
 * onnxruntime session options under which its integer kernels are exact on every x86-64 CPU. Without
 * VNNI (AVX2, AVX-512F/BW) its default u8 x s8 GEMM adds pairs of products in saturating int16
 * (vpmaddubsw), so QLinearConv, QLinearMatMul and MatMulInteger can differ from the exact sums (on a
 * BERT-style encoder: 21 dB from float instead of 28; mnist-8: 1,820 of 2,000 logits off);
 * `session.x64quantprecision` switches such CPUs to its exact u8 x u8 kernels and changes nothing
 * elsewhere. Every comparison of our integer results with onnxruntime's (validate's cross-check, the
 * tests) runs it this way, on a model from ortExactModel.
 */
export const ORT_EXACT_INTEGER = { extra: { session: { x64quantprecision: '1' } } } as const;

/**
 * `model` as onnxruntime's exact mode can run it. That mode rewrites int8 weights to uint8 and, for a
 * per-axis DequantizeLinear without a zero-point input (which ONNX allows and our exports write for
 * symmetric weights), builds a scalar zero point and then fails ("x_zero_point must be null or 1D
 * tensor with size N"). Returns a copy with explicit zero zero points on those nodes; `model` is
 * not changed, and the copy computes the same function.
 */
export function ortExactModel(model: Model): Model {
  const g = model.graph;
  const initializers = new Map(g.initializers);
  const nodes = g.nodes.map((n) => {
    if (n.opType !== 'DequantizeLinear' || n.inputs[2]) return n;
    const x = g.initializers.get(n.inputs[0] ?? ''),
      scale = g.initializers.get(n.inputs[1] ?? '');
    if (!x || !scale || scale.size < 2 || (x.dtype !== 'int8' && x.dtype !== 'uint8')) return n;
    let name = `${n.inputs[0]}_zero_point`;
    for (let k = 1; initializers.has(name); k++) name = `${n.inputs[0]}_zero_point_${k}`;
    const zeros = x.dtype === 'int8' ? new Int8Array(scale.size) : new Uint8Array(scale.size);
    initializers.set(name, new Tensor(x.dtype, zeros, [...scale.dims]));
    return { ...n, inputs: [n.inputs[0]!, n.inputs[1]!, name] };
  });
  const graph = new Graph({ ...g, nodes, initializers });
  return { ...model, graph };
}
