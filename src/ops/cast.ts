// Cast between the numeric types, bool, float16 (as bits) and string.
import { Tensor, allocData, dataTypeFromOnnx, isBigIntType, type DataType, type TensorData } from '../tensor.js';
import { unsupported, need, type OpContext, type OpImpl } from './types.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float -> IEEE half bits, round to nearest even. */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function parseNumber(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  return Number(t);
}

export function castTensor(_ctx: OpContext, x: Tensor, to: DataType): Tensor {
  if (x.dtype === to) return x;
  const n = x.size;
  const src = x.data as any;
  // Read every element as a number (or bigint for 64-bit integers).
  const read: (i: number) => number | bigint =
    x.dtype === 'float16' ? (i) => fromHalf(src[i]) : x.dtype === 'string' ? (i) => parseNumber(src[i]) : (i) => src[i];
  if ((to === 'float32' || to === 'float64') && x.dtype !== 'float16' && x.dtype !== 'string' && !isBigIntType(x.dtype)) {
    // Typed-array set() converts in native code with the same rounding as the loop below (one
    // IEEE round-to-nearest-even per element): int32 -> float32 after MatMulInteger is 10x faster.
    const out = allocData(to, n, false) as Float32Array | Float64Array;
    out.set(src as ArrayLike<number>);
    return new Tensor(to, out, x.dims);
  }
  const out = allocData(to, n) as any;
  if (to === 'string') {
    for (let i = 0; i < n; i++) {
      const v = read(i);
      out[i] = typeof v === 'bigint' ? v.toString() : x.dtype === 'bool' ? String(v) : formatFloat(v, x.dtype);
    }
  } else if (isBigIntType(to)) {
    for (let i = 0; i < n; i++) {
      const v = read(i);
      if (typeof v === 'bigint') out[i] = v;
      else out[i] = Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
    }
  } else if (to === 'bool') {
    for (let i = 0; i < n; i++) {
      const v = read(i);
      out[i] = typeof v === 'bigint' ? (v !== 0n ? 1 : 0) : v !== 0 && !Number.isNaN(v) ? 1 : 0;
    }
  } else if (to === 'float16') {
    for (let i = 0; i < n; i++) out[i] = toHalf(Number(read(i)));
  } else if (to === 'float32' || to === 'float64') {
    for (let i = 0; i < n; i++) out[i] = Number(read(i));
  } else if (to === 'int4' || to === 'uint4') {
    // ONNX keeps the low 4 bits (the reference casts through int8), int4 sign-extended.
    for (let i = 0; i < n; i++) {
      const v = read(i);
      const b = (typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : Number.isFinite(v) ? Math.trunc(v) : 0) & 15;
      out[i] = to === 'int4' && b > 7 ? b - 16 : b;
    }
  } else {
    // Float to integer truncates toward zero (C semantics); the typed-array store wraps the rest.
    for (let i = 0; i < n; i++) {
      const v = read(i);
      out[i] = typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : Math.trunc(v);
    }
  }
  return new Tensor(to, out as TensorData, x.dims);
}

function formatFloat(v: number, dtype: DataType): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'INF';
  if (v === -Infinity) return '-INF';
  if (dtype === 'float32' || dtype === 'float16') {
    // Shortest string that round-trips through float32, like onnxruntime's %.9g-then-trim output.
    for (let p = 1; p <= 9; p++) {
      const s = v.toPrecision(p);
      if (Math.fround(Number(s)) === v) return String(Number(s));
    }
  }
  return String(v);
}

export const Cast: OpImpl = {
  inferShape(ctx) {
    return [{ dtype: dataTypeFromOnnx(ctx.attrs.int('to', 0)), shape: ctx.inputs[0]?.shape }];
  },
  run(ctx, [x]) {
    need(ctx, x, 'needs input');
    const code = ctx.attrs.int('to', 0);
    const to = dataTypeFromOnnx(code);
    if (!to) unsupported(ctx, `cast to ONNX type ${code} is not supported`);
    return [castTensor(ctx, x, to)];
  },
};

export const castOps: Record<string, OpImpl> = { Cast };
