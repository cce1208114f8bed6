/**
 * Float ops on a backend's F32Kernels: a registry equal to `base` (the engine's pure-JS ops) except
 * that Conv, Gemm, MatMul, the pools and the common elementwise ops call `backend`. The cases the
 * C kernels do not cover (3-D windows, MaxPool's Indices output, non-float32 tensors, broadcasts
 * other than same shape, scalar, suffix or per-channel) and every malformed node go to the base op,
 * which computes them or raises its usual error.
 *
 * Usage: InferenceSession.create(model, { registry: backendFloatOps(getBackend('native')) }).
 */
import type { Backend } from './types.js';
import type { BinaryF32Op, UnaryF32Op, UnaryF32Params } from './kernels-f32.js';
import { defaultOps, OpRegistry } from '../ops/index.js';
import type { OpContext, OpImpl } from '../ops/types.js';
import { pads3d, to3d, windowParams } from '../ops/conv-util.js';
import { Tensor } from '../tensor.js';
import type { Pool3dParams } from '../kernels/f32/pool.js';

type Run = OpImpl['run'];

const isF32 = (t: Tensor | undefined): t is Tensor => t !== undefined && t.dtype === 'float32';
const sizeOf = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

function conv(be: Backend, base: OpImpl): Run {
  return (ctx, inputs) => {
    const [x, w, b] = inputs;
    if (!isF32(x) || !isF32(w) || (b !== undefined && !isF32(b)) || (x.rank !== 3 && x.rank !== 4) || w.rank !== x.rank) return base.run(ctx, inputs);
    const group = ctx.attrs.int('group', 1);
    const [N, C] = x.dims as [number, number];
    const M = w.dims[0]!;
    const k = ctx.attrs.ints('kernel_shape') ?? w.dims.slice(2);
    if (C !== w.dims[1]! * group || M % group !== 0 || (b && b.size !== M) || !k.every((v, i) => v === w.dims[2 + i])) return base.run(ctx, inputs);
    const sp = windowParams(ctx, x.dims.slice(2), k);
    const s = sp.out.length;
    const two = (v: readonly number[], f: number) => (s === 1 ? [f, v[0]!] : [v[0]!, v[1]!]);
    const [H, W] = two(x.dims.slice(2), 1);
    const [KH, KW] = two(k, 1);
    const [OH, OW] = two(sp.out, 1);
    const [strideH, strideW] = two(sp.strides, 1);
    const [dilationH, dilationW] = two(sp.dilations, 1);
    const [padTop, padLeft] = two(sp.pads.slice(0, s), 0);
    const y = new Float32Array(N * M * OH! * OW!);
    be.conv2dF32({ N, C, H: H!, W: W!, M, KH: KH!, KW: KW!, OH: OH!, OW: OW!, strideH: strideH!, strideW: strideW!, padTop: padTop!, padLeft: padLeft!, dilationH: dilationH!, dilationW: dilationW!, group },
      x.data as Float32Array, w.data as Float32Array, b ? (b.data as Float32Array) : null, y);
    return [new Tensor('float32', y, [N, M, ...sp.out])];
  };
}

function gemm(be: Backend, base: OpImpl): Run {
  return (ctx, inputs) => {
    const [a, b, c] = inputs;
    if (!isF32(a) || !isF32(b) || (c !== undefined && !isF32(c)) || a.rank !== 2 || b.rank !== 2) return base.run(ctx, inputs);
    const transA = ctx.attrs.int('transA', 0) !== 0, transB = ctx.attrs.int('transB', 0) !== 0;
    const [M, K] = transA ? [a.dims[1]!, a.dims[0]!] : [a.dims[0]!, a.dims[1]!];
    const [Kb, N] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
    if (K !== Kb) return base.run(ctx, inputs);
    if (c) {
      // Unidirectional broadcast of C to [M, N]; anything else is the base op's error to raise.
      const d = [...c.dims];
      while (d.length < 2) d.unshift(1);
      if (d.length > 2 || (d[0] !== 1 && d[0] !== M) || (d[1] !== 1 && d[1] !== N)) return base.run(ctx, inputs);
    }
    const y = new Float32Array(M * N);
    be.gemmF32({
      M, N, K, a: a.data as Float32Array, transA, b: b.data as Float32Array, transB,
      alpha: ctx.attrs.float('alpha', 1), beta: ctx.attrs.float('beta', 1), c: c ? (c.data as Float32Array) : null, cDims: c?.dims, y,
    });
    return [new Tensor('float32', y, [M, N])];
  };
}

