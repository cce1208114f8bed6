// BatchNormalization: y = (x - mean) / sqrt(var + eps) * scale + B per channel (axis 1). Inference
// mode uses the stored statistics; training_mode (opset 14+) uses batch statistics and also returns
// the updated running mean and variance.
// LayerNormalization (opset 17): each row of the trailing axes [axis, rank) is normalized,
// y = (x - mean) / sqrt(var + eps) * Scale + B, with mean and var over the row.
import { Tensor, allocData, sizeOf } from '../tensor.js';
import { broadcastStrides, float32Of, normAxis, same, stridedCopy } from './util.js';
import { need, type OpContext, type OpImpl, type TypeInfo } from './types.js';
import { layerNormF32Ref } from '../backends/js-f32.js';

export const BatchNormalization: OpImpl = {
  inferShape: (ctx) => {
    const out = same(ctx.inputs[0]);
    if (ctx.node.outputs.length > 1) out.push({ ...(ctx.inputs[3] ?? {}) }, { ...(ctx.inputs[4] ?? {}) });
    return out;
  },
  run(ctx, [x, scale, bias, mean, variance]) {
    need(ctx, x && scale && bias && mean && variance, 'needs X, scale, B, input_mean, input_var');
    const X = float32Of(ctx, x, 'X');
    const S = float32Of(ctx, scale, 'scale');
    const Bi = float32Of(ctx, bias, 'B');
    let Mu = float32Of(ctx, mean, 'mean');
    let V = float32Of(ctx, variance, 'var');
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const N = x.dims[0]!;
    const C = x.rank > 1 ? x.dims[1]! : 1;
    const inner = x.size / Math.max(1, N * C);
    need(ctx, S.length === C && Bi.length === C && Mu.length === C && V.length === C, () => `per-channel parameters must have ${C} values`);
    const training = ctx.opset >= 14 && ctx.attrs.int('training_mode', 0) === 1;
    const extra: Tensor[] = [];
    if (training) {
      const momentum = ctx.attrs.float('momentum', 0.9);
      const bm = new Float32Array(C);
      const bv = new Float32Array(C);
      const cnt = N * inner;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let n = 0; n < N; n++) for (let i = 0, o = (n * C + c) * inner; i < inner; i++) s += X[o + i]!;
        const m = s / cnt;
        let q = 0;
        for (let n = 0; n < N; n++) for (let i = 0, o = (n * C + c) * inner; i < inner; i++) q += (X[o + i]! - m) ** 2;
        bm[c] = m;
        bv[c] = q / cnt;
      }
      const rm = new Float32Array(C);
      const rv = new Float32Array(C);
      for (let c = 0; c < C; c++) {
        rm[c] = Mu[c]! * momentum + bm[c]! * (1 - momentum);
        rv[c] = V[c]! * momentum + bv[c]! * (1 - momentum);
      }
      extra.push(new Tensor('float32', rm, mean.dims), new Tensor('float32', rv, variance.dims));
      Mu = bm;
      V = bv;
    }
    const y = allocData('float32', X.length) as Float32Array;
    if (ctx.f32 && !training && inner > 0) {
      // y = x * a[c] + b[c] as two per-channel kernel calls (the second in place).
      const a = new Float32Array(C);
      const b = new Float32Array(C);
      for (let c = 0; c < C; c++) {
        a[c] = S[c]! / Math.sqrt(V[c]! + eps);
        b[c] = Bi[c]! - Mu[c]! * a[c]!;
      }
      ctx.f32.binaryF32('mul', X, a, y, inner);
      ctx.f32.binaryF32('add', y, b, y, inner);
      return [new Tensor('float32', y, x.dims)];
    }
    for (let c = 0; c < C; c++) {
      const a = S[c]! / Math.sqrt(V[c]! + eps);
      const b = Bi[c]! - Mu[c]! * a;
      for (let n = 0; n < N; n++) {
        const o = (n * C + c) * inner;
        for (let i = 0; i < inner; i++) y[o + i] = X[o + i]! * a + b;
      }
    }
    return [new Tensor('float32', y, x.dims), ...extra].slice(0, Math.max(1, ctx.node.outputs.length));
  },
};

