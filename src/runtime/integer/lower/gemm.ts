// Gemm and MatMul with constant 8-bit weights: weights packed once at lowering, one packed qgemm
// per call.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Node } from '../../../ir/graph.js';
import { floatMultiplier, type RequantParams } from '../../../quant/requant.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, capChannels, broadcast, shiftToInt8 } from './context.js';

export function qdqGemm(lc: LowerContext, node: Node): string | undefined {
  const ctx = lc.ctx(node);
  const gemm = node.opType === 'Gemm';
  if (gemm && (ctx.attrs.int('transA', 0) !== 0 || ctx.attrs.float('alpha', 1) !== 1 || ctx.attrs.float('beta', 1) !== 1))
    return `Gemm with transA, alpha or beta other than the defaults`;
  const a = lc.act(node.inputs[0]!);
  if (typeof a === 'string') return a;
  const transB = gemm && ctx.attrs.int('transB', 0) === 1;
  if (!gemm && !lc.consts.has(lc.dq(node.inputs[1]!)?.src ?? '')) return activationMatMul(lc, node, a);
  const w = lc.weights(node.inputs[1]!, transB ? 0 : 1, 2);
  if (typeof w === 'string') return w;
  const [K, N] = transB ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
  const o = lc.outQ(node.outputs[0]!, true);
  if (typeof o === 'string') return o;
  // The bound must run along the output columns: [N] or [1, N].
  if (o.cap && (o.cap.bounds.length !== N || o.cap.dims[o.cap.dims.length - 1] !== N || o.cap.dims.length > 2))
    return `Min bound of shape [${o.cap.dims.join(', ')}] is not per output column (${N})`;
  const cap = o.cap?.bounds;
  const biasIn = gemm ? node.inputs[2] : undefined;
  const cWhy = gemmC(lc, biasIn, N);
  if (cWhy) return cWhy;
  const b = lc.bias(node, biasIn, a.scale, w.scale, N);
  if (typeof b === 'string') return b;
  // B as [K, N] int8 (transposed once here for transB).
  let B = w.w;
  if (transB) {
    B = new Int8Array(K * N);
    for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) B[kk * N + n] = w.w[n * K + kk]!;
  }
  const rq = lc.requant(lc.multipliers(a.scale, w.scale, o.out.scale), o.out, o.min, o.max);
  const yName = o.q.outputs[0]!;
  const be = lc.opts.kernels.backend;
  // B is packed (transposed, zero points and bias folded in) once here, not on every run.
  const packed = be.qgemmPack({ n: N, k: K, b: B, bZeroPoint: w.zp, bias: b.bias });
  const signed = o.out.signed,
    azp = a.zp,
    src = a.src;
  lc.push(
    node,
    [src],
    [yName],
    (values) => {
      const x = values.get(src)!;
      if (x.rank < 1 || x.dims[x.rank - 1] !== K)
        throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input has dims [${x.dims.join(', ')}], its last axis must be ${K}`);
      if (gemm && x.rank !== 2)
        throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: Gemm input must be 2-D, got [${x.dims.join(', ')}]`);
      const M = x.size / K;
      const y = values.out8(yName, signed, M * N);
      if (M > 0) be.qgemmRun(packed, { m: M, a: x.data as Int8Like, aZeroPoint: azp, requant: rq, y });
      if (cap) capChannels(y, cap, M, 1);
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, [...x.dims.slice(0, -1), N]));
    },
    { pure: !cap },
  );
  lc.record(node, {
    execution: 'integer',
    kernel: 'qgemm',
    reason:
      [
        o.act ? `fused ${o.act.opType}` : '',
        cap ? 'fused Min as a per-column clamp' : '',
        transB ? 'weights transposed at lowering' : '',
        b.note ?? '',
      ]
        .filter(Boolean)
        .join('; ') || undefined,
  });
  lc.fuse(node, [o.act, o.capNode, o.q], `output of ${node.opType}`);
  return undefined;
}

