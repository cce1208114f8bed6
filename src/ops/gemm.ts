// Gemm and MatMul (float32) on the packed GEMM kernel.
import type { Dim } from '../ir/graph.js';
import { gemmPackedF32, packB, packedBSize } from '../kernels/f32/gemm.js';
import { Tensor, sizeOf, allocData } from '../tensor.js';
import { broadcastBinary } from './elementwise.js';
import { broadcastDims, broadcastShapes, broadcastStrides, float32Of } from './util.js';
import { need, type OpImpl } from './types.js';

export const Gemm: OpImpl = {
  inferShape(ctx) {
    const a = ctx.inputs[0]?.shape;
    const b = ctx.inputs[1]?.shape;
    const ta = ctx.attrs.int('transA', 0);
    const tb = ctx.attrs.int('transB', 0);
    if (!a || !b || a.length !== 2 || b.length !== 2) return [{ dtype: ctx.inputs[0]?.dtype }];
    return [{ dtype: ctx.inputs[0]?.dtype, shape: [ta ? a[1]! : a[0]!, tb ? b[0]! : b[1]!] }];
  },
  run(ctx, [a, b, c]) {
    need(ctx, a && b, 'needs A and B');
    need(ctx, a.rank === 2 && b.rank === 2, `A and B must be 2-D, got [${a.dims}] and [${b.dims}]`);
    const A = float32Of(ctx, a, 'A');
    const B = float32Of(ctx, b, 'B');
    const transA = ctx.attrs.int('transA', 0) !== 0;
    const transB = ctx.attrs.int('transB', 0) !== 0;
    const alpha = ctx.attrs.float('alpha', 1);
    const beta = ctx.attrs.float('beta', 1);
    const [M, K] = transA ? [a.dims[1]!, a.dims[0]!] : [a.dims[0]!, a.dims[1]!];
    const [Kb, N] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
    need(ctx, K === Kb, `inner dimensions differ: A gives K=${K}, B gives K=${Kb}`);
    if (ctx.f32) {
      if (c) float32Of(ctx, c, 'C');
      if (c) need(ctx, broadcastsTo(c.dims, M, N), `C of dims [${c.dims}] does not broadcast to [${M}, ${N}]`);
      // The kernel writes every element (alpha A B + beta C) unless K is 0.
      const y = allocData('float32', M * N, K === 0) as Float32Array;
      ctx.f32.gemmF32({ M, N, K, a: A, transA, b: B, transB, alpha, beta, c: c ? (c.data as Float32Array) : null, cDims: c?.dims, y });
      return [new Tensor('float32', y, [M, N])];
    }
    let Ad = A;
    if (transA) {
      Ad = new Float32Array(M * K);
      for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) Ad[m * K + k] = A[k * M + m]!;
    }
    const bp = new Float32Array(packedBSize(K, N));
    packB(K, N, B, 0, transB ? K : N, transB, bp);
    const y = allocData('float32', M * N) as Float32Array;
    gemmPackedF32({ M, N, K, alpha }, Ad, 0, K, bp, y, 0, N);
    let out = new Tensor('float32', y, [M, N]);
    if (c && beta !== 0) {
      float32Of(ctx, c, 'C');
      const scaled =
        beta === 1
          ? c
          : new Tensor(
              'float32',
              (c.data as Float32Array).map((v) => v * beta),
              c.dims,
            );
      out = broadcastBinary(ctx, out, scaled, 'a + b');
      need(ctx, out.dims[0] === M && out.dims[1] === N, `C of dims [${c.dims}] does not broadcast to [${M}, ${N}]`);
    }
    return [out];
  },
  replayable: true,
};

/** ONNX Gemm's unidirectional broadcast of C to [M, N]. */
function broadcastsTo(dims: readonly number[], M: number, N: number): boolean {
  if (dims.length > 2) return false;
  const d = [...new Array(2 - dims.length).fill(1), ...dims];
  return (d[0] === 1 || d[0] === M) && (d[1] === 1 || d[1] === N);
}

