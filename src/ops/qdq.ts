// QuantizeLinear / DequantizeLinear for the float engine (fake quantization of QDQ models), per
// tensor, per axis and blocked (opset 21). Arithmetic as ONNX Runtime: x / scale in float32, round
// half to even, add the zero point, saturate; dequantize as float32(x - zp) * scale.
import { roundHalfEven } from '../quant/fixedpoint.js';
import { Tensor, allocData, dataTypeFromOnnx, sizeOf, type DataType } from '../tensor.js';
import { fromHalf, toHalf } from './cast.js';
import { fail, need, unsupported, type OpContext, type OpImpl } from './types.js';
import { broadcastDims, broadcastShapes, broadcastStrides, normAxis } from './util.js';

/** Integer types QuantizeLinear can produce and DequantizeLinear can read, with their ranges. */
export const QUANT_RANGE: Partial<Record<DataType, readonly [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint4: [0, 15],
  int4: [-8, 7],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

/** Float values of a float32/float16/float64/int32 tensor as numbers (float16 decoded). */
function numbersOf(ctx: OpContext, t: Tensor, what: string): ArrayLike<number> {
  switch (t.dtype) {
    case 'float32':
    case 'float64':
    case 'int32':
      return t.data as ArrayLike<number>;
    case 'float16': {
      const d = t.data as Uint16Array;
      const out = allocData('float32', d.length) as Float32Array;
      for (let i = 0; i < d.length; i++) out[i] = fromHalf(d[i]!);
      return out;
    }
    default:
      return unsupported(ctx, `${what} of type ${t.dtype} is not supported`);
  }
}

/**
 * How element i of x finds its scale/zero point: per tensor, per axis, or blocked along axis.
 * Returns a function of the flat index, plus the number of parameter entries expected.
 */
export function paramIndexer(
  ctx: OpContext,
  xDims: readonly number[],
  scaleDims: readonly number[],
  axisAttr: number,
  blockSize: number,
): { count: number; index: (i: number) => number; perTensor: boolean; axis: number } {
  const nScale = sizeOf(scaleDims);
  if (blockSize <= 0 && (scaleDims.length === 0 || (scaleDims.length === 1 && nScale === 1))) {
    return { count: 1, index: () => 0, perTensor: true, axis: -1 };
  }
  need(ctx, xDims.length > 0, 'a per-axis scale needs an input of rank >= 1');
  const axis = normAxis(ctx, axisAttr, xDims.length);
  const D = xDims[axis]!;
  let inner = 1;
  for (let k = axis + 1; k < xDims.length; k++) inner *= xDims[k]!;
  if (blockSize <= 0) {
    need(
      ctx,
      scaleDims.length === 1 && nScale === D,
      () => `scale has dims [${scaleDims.join(', ')}]; a per-axis scale along axis ${axis} must be 1-D of length ${D}`,
    );
    return { count: D, index: (i) => Math.floor(i / inner) % D, perTensor: false, axis };
  }
  const nb = Math.ceil(D / blockSize);
  need(
    ctx,
    scaleDims.length === xDims.length && scaleDims.every((d, k) => (k === axis ? d === nb : d === xDims[k])),
    () =>
      `scale has dims [${scaleDims.join(', ')}]; blocked quantization (block_size ${blockSize}) along axis ${axis} needs [${xDims.map((d, k) => (k === axis ? nb : d)).join(', ')}]`,
  );
  return {
    count: nScale,
    index: (i) => {
      const inr = i % inner;
      const d = Math.floor(i / inner) % D;
      const o = Math.floor(i / (inner * D));
      return (o * nb + Math.floor(d / blockSize)) * inner + inr;
    },
    perTensor: false,
    axis,
  };
}

function outputType(ctx: OpContext, zp: { dtype?: DataType } | undefined): DataType {
  if (zp?.dtype) return zp.dtype;
  const code = ctx.attrs.int('output_dtype', 0);
  if (code) {
    const t = dataTypeFromOnnx(code);
    if (!t || !QUANT_RANGE[t] || t === 'int32')
      unsupported(ctx, `output_dtype ${code} is not supported (uint8, int8, uint4, int4, uint16, int16)`);
    return t;
  }
  return 'uint8';
}

function zeroPoints(ctx: OpContext, zp: Tensor | undefined, count: number, what: string): ArrayLike<number> | undefined {
  if (!zp) return undefined;
  need(ctx, zp.size === count, () => `${what} zero point has ${zp.size} elements, the scale ${count}`);
  if (!QUANT_RANGE[zp.dtype]) unsupported(ctx, `zero point of type ${zp.dtype} is not supported`);
  return zp.data as ArrayLike<number>;
}

function quantizeLinear(rounding: boolean): OpImpl {
  return {
    inferShape: (ctx) => [{ dtype: rounding ? outputType(ctx, ctx.inputs[2]) : 'float32', shape: ctx.inputs[0]?.shape }],
    run(ctx, [x, scale, zp]) {
      need(ctx, x && scale, 'needs inputs x and y_scale');
      const out = outputType(ctx, zp);
      const range = QUANT_RANGE[out];
      if (!range || out === 'int32') unsupported(ctx, `output type ${out} is not supported`);
      const [qmin, qmax] = range;
      const xs = numbersOf(ctx, x, 'input');
      const ss = numbersOf(ctx, scale, 'y_scale');
      const ix = paramIndexer(ctx, x.dims, scale.dims, ctx.attrs.int('axis', 1), ctx.attrs.int('block_size', 0));
      const zs = zeroPoints(ctx, zp, ix.count, 'y');
      const n = x.size;
      const y = rounding ? (allocData(out, n) as Int32Array) : new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const s = ix.index(i);
        const z = zs ? zs[s]! : 0;
        // float32 division like ONNX Runtime (MLAS divides, it does not multiply by 1/scale).
        const v = Math.fround(xs[i]! / ss[s]!);
        let q: number;
        if (Number.isNaN(v)) q = rounding ? 0 : NaN;
        else {
          q = (rounding ? roundHalfEven(v) : v) + z;
          q = q < qmin ? qmin : q > qmax ? qmax : q;
        }
        y[i] = q;
      }
      return [new Tensor(rounding ? out : 'float32', y, x.dims)];
    },
  };
}

