// The QOperator ops of other tools' models: QLinearConv, QLinearMatMul, ConvInteger, com.microsoft
// QLinearAdd (parameters may be graph inputs, read per run) and DynamicQuantizeLinear; MatMulInteger
// is matmul-integer.ts.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import type { OpContext } from '../../../ops/types.js';
import { windowParams } from '../../../ops/conv-util.js';
import { dynamicQuantNonFinite, dynamicQuantParams } from '../../../ops/qdq.js';
import { makeQAddParams } from '../../../quant/qadd.js';
import { makeRequant } from '../../../quant/requant.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import type { PreparedConv } from '../kernels.js';
import { type LowerContext, broadcast, param, toInt8 } from './context.js';
import { runConv } from './conv.js';
import { batchedGemm } from './gemm.js';

export function qlinearConv(lc: LowerContext, node: Node): string | undefined {
  const ctx = lc.ctx(node);
  const k = lc.opts.kernels;
  const cache = new Map<string, PreparedConv>();
  const mode = lc.opts.mode;
  const yName = node.outputs[0]!;
  lc.push(node, node.inputs, [yName], (values) => {
    const P = (i: number, w: string) => param(values, node, i, w);
    const x = values.get(node.inputs[0]!)!,
      wt = values.get(node.inputs[3]!)!;
    const sx = P(1, 'x_scale')[0]!,
      zx = P(2, 'x_zero_point')[0]!,
      sw = P(4, 'w_scale'),
      zw = P(5, 'w_zero_point'),
      sy = P(6, 'y_scale')[0]!,
      zy = P(7, 'y_zero_point')[0]!;
    const yz = values.get(node.inputs[7]!)!;
    const signed = yz.dtype === 'int8';
    const { w, zp } = toInt8(wt, Int32Array.from(zw));
    const bias = node.inputs[8] ? (values.get(node.inputs[8])!.data as Int32Array) : null;
    const rq = makeRequant(mode, lc.multipliers(sx, Float32Array.from(sw), sy), { zeroPoint: zy, signed });
    const key = `${x.dims.join('x')}|${wt.dims.join('x')}`;
    if (!lc.consts.has(node.inputs[3]!)) cache.clear();
    values.set(
      yName,
      runConv(ctx, x, zx, w, zp, wt.dims, bias, rq, signed, cache, k, (n) => values.out8(yName, signed, n), key),
    );
  });
  lc.record(node, { execution: 'integer', kernel: k.convKernel });
  return undefined;
}

export function qlinearMatMul(lc: LowerContext, node: Node): string | undefined {
  const be = lc.opts.kernels.backend;
  const mode = lc.opts.mode;
  const yName = node.outputs[0]!;
  lc.push(node, node.inputs, [yName], (values) => {
    const P = (i: number, w: string) => param(values, node, i, w);
    const a = values.get(node.inputs[0]!)!,
      bt = values.get(node.inputs[3]!)!;
    const sa = P(1, 'a_scale')[0]!,
      za = P(2, 'a_zero_point')[0]!,
      sb = P(4, 'b_scale'),
      zb = P(5, 'b_zero_point'),
      sy = P(6, 'y_scale')[0]!,
      zy = P(7, 'y_zero_point')[0]!;
    const signed = values.get(node.inputs[7]!)!.dtype === 'int8';
    const { w: B, zp: bzp } = toInt8(bt, Int32Array.from(zb));
    const rq = makeRequant(mode, lc.multipliers(sa, Float32Array.from(sb), sy), { zeroPoint: zy, signed });
    values.set(
      yName,
      batchedGemm(
        node,
        a,
        za,
        B,
        bt.dims,
        bzp,
        rq,
        signed,
        (g) => be.qgemm(g),
        (n) => values.out8(yName, signed, n),
      ),
    );
  });
  lc.record(node, { execution: 'integer', kernel: 'qgemm' });
  return undefined;
}

export function convInteger(lc: LowerContext, node: Node): string | undefined {
  const ctx = lc.ctx(node);
  const yName = node.outputs[0]!;
  lc.push(node, node.inputs, [yName], (values) => {
    const x = values.get(node.inputs[0]!)!,
      wt = values.get(node.inputs[1]!)!;
    const zx = param(values, node, 2, 'x_zero_point')[0]!;
    const zw = param(values, node, 3, 'w_zero_point');
    values.set(
      yName,
      convInt32(ctx, node, x, zx, wt, zw, (n) => values.out(yName, 'int32', n)),
    );
  });
  lc.record(node, { execution: 'integer', kernel: 'int32 conv (js)' });
  return undefined;
}

/**
 * DynamicQuantizeLinear on the backend's kernels: scanF32 for the range and the first non-finite
 * value, the op's own parameter definition (dynamicQuantParams), quantizeLinear (a true float32
 * division, rounded half to even, the op's arithmetic) for y. The same bits as the op, which
 * stays the definition (ops/qdq.ts).
 */