function matmul(be: Backend, base: OpImpl): Run {
  return (ctx, inputs) => {
    const [a, b] = inputs;
    if (!isF32(a) || !isF32(b) || a.rank < 1 || b.rank < 1) return base.run(ctx, inputs);
    const ad = a.rank === 1 ? [1, a.dims[0]!] : [...a.dims];
    const bd = b.rank === 1 ? [b.dims[0]!, 1] : [...b.dims];
    const M = ad[ad.length - 2]!, K = ad[ad.length - 1]!, N = bd[bd.length - 1]!;
    if (bd[bd.length - 2] !== K) return base.run(ctx, inputs);
    // Batches: A's leading axes with a 2-D B (the common FC / attention-projection case), or equal batch axes.
    const aBatch = ad.slice(0, -2), bBatch = bd.slice(0, -2);
    const nb = sizeOf(aBatch);
    const sameBatch = aBatch.length === bBatch.length && aBatch.every((v, i) => v === bBatch[i]);
    if (bBatch.length > 0 && !sameBatch) return base.run(ctx, inputs);
    const A = a.data as Float32Array, B = b.data as Float32Array;
    const y = new Float32Array(nb * M * N);
    if (bBatch.length === 0) {
      // Stack the batches into one M*nb x K GEMM.
      be.gemmF32({ M: nb * M, N, K, a: A, b: B, y });
    } else {
      for (let i = 0; i < nb; i++) {
        be.gemmF32({ M, N, K, a: A.subarray(i * M * K, (i + 1) * M * K), b: B.subarray(i * K * N, (i + 1) * K * N), y: y.subarray(i * M * N, (i + 1) * M * N) });
      }
    }
    const dims = [...aBatch];
    if (a.rank !== 1) dims.push(M);
    if (b.rank !== 1) dims.push(N);
    return [new Tensor('float32', y, dims)];
  };
}

function poolParams(ctx: OpContext, x: Tensor): { p: Pool3dParams; outDims: number[] } | undefined {
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!kernel || x.rank < 3 || x.rank > 4 || kernel.length !== x.rank - 2) return undefined;
  const sp = windowParams(ctx, x.dims.slice(2), kernel, { ceilMode: ctx.attrs.int('ceil_mode', 0) === 1 });
  const [D, H, W] = to3d(x.dims.slice(2) as number[], 1) as [number, number, number];
  const [OD, OH, OW] = to3d(sp.out, 1) as [number, number, number];
  const [KD, KH, KW] = to3d(kernel, 1) as [number, number, number];
  const [SD, SH, SW] = to3d(sp.strides, 1) as [number, number, number];
  const [DD, DH, DW] = to3d(sp.dilations, 1) as [number, number, number];
  const { begin, end } = pads3d(sp.pads);
  return {
    p: { planes: x.dims[0]! * x.dims[1]!, D, H, W, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, padBegin: begin as [number, number, number], padEnd: end as [number, number, number] },
    outDims: [x.dims[0]!, x.dims[1]!, ...sp.out],
  };
}

function pool(be: Backend, base: OpImpl, kind: 'max' | 'avg'): Run {
  return (ctx, inputs) => {
    const [x] = inputs;
    const wantsIndices = ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '';
    const setup = isF32(x) && !wantsIndices ? poolParams(ctx, x) : undefined;
    if (!setup) return base.run(ctx, inputs);
    const y = new Float32Array(sizeOf(setup.outDims));
    if (kind === 'max') be.maxPoolF32(setup.p, x!.data as Float32Array, y);
    else be.avgPoolF32(setup.p, x!.data as Float32Array, y, ctx.attrs.int('count_include_pad', 0) === 1);
    return [new Tensor('float32', y, setup.outDims)];
  };
}

function globalPool(be: Backend, base: OpImpl, kind: 'max' | 'avg'): Run {
  return (ctx, inputs) => {
    const [x] = inputs;
    if (!isF32(x) || x.rank < 3) return base.run(ctx, inputs);
    const planes = x.dims[0]! * x.dims[1]!;
    const y = new Float32Array(planes);
    be.globalPoolF32(kind, planes, planes ? x.size / planes : 0, x.data as Float32Array, y);
    return [new Tensor('float32', y, [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map(() => 1)])];
  };
}

function unary(be: Backend, base: OpImpl, op: UnaryF32Op, params: (ctx: OpContext, inputs: (Tensor | undefined)[]) => UnaryF32Params | undefined): Run {
  return (ctx, inputs) => {
    const [x] = inputs;
    const q = isF32(x) ? params(ctx, inputs) : undefined;
    if (!q) return base.run(ctx, inputs);
    const y = new Float32Array(x!.size);
    be.unaryF32(op, x!.data as Float32Array, y, q);
    return [new Tensor('float32', y, [...x!.dims])];
  };
}