/** Y = A x B over A's leading (batch) axes, B 2-D [K, N] (or batched with the same leading axes). */
export function batchedGemm(
  node: Node,
  a: Tensor,
  za: number,
  B: Int8Array,
  bDims: readonly number[],
  bzp: Int32Array,
  rq: RequantParams,
  signed: boolean,
  gemm: (g: Parameters<import('../../../backends/types.js').Backend['qgemm']>[0]) => void,
  alloc: (n: number) => Int8Like,
): Tensor {
  if (a.rank < 2 || bDims.length < 2) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: inputs must be at least 2-D`);
  const M = a.dims[a.rank - 2]!,
    K = a.dims[a.rank - 1]!,
    N = bDims[bDims.length - 1]!;
  if (bDims[bDims.length - 2] !== K)
    throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: [${a.dims.join(', ')}] x [${bDims.join(', ')}] do not multiply`);
  if (bzp.length !== 1 && bzp.length !== N)
    throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${bzp.length} B zero points for ${N} columns`);
  const batchA = a.dims.slice(0, -2),
    batchB = bDims.slice(0, -2);
  const batch = broadcast(node, batchA, batchB);
  const nb = sizeOf(batch);
  const y = alloc(nb * M * N);
  const sizeA = sizeOf(batchA),
    sizeB = sizeOf(batchB);
  if (nb !== Math.max(sizeA, sizeB) || (sizeA !== 1 && sizeA !== nb) || (sizeB !== 1 && sizeB !== nb))
    throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: partially broadcast batch axes`);
  const A = a.data as Int8Like;
  for (let i = 0; i < nb; i++) {
    const ai = sizeA === 1 ? 0 : i,
      bi = sizeB === 1 ? 0 : i;
    gemm({
      m: M,
      n: N,
      k: K,
      a: A.subarray(ai * M * K, (ai + 1) * M * K),
      aZeroPoint: za,
      b: B.subarray(bi * K * N, (bi + 1) * K * N),
      bZeroPoint: bzp,
      bias: null,
      requant: rq,
      y: y.subarray(i * M * N, (i + 1) * M * N),
    });
  }
  return new Tensor(signed ? 'int8' : 'uint8', y, [...batch, M, N]);
}

/**
 * MatMul of two 8-bit activations (attention's Q K^T, weights x V): qgemm per batch with B read at
 * run time, a uint8 B shifted to int8 with its zero point (b - 128 against zb - 128, exact), one
 * per-tensor requantization M = Sa Sb / Sy. Exact in int32 while K * 255 * 255 < 2^31.
 */
function activationMatMul(lc: LowerContext, node: Node, a: Exclude<ReturnType<LowerContext['act']>, string>): string | undefined {
  const b = lc.act(node.inputs[1]!);
  if (typeof b === 'string') return b;
  const o = lc.outQ(node.outputs[0]!, true);
  if (typeof o === 'string') return o;
  if (o.cap) return `a per-column Min bound after a MatMul of two activations`;
  const m =
    lc.opts.mode === 'float'
      ? floatMultiplier(a.scale, b.scale, o.out.scale)
      : (Math.fround(a.scale) * Math.fround(b.scale)) / Math.fround(o.out.scale);
  const rq = lc.requant([m], o.out, o.min, o.max);
  const yName = o.q.outputs[0]!;
  const be = lc.opts.kernels.backend;
  const signed = o.out.signed;
  const bzp = Int32Array.of(b.signed ? b.zp : b.zp - 128);
  let shifted = new Int8Array(0); // the step's own scratch for a uint8 B as int8, reused run to run
  lc.push(node, [a.src, b.src], [yName], (values) => {
    const A = values.get(a.src)!,
      B = values.get(b.src)!;
    const K = A.dims[A.rank - 1]!;
    if (K > 33025)
      throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: inner dimension ${K} could overflow the int32 accumulator`);
    let Bi: Int8Array;
    if (b.signed) Bi = B.data as Int8Array;
    else {
      const u = B.data as Uint8Array;
      if (shifted.length !== u.length) shifted = new Int8Array(u.length);
      shiftToInt8(u, shifted);
      Bi = shifted;
    }
    const y = batchedGemm(
      node,
      A,
      a.zp,
      Bi,
      B.dims,
      bzp,
      rq,
      signed,
      (g) => be.qgemm(g),
      (n) => values.out8(yName, signed, n),
    );
    values.set(yName, y);
  });
  lc.record(node, {
    execution: 'integer',
    kernel: 'qgemm',
    reason: ['both operands activations (B read at run time)', o.act ? `fused ${o.act.opType}` : ''].filter(Boolean).join('; '),
  });
  lc.fuse(node, [o.act, o.q], `output of ${node.opType}`);
  return undefined;
}

/** Why Gemm's C cannot be a per-column int32 bias (not constant, or not N values), or undefined. */
export function gemmC(lc: LowerContext, c: string | undefined, N: number): string | undefined {
  if (!c) return undefined;
  const cd = lc.dq(c);
  const ct = cd ? lc.consts.get(cd.src) : lc.consts.get(c);
  if (!ct) return `Gemm C is not constant`;
  if (ct.size !== N) return `Gemm C of shape [${ct.dims.join(', ')}] is not a per-column bias`;
  return undefined;
}