function dequantizeLinear(): OpImpl {
  return {
    inferShape: (ctx) => [{ dtype: ctx.inputs[1]?.dtype === 'float16' ? 'float16' : 'float32', shape: ctx.inputs[0]?.shape }],
    run(ctx, [x, scale, zp]) {
      need(ctx, x && scale, 'needs inputs x and x_scale');
      // float32 x is the unrounded output of a no-rounding QuantizeLinear.
      if (!QUANT_RANGE[x.dtype] && x.dtype !== 'float32') unsupported(ctx, `input of type ${x.dtype} is not supported`);
      if (zp && x.dtype !== 'float32') need(ctx, zp.dtype === x.dtype, () => `zero point is ${zp.dtype}, the input ${x.dtype}`);
      const xs = x.data as ArrayLike<number>;
      const ss = numbersOf(ctx, scale, 'x_scale');
      const ix = paramIndexer(ctx, x.dims, scale.dims, ctx.attrs.int('axis', 1), ctx.attrs.int('block_size', 0));
      const zs = zeroPoints(ctx, zp, ix.count, 'x');
      if (x.dtype === 'int32' && zs) for (let k = 0; k < ix.count; k++) need(ctx, zs[k] === 0, 'an int32 input needs a zero point of 0');
      const n = x.size;
      const y = allocData('float32', n) as Float32Array;
      for (let i = 0; i < n; i++) {
        const s = ix.index(i);
        y[i] = Math.fround(Math.fround(xs[i]! - (zs ? zs[s]! : 0)) * ss[s]!);
      }
      if (scale.dtype === 'float16') {
        const h = new Uint16Array(n);
        for (let i = 0; i < n; i++) h[i] = toHalf(y[i]!);
        return [new Tensor('float16', h, x.dims)];
      }
      return [new Tensor('float32', y, x.dims)];
    },
  };
}

/**
 * DynamicQuantizeLinear's parameters from the range [lo, hi] (already widened to hold 0), in float32:
 * the one definition the op and the integer executor's lowering share.
 */