/** Clip's bounds: attributes before opset 11, optional scalar inputs from 11 on. */
function clipParams(ctx: OpContext, inputs: (Tensor | undefined)[]): UnaryF32Params | undefined {
  if (ctx.opset < 11) return { min: ctx.attrs.float('min', -3.4028234663852886e38), max: ctx.attrs.float('max', 3.4028234663852886e38) };
  const [, lo, hi] = inputs;
  if ((lo && (!isF32(lo) || lo.size !== 1)) || (hi && (!isF32(hi) || hi.size !== 1))) return undefined;
  return { min: lo ? (lo.data as Float32Array)[0]! : -Infinity, max: hi ? (hi.data as Float32Array)[0]! : Infinity };
}

/**
 * How b (right-aligned to a's rank) broadcasts over a: [b.size, inner] when b's non-unit axes are one
 * contiguous run equal to a's (inner = the product of a's axes after it), else undefined.
 */
function broadcastRun(a: readonly number[], b: readonly number[]): [number, number] | undefined {
  if (b.length > a.length) return undefined;
  const bd = [...new Array(a.length - b.length).fill(1), ...b];
  let first = -1, last = -1;
  for (let i = 0; i < a.length; i++) {
    if (bd[i] === 1) continue;
    if (bd[i] !== a[i]) return undefined;
    if (first < 0) first = i;
    else if (last !== i - 1) return undefined;
    last = i;
  }
  if (first < 0) return [1, 1];
  return [sizeOf(a.slice(first, last + 1)), sizeOf(a.slice(last + 1))];
}

function binary(be: Backend, base: OpImpl, op: BinaryF32Op): Run {
  const commutative = op === 'add' || op === 'mul';
  return (ctx, inputs) => {
    let [a, b] = inputs;
    if (!isF32(a) || !isF32(b)) return base.run(ctx, inputs);
    let run = broadcastRun(a.dims, b.dims);
    if (!run && commutative) {
      run = broadcastRun(b.dims, a.dims);
      if (run) [a, b] = [b, a];
    }
    if (!run || a.size === 0) return base.run(ctx, inputs);
    const y = new Float32Array(a.size);
    be.binaryF32(op, a.data as Float32Array, b.data as Float32Array, y, run[1]);
    return [new Tensor('float32', y, [...a.dims])];
  };
}

/** A registry like `base` whose float32 Conv, Gemm, MatMul, pools and elementwise ops run on `backend`. */
export function backendFloatOps(backend: Backend, base: OpRegistry = defaultOps): OpRegistry {
  const reg = new OpRegistry();
  for (const key of base.list()) {
    const at = key.lastIndexOf('::');
    const [domain, op] = at < 0 ? ['', key] : [key.slice(0, at), key.slice(at + 2)];
    reg.register(op, base.get(op, domain)!, domain);
  }
  const wrap = (op: string, make: (b: OpImpl) => Run) => {
    const b = base.get(op);
    if (b) reg.register(op, { ...b, run: make(b) });
  };
  wrap('Conv', (b) => conv(backend, b));
  wrap('Gemm', (b) => gemm(backend, b));
  wrap('MatMul', (b) => matmul(backend, b));
  wrap('MaxPool', (b) => pool(backend, b, 'max'));
  wrap('AveragePool', (b) => pool(backend, b, 'avg'));
  wrap('GlobalMaxPool', (b) => globalPool(backend, b, 'max'));
  wrap('GlobalAveragePool', (b) => globalPool(backend, b, 'avg'));
  wrap('Relu', (b) => unary(backend, b, 'relu', () => ({})));
  wrap('Sigmoid', (b) => unary(backend, b, 'sigmoid', () => ({})));
  wrap('Tanh', (b) => unary(backend, b, 'tanh', () => ({})));
  wrap('HardSigmoid', (b) => unary(backend, b, 'hardsigmoid', (ctx) => ({ alpha: ctx.attrs.float('alpha', 0.2), beta: ctx.attrs.float('beta', 0.5) })));
  wrap('HardSwish', (b) => unary(backend, b, 'hardswish', () => ({})));
  wrap('LeakyRelu', (b) => unary(backend, b, 'leakyrelu', (ctx) => ({ alpha: ctx.attrs.float('alpha', 0.01) })));
  wrap('Clip', (b) => unary(backend, b, 'clip', clipParams));
  wrap('Add', (b) => binary(backend, b, 'add'));
  wrap('Sub', (b) => binary(backend, b, 'sub'));
  wrap('Mul', (b) => binary(backend, b, 'mul'));
  wrap('Div', (b) => binary(backend, b, 'div'));
  return reg;
}
