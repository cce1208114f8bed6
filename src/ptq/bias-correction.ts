/**
 * Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization", sec. 4.2, empirical
 * form): weight rounding shifts each output channel's mean by E[x . (w - w_q)], which a post-ReLU
 * input (all positive, large mean) turns into a visible offset. Measured on the calibration data
 * and added back to the bias:
 *   b'_c = b_c + E[ layer(x; w - w_q)_c ]
 * Since Conv/Gemm/MatMul are linear in the weight, layer(x, w) - layer(x, w_q) = layer(x, w - w_q):
 * one probe node per layer, fed the float input x, computes it during the same calibration pass.
 *
 * The sums are mergeable exactly: each sample's per-channel sum is taken in float64 in the
 * tensor's own order (the same on every thread), then added to an exact accumulator (ExactSum),
 * so workers and shards give the sums of one pass, bit for bit. With single-shift the weights
 * probed are known only after the activation statistics: that correction needs a second data pass.
 */
import type { Graph, Node } from '../ir/graph.js';
import { makeNode } from '../ir/graph.js';
import { Tensor } from '../tensor.js';
import { intAttr } from '../passes/pass.js';
import { ExactSum } from '../util/exact-sum.js';

export interface BiasProbe {
  layer: Node;
  output: string;
  /** Output-channel axis of the layer output (1 for Conv's NCHW, last for Gemm/MatMul). */
  axis: number;
  channels: number;
  sum: ExactSum[];
  count: number;
}

/** Adds one probe per layer to `g` (a calibration copy): layer(x, w - w_q) without bias. */
export function addBiasProbes(g: Graph, layers: Node[], quantized: Map<Node, Float32Array>): BiasProbe[] {
  const probes: BiasProbe[] = [];
  for (const n of layers) {
    const wq = quantized.get(n);
    const w = g.initializers.get(n.inputs[1]);
    if (!wq || !w) continue;
    const delta = new Float32Array(wq.length);
    const wd = w.data as Float32Array;
    for (let i = 0; i < delta.length; i++) delta[i] = wd[i] - wq[i];
    const dname = g.uniqueName(`${n.inputs[1]}__bias_probe_delta`);
    g.initializers.set(dname, new Tensor('float32', delta, w.dims));
    const out = g.uniqueName(`${n.name || n.outputs[0]}__bias_probe`);
    const attrs = Object.fromEntries([...n.attributes].filter(([k]) => n.opType !== 'Gemm' || k !== 'beta'));
    g.insertAfter(n, makeNode(n.opType, [n.inputs[0], dname], [out], attrs, g.uniqueName(`${n.name}__bias_probe`)));
    const channels =
      n.opType === 'Conv'
        ? w.dims[0]
        : n.opType === 'ConvTranspose'
          ? w.dims[1] * intAttr(n, 'group', 1)
          : n.opType === 'Gemm' && intAttr(n, 'transB', 0) === 1
            ? w.dims[0]
            : w.dims[1];
    const nchw = n.opType === 'Conv' || n.opType === 'ConvTranspose';
    probes.push({
      layer: n,
      output: out,
      axis: nchw ? 1 : -1,
      channels,
      sum: Array.from({ length: channels }, () => new ExactSum()),
      count: 0,
    });
  }
  return probes;
}

/** Per-channel corrections E[layer(x, w - w_q)]. */
export function corrections(p: BiasProbe): Float32Array {
  return Float32Array.from(p.sum, (s) => (p.count ? s.toNumber() / p.count : 0));
}