export function dynamicQuantParams(lo: number, hi: number): { scale: number; zp: number } {
  // An all-zero input has no range: scale 1, zero point 0 (onnxruntime's guard against 0 / 0).
  const scale = hi === lo ? 1 : Math.fround(Math.fround(hi - lo) / 255);
  const zp = Math.min(255, Math.max(0, roundHalfEven(Math.fround(0 - Math.fround(lo / scale)))));
  return { scale, zp };
}

/** The refusal of a non-finite input (index i) to DynamicQuantizeLinear. */
export function dynamicQuantNonFinite(ctx: OpContext, d: Float32Array, i: number): never {
  fail(ctx, `input '${ctx.node.inputs[0]}' holds ${d[i]} at index ${i}: dynamic quantization needs a finite range`);
}

/**
 * DynamicQuantizeLinear (opset 11): uint8 with parameters from this input's range, as onnxruntime's
 * dynamic quantization writes before MatMulInteger. In float32 as the spec and onnxruntime compute it:
 * the range widened to hold 0, y_scale = (max - min) / 255, y_zero_point = saturate(round(0 - min /
 * y_scale)), y = saturate(round(x / y_scale) + y_zero_point), rounding half to even. An all-zero
 * input has y_scale 1, zero point 0 (onnxruntime's result). A NaN or infinity has no range: refused
 * with the input named.
 */
