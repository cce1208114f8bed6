// BatchNormalization: y = (x - mean) / sqrt(var + eps) * scale + B per channel (axis 1). Inference
// mode uses the stored statistics; training_mode (opset 14+) uses batch statistics and also returns
// the updated running mean and variance.
import { Tensor, allocData } from '../tensor.js';
import { float32Of, same } from './util.js';
import { need, type OpImpl } from './types.js';

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

export const normalizationOps: Record<string, OpImpl> = { BatchNormalization };