export const MatMul: OpImpl = {
  inferShape(ctx) {
    const a = ctx.inputs[0]?.shape;
    const b = ctx.inputs[1]?.shape;
    if (!a || !b) return [{ dtype: ctx.inputs[0]?.dtype }];
    const a2: Dim[] = a.length === 1 ? [1, a[0]!] : a;
    const b2: Dim[] = b.length === 1 ? [b[0]!, 1] : b;
    const batch = broadcastDims([a2.slice(0, -2), b2.slice(0, -2)]);
    if (!batch) return [{ dtype: ctx.inputs[0]?.dtype }];
    const shape = [...batch];
    if (a.length !== 1) shape.push(a2[a2.length - 2]!);
    if (b.length !== 1) shape.push(b2[b2.length - 1]!);
    return [{ dtype: ctx.inputs[0]?.dtype, shape }];
  },
  run(ctx, [a, b]) {
    need(ctx, a && b, 'needs A and B');
    const A = float32Of(ctx, a, 'A');
    const B = float32Of(ctx, b, 'B');
    const ad = a.rank === 1 ? [1, a.dims[0]!] : [...a.dims];
    const bd = b.rank === 1 ? [b.dims[0]!, 1] : [...b.dims];
    const M = ad[ad.length - 2]!;
    const K = ad[ad.length - 1]!;
    const N = bd[bd.length - 1]!;
    need(ctx, bd[bd.length - 2] === K, `inner dimensions differ: [${a.dims}] x [${b.dims}]`);
    const batch = broadcastShapes(ctx, ad.slice(0, -2), bd.slice(0, -2));
    const nb = sizeOf(batch);
    const sa = broadcastStrides(ad.slice(0, -2), batch);
    const sb = broadcastStrides(bd.slice(0, -2), batch);
    const y = allocData('float32', nb * M * N, nb * M * N > 0 && K === 0) as Float32Array;
    // B shared by every batch (a weight matrix after [.., M, K] activations): one GEMM of nb*M rows.
    if (ctx.f32 && nb > 1 && sb.every((v) => v === 0) && sa.every((v, ax) => v === sizeOf(batch.slice(ax + 1)))) {
      ctx.f32.gemmF32({ M: nb * M, N, K, a: A, b: B, y });
      const dims = [...batch];
      if (a.rank !== 1) dims.push(M);
      if (b.rank !== 1) dims.push(N);
      return [new Tensor('float32', y, dims)];
    }
    const bp = ctx.f32 ? new Float32Array(0) : new Float32Array(packedBSize(K, N));
    let lastB = -1;
    for (let i = 0; i < nb; i++) {
      // batch index -> offsets into A and B (broadcast axes have stride 0)
      let rem = i;
      let oa = 0;
      let ob = 0;
      for (let ax = batch.length - 1; ax >= 0; ax--) {
        const idx = rem % batch[ax]!;
        rem = (rem - idx) / batch[ax]!;
        oa += idx * sa[ax]!;
        ob += idx * sb[ax]!;
      }
      if (ctx.f32) {
        ctx.f32.gemmF32({
          M,
          N,
          K,
          a: A.subarray(oa * M * K, (oa + 1) * M * K),
          b: B.subarray(ob * K * N, (ob + 1) * K * N),
          y: y.subarray(i * M * N, (i + 1) * M * N),
        });
        continue;
      }
      if (ob !== lastB) {
        packB(K, N, B, ob * K * N, N, false, bp);
        lastB = ob;
      }
      gemmPackedF32({ M, N, K }, A, oa * M * K, K, bp, y, i * M * N, N);
    }
    const dims = [...batch];
    if (a.rank !== 1) dims.push(M);
    if (b.rank !== 1) dims.push(N);
    return [new Tensor('float32', y, dims)];
  },
  replayable: true,
};

export const gemmOps: Record<string, OpImpl> = { Gemm, MatMul };