const DynamicQuantizeLinear: OpImpl = {
  inferShape: (ctx) => [
    { dtype: 'uint8', shape: ctx.inputs[0]?.shape },
    { dtype: 'float32', shape: [] },
    { dtype: 'uint8', shape: [] },
  ],
  run(ctx, [x]) {
    need(ctx, x, 'needs input x');
    if (x.dtype !== 'float32') unsupported(ctx, `input of type ${x.dtype} is not supported (float32 only)`);
    const d = x.data as Float32Array;
    const n = d.length;
    let lo = 0,
      hi = 0,
      finite = 0;
    for (let i = 0; i < n; i++) {
      const v = d[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      finite += v * 0; // NaN once any v is NaN or infinite (0 otherwise): no branch per element
    }
    if (finite !== 0)
      dynamicQuantNonFinite(
        ctx,
        d,
        d.findIndex((v) => !Number.isFinite(v)),
      );
    const { scale, zp } = dynamicQuantParams(lo, hi);
    const y = allocData('uint8', n, false) as Uint8Array;
    for (let i = 0; i < n; i++) {
      // The float32 division: a double division of two float32 values, rounded to float32.
      const r = roundHalfEven(Math.fround(d[i]! / scale)) + zp;
      y[i] = r < 0 ? 0 : r > 255 ? 255 : r;
    }
    return [new Tensor('uint8', y, x.dims), new Tensor('float32', Float32Array.of(scale), []), new Tensor('uint8', Uint8Array.of(zp), [])];
  },
};

/**
 * MatMulInteger (opset 10): int32 (A - a_zero_point) x (B - b_zero_point), 8-bit A and B, batch
 * axes broadcast as MatMul's; a_zero_point per tensor or per row of A (M), b_zero_point per tensor
 * or per column of B (N). Exact (int32 wrap, as the integer executor's qoperator lowering).
 */
const MatMulInteger: OpImpl = {
  inferShape: (ctx) => {
    const a = ctx.inputs[0]?.shape,
      b = ctx.inputs[1]?.shape;
    if (!a || !b || a.length < 2 || b.length < 2) return [{ dtype: 'int32' }];
    const batch = broadcastDims([a.slice(0, -2), b.slice(0, -2)]);
    return [{ dtype: 'int32', shape: batch ? [...batch, a[a.length - 2]!, b[b.length - 1]!] : undefined }];
  },
  run(ctx, [a, b, za, zb]) {
    need(ctx, a && b, 'needs inputs A and B');
    for (const [t, w] of [
      [a, 'A'],
      [b, 'B'],
      [za, 'a_zero_point'],
      [zb, 'b_zero_point'],
    ] as const)
      if (t && t.dtype !== 'uint8' && t.dtype !== 'int8') unsupported(ctx, `${w} of type ${t.dtype} is not supported (8-bit only)`);
    return [
      matMulInt32(
        ctx,
        a,
        za ? Float64Array.from(za.data as Int8Array) : Float64Array.of(0),
        b,
        zb ? Float64Array.from(zb.data as Int8Array) : Float64Array.of(0),
      ),
    ];
  },
};

/**
 * MatMulInteger's operand checks: M, K, N and the broadcast batch shape, or the op's error naming
 * what does not fit. Shared by matMulInt32 and the integer executor's kernel path.
 */
export function matMulIntegerShape(
  ctx: OpContext,
  a: Tensor,
  za: Float64Array,
  b: Tensor,
  zb: Float64Array,
): { M: number; K: number; N: number; batch: number[] } {
  need(ctx, a.rank >= 2 && b.rank >= 2, () => `A [${a.dims.join(', ')}] and B [${b.dims.join(', ')}] need rank >= 2`);
  const M = a.dims[a.rank - 2]!,
    K = a.dims[a.rank - 1]!,
    N = b.dims[b.rank - 1]!;
  need(ctx, b.dims[b.rank - 2] === K, () => `A [${a.dims.join(', ')}] and B [${b.dims.join(', ')}] do not multiply`);
  need(ctx, za.length === 1 || za.length === M, () => `a_zero_point has ${za.length} values: 1 or one per row of A (${M})`);
  need(ctx, zb.length === 1 || zb.length === N, () => `b_zero_point has ${zb.length} values: 1 or one per column of B (${N})`);
  return { M, K, N, batch: broadcastShapes(ctx, a.dims.slice(0, -2), b.dims.slice(0, -2)) };
}

/**
 * int32 (A - za) x (B - zb) with MatMul's batch broadcasting (1-D operands not taken); za one value
 * or one per row of A, zb one or one per column of B. The float op's implementation, and the
 * integer executor's MatMulInteger for the shapes its kernel path does not take
 * (src/runtime/integer/lower/matmul-integer.ts).
 */
export function matMulInt32(
  ctx: OpContext,
  a: Tensor,
  za: Float64Array,
  b: Tensor,
  zb: Float64Array,
  alloc: (n: number) => Int32Array = (n) => new Int32Array(n),
): Tensor {
  const { M, K, N, batch } = matMulIntegerShape(ctx, a, za, b, zb);
  const nb = sizeOf(batch);
  const aStr = broadcastStrides(a.dims.slice(0, -2), batch),
    bStr = broadcastStrides(b.dims.slice(0, -2), batch);
  const A = a.data as ArrayLike<number>,
    B = b.data as ArrayLike<number>;
  const y = alloc(nb * M * N);
  const idx = new Array<number>(batch.length).fill(0);
  for (let bi = 0; bi < nb; bi++) {
    let ao = 0,
      bo = 0;
    for (let k = 0, r = bi; k < batch.length; k++) {
      const ax = batch.length - 1 - k;
      idx[ax] = r % batch[ax]!;
      r = Math.floor(r / batch[ax]!);
    }
    for (let ax = 0; ax < batch.length; ax++) {
      ao += idx[ax]! * aStr[ax]!;
      bo += idx[ax]! * bStr[ax]!;
    }
    ao *= M * K;
    bo *= K * N;
    for (let m = 0; m < M; m++) {
      const zr = za.length === 1 ? za[0]! : za[m]!;
      for (let n = 0; n < N; n++) {
        const zc = zb.length === 1 ? zb[0]! : zb[n]!;
        let acc = 0;
        for (let kk = 0; kk < K; kk++) acc = (acc + (A[ao + m * K + kk]! - zr) * (B[bo + kk * N + n]! - zc)) | 0;
        y[(bi * M + m) * N + n] = acc;
      }
    }
  }
  return new Tensor('int32', y, [...batch, M, N]);
}

export const qdqOps: Record<string, OpImpl> = {
  QuantizeLinear: quantizeLinear(true),
  DequantizeLinear: dequantizeLinear(),
  DynamicQuantizeLinear,
  MatMulInteger,
};

/** The two ops for `rounding` (false: "PTQ without rounding", see createQdqRegistry in runtime/integer). */
export function makeQdqOps(rounding: boolean): Record<string, OpImpl> {
  return { QuantizeLinear: quantizeLinear(rounding), DequantizeLinear: dequantizeLinear() };
}