/**
 * LayerNormalization. Mean and variance are taken in float64 (the spec's stash_type 1 asks for at
 * least float32); Scale and B broadcast to the normalized shape (right-aligned, as the spec allows).
 * Optional outputs Mean and InvStdDev have X's leading dims and 1 for each normalized axis.
 * The float session also writes this node for the decomposed pattern exporters emit
 * (src/passes/fuse-layer-norm.ts).
 */
export const LayerNormalization: OpImpl = {
  // Its kernel call is recorded; with the Mean/InvStdDev outputs, or a Scale or B it broadcasts, it
  // runs in TypeScript, which the recording sees (no kernel call).
  replayable: true,
  inferShape: (ctx) => {
    const x = ctx.inputs[0];
    const out: TypeInfo[] = [same(x)[0]!];
    if (ctx.node.outputs.length > 1) {
      const r = x?.shape?.length;
      const stat: TypeInfo =
        r === undefined
          ? { dtype: 'float32' }
          : {
              dtype: 'float32',
              shape: statShape(
                ctx,
                x!.shape!.map((d) => d),
                r,
              ),
            };
      out.push(stat, { ...stat });
    }
    return out;
  },
  run(ctx, [x, scale, bias]) {
    need(ctx, x && scale, 'needs X and Scale');
    const X = float32Of(ctx, x, 'X');
    const r = x.rank;
    const axis = normAxis(ctx, ctx.attrs.int('axis', -1), Math.max(r, 1));
    const eps = ctx.attrs.float('epsilon', 1e-5);
    const normDims = x.dims.slice(axis);
    const n = sizeOf(normDims);
    const outer = n === 0 ? 0 : X.length / n;
    const S = expandTo(ctx, float32Of(ctx, scale, 'Scale'), scale.dims, normDims, 'Scale');
    const B = bias ? expandTo(ctx, float32Of(ctx, bias, 'B'), bias.dims, normDims, 'B') : undefined;
    const y = allocData('float32', X.length, false) as Float32Array;
    const wantStats = ctx.node.outputs.length > 1;
    const mean = wantStats ? new Float32Array(outer) : undefined;
    const inv = wantStats ? new Float32Array(outer) : undefined;
    // The backend's kernel runs the same double arithmetic (same bits); Mean/InvStdDev outputs come
    // from the TypeScript definition only, and so does a Scale or B broadcast here: the float replay
    // would repeat a kernel call on this run's broadcast copy (Scale may be computed, not constant).
    const broadcast = S !== scale.data || (B !== undefined && B !== bias!.data);
    if (ctx.f32 && !wantStats && !broadcast && outer > 0) ctx.f32.layerNormF32(X, S, B ?? null, y, outer, n, eps);
    else layerNormF32Ref(X, S, B ?? null, y, outer, n, eps, mean, inv);
    const out = [new Tensor('float32', y, x.dims)];
    if (mean && inv) {
      const sd = statShape(ctx, [...x.dims], r);
      out.push(new Tensor('float32', mean, sd), new Tensor('float32', inv, sd));
    }
    return out;
  },
};

function statShape<T>(ctx: OpContext, dims: T[], rank: number): (T | number)[] {
  const axis = normAxis(ctx, ctx.attrs.int('axis', -1), Math.max(rank, 1));
  return dims.map((d, i) => (i < axis ? d : 1));
}

/**
 * `v` (dims `dims`) broadcast to `target` (right-aligned), as a flat array of sizeOf(target); also
 * the integer LayerNorm's Scale and B (src/runtime/integer/lower/layernorm.ts).
 */
export function expandTo(ctx: OpContext, v: Float32Array, dims: readonly number[], target: readonly number[], what: string): Float32Array {
  const n = sizeOf(target);
  while (dims.length > target.length && dims[0] === 1) dims = dims.slice(1); // leading 1s
  if (v.length === n && dims.length <= target.length) return v;
  need(ctx, dims.length <= target.length, () => `${what} of dims [${dims}] has more axes than the normalized shape [${target}]`);
  const off = target.length - dims.length;
  need(
    ctx,
    dims.every((d, i) => d === 1 || d === target[off + i]),
    () => `${what} of dims [${dims}] does not broadcast to the normalized shape [${target}]`,
  );
  const out = new Float32Array(n);
  stridedCopy(v, 0, broadcastStrides([...new Array(off).fill(1), ...dims], target), out, target);
  return out;
}

export const normalizationOps: Record<string, OpImpl> = { BatchNormalization, LayerNormalization };
