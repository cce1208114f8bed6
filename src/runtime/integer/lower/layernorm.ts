// LayerNorm from its input's DequantizeLinear to its output's QuantizeLinear: one integer step, the
// backend's layerNorm kernel (definition: src/kernels/int8/qlayernorm-ref.ts, integer mean and
// variance and an exact integer square root; native/qlayernorm the same in C++). Two forms: the
// decomposed pattern (src/ir/layernorm-pattern.ts), whose gamma and beta follow as Mul/Add, and the
// LayerNormalization op, whose Scale and B go inside the step.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { matchLayerNorm } from '../../../ir/layernorm-pattern.js';
import { layerNormAffine, layerNormParams, type LayerNormAffine, type LayerNormParams } from '../../../kernels/int8/qlayernorm-ref.js';
import type { Int8Like } from '../../../backends/types.js';
import { Tensor } from '../../../tensor.js';
import { expandTo } from '../../../ops/normalization.js';
import { checkInputType, type LowerContext } from './context.js';

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
  const be = lc.opts.kernels.backend;
  lc.push(
    node,
    [x.src],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      checkInputType(node, xt, x);
      const C = xt.dims[xt.rank - 1] ?? 1;
      let p = params.get(C);
      if (!p) {
        const made = layerNormParams(C, ln.eps, x.scale, o.out.scale, { zeroPoint: o.out.zp, min: o.min, max: o.max });
        if (typeof made === 'string') throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: LayerNorm: ${made}`);
        p = made;
        params.set(C, p);
      }
      const y = values.out8(yName, signed, xt.size);
      be.layerNorm({ ...kernelParams(p), x: xt.data as Int8Like, xZeroPoint: x.zp, rows: C ? xt.size / C : 0, y });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, xt.dims));
    },
    { pure: true },
  );
  lc.record(node, {
    execution: 'integer',
    kernel: 'layernorm',
    reason: `decomposed LayerNorm over the last axis, eps ${ln.eps}`,
  });
  lc.fuse(node, [...ln.nodes.slice(1), o.q], 'integer LayerNorm');
  return undefined;
}

/**
 * LayerNormalization (opset 17) over trailing axes [axis, rank): rows of their product, Scale and B
 * (constant, broadcast to the normalized shape) folded into the step. The optional Mean/InvStdDev
 * outputs have no integer form.
 */
export function qdqLayerNormOp(lc: LowerContext, node: Node): string | undefined {
  if (node.outputs.slice(1).some(Boolean)) return `Mean/InvStdDev outputs are requested`;
  const x = lc.act(node.inputs[0]!);
  if (typeof x === 'string') return x;
  const scale = lc.consts.get(node.inputs[1] ?? '');
  const bias = node.inputs[2] ? lc.consts.get(node.inputs[2]) : undefined;
  if (scale?.dtype !== 'float32') return `Scale is not a float32 constant`;
  if (node.inputs[2] && bias?.dtype !== 'float32') return `B is not a float32 constant`;
  const o = lc.outQ(node.outputs[0]!, false);
  if (typeof o === 'string') return o;
  if (o.cap) return `a per-channel Min after LayerNorm`;
  const ctx = lc.ctx(node);
  const eps = ctx.attrs.float('epsilon', 1e-5);
  const axisAttr = ctx.attrs.int('axis', -1);
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  const made = new Map<string, { p: LayerNormParams; a: LayerNormAffine }>();
  const be = lc.opts.kernels.backend;
  lc.push(
    node,
    [x.src],
    [yName],
    (values) => {
      const xt = values.get(x.src)!;
      checkInputType(node, xt, x);
      const r = xt.rank;
      const axis = axisAttr < 0 ? axisAttr + r : axisAttr;
      if (axis < 0 || axis >= Math.max(r, 1))
        throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: axis ${axisAttr} is out of range for rank ${r}`);
      const normDims = xt.dims.slice(axis);
      const C = normDims.reduce((a, b) => a * b, 1);
      const key = normDims.join('x');
      let m = made.get(key);
      if (!m) {
        const gamma = expandTo(ctx, scale.data as Float32Array, scale.dims, normDims, 'Scale'),
          beta = bias ? expandTo(ctx, bias.data as Float32Array, bias.dims, normDims, 'B') : undefined;
        const aff = layerNormAffine(gamma, beta, o.out.scale);
        if (typeof aff === 'string') throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: LayerNorm: ${aff}`);
        const p = layerNormParams(C, eps, x.scale, o.out.scale, { zeroPoint: o.out.zp, min: o.min, max: o.max }, aff.gain);
        if (typeof p === 'string') throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: LayerNorm: ${p}`);
        m = { p, a: aff.affine };
        made.set(key, m);
      }
      const y = values.out8(yName, signed, xt.size);
      be.layerNorm({
        ...kernelParams(m.p),
        gamma: m.a.gamma,
        beta: m.a.beta,
        x: xt.data as Int8Like,
        xZeroPoint: x.zp,
        rows: C ? xt.size / C : 0,
        y,
      });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, xt.dims));
    },
    { pure: true },
  );
  lc.record(node, {
    execution: 'integer',
    kernel: 'layernorm',
    reason: `LayerNormalization, Scale and B inside, eps ${eps}`,
  });
  lc.fuse(node, [o.q], 'integer LayerNorm');
  return undefined;
}

/** The kernel's row parameters (LayerNormArgs) from layerNormParams' result. */
function kernelParams(p: LayerNormParams) {
  return { length: p.length, eps: p.eps, gm: p.gm, gs: p.gs, zeroPoint: p.zeroPoint, min: p.min, max: p.max };
}