export function dynamicQuantizeLinear(lc: LowerContext, node: Node): string | undefined {
  const [y, s, z] = node.outputs;
  if (!y || !s || !z) return `DynamicQuantizeLinear without all three outputs`;
  const ctx = lc.ctx(node);
  const be = lc.opts.kernels.backend;
  const stats = new Float64Array(4);
  lc.push(node, [node.inputs[0]!], [y, s, z], (values) => {
    const x = values.get(node.inputs[0]!)!;
    if (x.dtype !== 'float32') lc.bad(node, `input of type ${x.dtype} (float32 only)`);
    const d = x.data as Float32Array;
    be.scanF32(d, stats);
    if (stats[3]! >= 0) dynamicQuantNonFinite(ctx, d, stats[3]!);
    // The scan's extremes skip nothing here (no NaN), and an empty input gives +-Infinity: the
    // range widened to hold 0 is then [0, 0], as the op's loop starting from 0 gives.
    const { scale, zp } = dynamicQuantParams(Math.min(0, stats[0]!), Math.max(0, stats[1]!));
    const yq = values.out8(y, false, d.length);
    be.quantizeLinear({ outer: 1, axisLen: 1, inner: d.length, scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zp), x: d, y: yq });
    values.set(y, new Tensor('uint8', yq, x.dims));
    values.set(s, new Tensor('float32', Float32Array.of(scale), []));
    values.set(z, new Tensor('uint8', Uint8Array.of(zp), []));
  });
  lc.record(node, { execution: 'integer', kernel: 'scanF32 + quantizeLinear', reason: 'range per run' });
  return undefined;
}

export function qlinearAdd(lc: LowerContext, node: Node): string | undefined {
  const k = lc.opts.kernels;
  const mode = lc.opts.mode;
  const yName = node.outputs[0]!;
  lc.push(node, node.inputs, [yName], (values) => {
    const P = (i: number, w: string) => param(values, node, i, w)[0]!;
    const A = values.get(node.inputs[0]!)!,
      B = values.get(node.inputs[3]!)!;
    const signed = A.dtype === 'int8';
    if (B.dtype !== A.dtype) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: A is ${A.dtype}, B ${B.dtype}`);
    const p = makeQAddParams(mode, P(1, 'A_scale'), P(2, 'A_zero_point'), P(4, 'B_scale'), P(5, 'B_zero_point'), P(6, 'C_scale'), {
      zeroPoint: P(7, 'C_zero_point'),
      signed,
    });
    const dims = broadcast(node, A.dims, B.dims);
    const y = values.out8(yName, signed, sizeOf(dims));
    k.backend.qadd({ a: A.data as Int8Like, aShape: A.dims, b: B.data as Int8Like, bShape: B.dims, params: p, y });
    values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
  });
  lc.record(node, { execution: 'integer', kernel: 'qadd' });
  return undefined;
}

/** ConvInteger: int32 accumulators, no requantization (exact, direct loops). */
export function convInt32(
  ctx: OpContext,
  node: Node,
  x: Tensor,
  zx: number,
  wt: Tensor,
  zw: Float64Array,
  alloc: (n: number) => Int32Array,
): Tensor {
  if (x.rank !== 4 || wt.rank !== 4) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: only 2-D ConvInteger`);
  const groups = ctx.attrs.int('group', 1);
  const [N, C, H, W] = x.dims as number[];
  const [CO, CIG, KH, KW] = wt.dims as number[];
  if (C !== CIG! * groups)
    throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${C} input channels, weights need ${CIG! * groups}`);
  const wp = windowParams(ctx, [H!, W!], [KH!, KW!]);
  const [OH, OW] = wp.out as [number, number];
  const [sh, sw] = wp.strides,
    [dh, dw] = wp.dilations,
    [pt, pl] = wp.pads;
  const X = x.data as ArrayLike<number>,
    Wd = wt.data as ArrayLike<number>;
  const y = alloc(N! * CO! * OH * OW);
  const coutG = CO! / groups;
  for (let n = 0; n < N!; n++)
    for (let co = 0; co < CO!; co++) {
      const g = Math.floor(co / coutG),
        z = zw.length === 1 ? zw[0]! : zw[co]!;
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          for (let ci = 0; ci < CIG!; ci++)
            for (let ky = 0; ky < KH!; ky++) {
              const iy = oy * sh! + ky * dh! - pt!;
              if (iy < 0 || iy >= H!) continue;
              for (let kx = 0; kx < KW!; kx++) {
                const ix = ox * sw! + kx * dw! - pl!;
                if (ix < 0 || ix >= W!) continue;
                acc =
                  (acc + (X[((n * C! + g * CIG! + ci) * H! + iy) * W! + ix]! - zx) * (Wd[((co * CIG! + ci) * KH! + ky) * KW! + kx]! - z)) |
                  0;
              }
            }
          y[((n * CO! + co) * OH + oy) * OW + ox] = acc;
        }
    }
  return new Tensor('int32', y, [N!, CO!, OH, OW]);
}
