// A decomposed LayerNorm (src/ir/layernorm-pattern.ts) from its input's DequantizeLinear to its
// normalized output's QuantizeLinear: one integer step (src/kernels/int8/qlayernorm-ref.ts: integer
// mean and variance, an exact integer square root). It runs the reference on every backend (rows of
// a transformer's hidden size; bit-identical by construction). Gamma and beta follow as Mul/Add.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { matchLayerNorm } from '../../../ir/layernorm-pattern.js';
import { layerNormParams, qlayerNormRef, type LayerNormParams } from '../../../kernels/int8/qlayernorm-ref.js';
import { Tensor } from '../../../tensor.js';
import type { LowerContext } from './context.js';

/** Lowers the LayerNorm that starts at ReduceMean `node`; undefined when it did, a reason when the pattern is there but cannot run integer, null when there is no pattern. */
export function qdqLayerNorm(lc: LowerContext, node: Node): string | undefined | null {
  const ln = matchLayerNorm(lc.graph, node);
  if (!ln) return null;
  const x = lc.act(ln.x);
  if (typeof x === 'string') return x;
  const o = lc.outQ(ln.output, false);
  if (typeof o === 'string') return o;
  if (o.cap) return `a per-channel Min after LayerNorm`;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  const params = new Map<number, LayerNormParams>();
  lc.push(node, [x.src], [yName], (values) => {
    const xt = values.get(x.src)!;
    if (xt.dtype !== (x.signed ? 'int8' : 'uint8'))
      throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input is ${xt.dtype}, expected 8-bit`);
    const C = xt.dims[xt.rank - 1] ?? 1;
    let p = params.get(C);
    if (!p) {
      const made = layerNormParams(C, ln.eps, x.scale, o.out.scale, { zeroPoint: o.out.zp, min: o.min, max: o.max });
      if (typeof made === 'string') throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: LayerNorm: ${made}`);
      p = made;
      params.set(C, p);
    }
    const y = values.out8(yName, signed, xt.size);
    qlayerNormRef(xt.data as Int8Array, x.zp, C ? xt.size / C : 0, p, y);
    values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, xt.dims));
  });
  lc.record(node, {
    execution: 'integer',
    kernel: 'layernorm (reference)',
    reason: `decomposed LayerNorm over the last axis, eps ${ln.eps}`,
  });
  lc.fuse(node, [...ln.nodes.slice(1), o.q], 'integer LayerNorm');
  return undefined;
}
