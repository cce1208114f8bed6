// Conv and ConvTranspose (float32). 1-D and 2-D Conv go through the im2col + GEMM kernel, 3-D Conv
// uses direct loops over a 3-D view; ConvTranspose (any rank) is a GEMM per group, then col2im.
import type { Conv2dF32Params, F32Activation, F32Kernels } from '../backends/kernels-f32.js';
import { jsF32Kernels } from '../backends/js-f32.js';
import { conv2dF32, conv2dScratchSize } from '../kernels/f32/conv.js';
import { col2imFields } from '../kernels/f32/col2im.js';
import { Tensor, sizeOf, allocData } from '../tensor.js';
import { pads3d, to3d, windowOutDims, windowParams, type SpatialParams } from './conv-util.js';
import { float32Of, isStatic } from './util.js';
import { need, unsupported, type OpContext, type OpImpl } from './types.js';

function kernelShape(ctx: OpContext, w: readonly number[]): number[] {
  return ctx.attrs.ints('kernel_shape') ?? w.slice(2);
}

export const Conv: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    const w = ctx.inputs[1];
    if (!x?.shape || !isStatic(w?.shape)) return [{ dtype: x?.dtype }];
    const k = kernelShape(ctx, w.shape);
    return [{ dtype: x.dtype, shape: [x.shape[0]!, w.shape[0]!, ...windowOutDims(ctx, x.shape.slice(2), k)] }];
  },
  run: (ctx, inputs) => runConv(ctx, inputs),
  replayable: true,
};

/**
 * com.microsoft FusedConv, onnxruntime's Conv + activation node: the float session fuses a Conv
 * and the Relu or Clip that alone reads it into one (src/runtime/fuse-conv-activation.ts), and
 * the clamp runs inside the convolution kernel. activation 'Relu', or 'Clip' with
 * activation_params [min, max]; other activations are refused.
 */
export const FusedConv: OpImpl = {
  inferShape: (ctx) => Conv.inferShape!(ctx),
  run(ctx, inputs) {
    let a = activations.get(ctx);
    if (!a) {
      const act = ctx.attrs.string('activation', '');
      const params = ctx.attrs.floats('activation_params') ?? [];
      if (act === 'Relu') a = { min: 0, max: Infinity };
      else if (act === 'Clip') {
        need(ctx, params.length === 2 && params[0]! <= params[1]!, 'Clip needs activation_params [min, max] with min <= max');
        a = { min: params[0]!, max: params[1]! };
      } else return unsupported(ctx, `activation '${act}' is not supported (Relu and Clip are)`);
      activations.set(ctx, a);
    }
    return runConv(ctx, inputs, a);
  },
  replayable: true,
};
/** FusedConv's clamp per node (the attributes do not change). */
const activations = new WeakMap<OpContext, F32Activation>();

/**
 * What a Conv node's run derives from its input dims and attributes, kept per node (OpContext) and
 * reused while the dims stay the same: a float model's Conv runs with the same shapes every time,
 * and for the small layers of mobile models this bookkeeping cost as much as the kernel.
 */
interface ConvGeometry {
  xDims: readonly number[];
  wDims: readonly number[];
  bias: number;
  act: F32Activation | undefined;
  outDims: number[];
  /** 1-D/2-D: the kernel's parameters (frozen, so backends may cache what they derive from them). */
  p?: Readonly<Conv2dF32Params>;
  k: number[];
  sp: SpatialParams;
  group: number;
}
const geometries = new WeakMap<OpContext, ConvGeometry>();

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function geometryOf(ctx: OpContext, x: Tensor, w: Tensor, hasBias: number, act: F32Activation | undefined): ConvGeometry {
  const g = geometries.get(ctx);
  if (g && g.act === act && g.bias === hasBias && sameDims(g.xDims, x.dims) && sameDims(g.wDims, w.dims)) return g;
  need(ctx, x.rank >= 3 && x.rank <= 5 && w.rank === x.rank, () => `X rank ${x.rank} and W rank ${w.rank} must match and be 3..5`);
  const group = ctx.attrs.int('group', 1);
  const [N, C] = x.dims as [number, number];
  const M = w.dims[0]!;
  need(ctx, C === w.dims[1]! * group, () => `X has ${C} channels, W expects ${w.dims[1]! * group} (group ${group})`);
  need(ctx, M % group === 0, `output channels ${M} not divisible by group ${group}`);
  need(ctx, hasBias < 0 || hasBias === M, `bias has ${hasBias} values, expected ${M}`);
  const k = kernelShape(ctx, w.dims);
  need(
    ctx,
    k.every((v, i) => v === w.dims[2 + i]),
    `kernel_shape [${k}] does not match W dims [${w.dims}]`,
  );
  const sp = windowParams(ctx, x.dims.slice(2), k);
  const s = sp.out.length;
  let p: Conv2dF32Params | undefined;
  if (s <= 2) {
    const two = s === 1 ? (v: number[], f: number) => [f, v[0]!] : (v: number[]) => v;
    const [H, Wi] = two(x.dims.slice(2), 1);
    const [KH, KW] = two(k, 1);
    const [OH, OW] = two(sp.out, 1);
    const [sh, sw] = two(sp.strides, 1);
    const [dh, dw] = two(sp.dilations, 1);
    const [pt, pl] = two(sp.pads.slice(0, s), 0);
    p = {
      N,
      C,
      H: H!,
      W: Wi!,
      M,
      KH: KH!,
      KW: KW!,
      OH: OH!,
      OW: OW!,
      strideH: sh!,
      strideW: sw!,
      padTop: pt!,
      padLeft: pl!,
      dilationH: dh!,
      dilationW: dw!,
      group,
    };
    if (act) p.activation = Object.freeze({ ...act });
    Object.freeze(p);
  }
  const geo: ConvGeometry = { xDims: [...x.dims], wDims: [...w.dims], bias: hasBias, act, outDims: [N, M, ...sp.out], p, k, sp, group };
  geometries.set(ctx, geo);
  return geo;
}

function runConv(ctx: OpContext, [x, w, b]: (Tensor | undefined)[], act?: F32Activation): Tensor[] {
  need(ctx, x && w, 'needs X and W');
  const X = float32Of(ctx, x, 'X');
  const Wd = float32Of(ctx, w, 'W');
  const B = b ? float32Of(ctx, b, 'B') : undefined;
  const geo = geometryOf(ctx, x, w, B ? B.length : -1, act);
  const [N, M] = geo.outDims as [number, number];
  const C = x.dims[1]!;
  // Every output is written (bias plus the sum), unless there are no input channels to sum.
  const y = allocData('float32', N * M * sizeOf(geo.sp.out), C === 0) as Float32Array;
  const p = geo.p;
  if (p) {
    if (ctx.f32) ctx.f32.conv2dF32(p, X, Wd, B, y);
    else {
      conv2dF32(p, X, Wd, B, y, scratchFor(conv2dScratchSize(p)));
      if (act) clamp(y, act);
    }
  } else {
    convDirect3d(x.dims as number[], Wd, X, B, y, M, geo.group, geo.k, geo.sp);
    if (act) clamp(y, act);
  }
  return [new Tensor('float32', y, geo.outDims)];
}

/** y = min(max(y, lo), hi), NaN kept (as the kernels' fused clamp). */
function clamp(y: Float32Array, a: F32Activation): void {
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (v < a.min) y[i] = a.min;
    else if (v > a.max) y[i] = a.max;
  }
}

// One scratch buffer reused across Conv calls (the JS engine is single-threaded).
let scratch = new Float32Array(0);
function scratchFor(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}

function convDirect3d(
  xd: number[],
  w: Float32Array,
  x: Float32Array,
  b: Float32Array | undefined,
  y: Float32Array,
  M: number,
  group: number,
  kernel: number[],
  sp: ReturnType<typeof windowParams>,
): void {
  const [N, C] = xd as [number, number];
  const [D, H, W] = to3d(xd.slice(2), 1) as [number, number, number];
  const [KD, KH, KW] = to3d(kernel, 1) as [number, number, number];
  const [OD, OH, OW] = to3d(sp.out, 1) as [number, number, number];
  const [sd, sh, sw] = to3d(sp.strides, 1) as [number, number, number];
  const [dd, dh, dw] = to3d(sp.dilations, 1) as [number, number, number];
  const { begin } = pads3d(sp.pads);
  const Cg = C / group;
  const Mg = M / group;
  let yi = 0;
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const g = (m / Mg) | 0;
      for (let od = 0; od < OD; od++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            let acc = b ? b[m]! : 0;
            for (let c = 0; c < Cg; c++) {
              const xc = (n * C + g * Cg + c) * D * H * W;
              const wc = (m * Cg + c) * KD * KH * KW;
              for (let kd = 0; kd < KD; kd++) {
                const id = od * sd - begin[0]! + kd * dd;
                if (id < 0 || id >= D) continue;
                for (let kh = 0; kh < KH; kh++) {
                  const ih = oh * sh - begin[1]! + kh * dh;
                  if (ih < 0 || ih >= H) continue;
                  for (let kw = 0; kw < KW; kw++) {
                    const iw = ow * sw - begin[2]! + kw * dw;
                    if (iw < 0 || iw >= W) continue;
                    acc += x[xc + (id * H + ih) * W + iw]! * w[wc + (kd * KH + kh) * KW + kw]!;
                  }
                }
              }
            }
            y[yi++] = acc;
          }
    }
}

/** ConvTranspose output sizes and begin pads per the spec (output_shape, output_padding, auto_pad). */
export function convTransposeParams(ctx: OpContext, inSizes: number[], kernel: number[]) {
  const s = inSizes.length;
  const strides = ctx.attrs.ints('strides') ?? new Array(s).fill(1);
  const dilations = ctx.attrs.ints('dilations') ?? new Array(s).fill(1);
  const outPad = ctx.attrs.ints('output_padding') ?? new Array(s).fill(0);
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  let pads = ctx.attrs.ints('pads') ?? new Array(2 * s).fill(0);
  let outShape = ctx.attrs.ints('output_shape');
  if (outShape && outShape.length > s) outShape = outShape.slice(outShape.length - s);
  const out = new Array<number>(s);
  const full = (i: number) => strides[i]! * (inSizes[i]! - 1) + outPad[i]! + (kernel[i]! - 1) * dilations[i]! + 1;
  if (outShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array(2 * s).fill(0);
    for (let i = 0; i < s; i++) {
      out[i] = outShape ? outShape[i]! : inSizes[i]! * strides[i]!;
      if (outShape) {
        // onnxruntime (and the spec): total = max(0, full - out), the odd unit at the head unless
        // SAME_UPPER; an output_shape past the full extent adds rows at the end (negative end pad).
        const total = Math.max(0, full(i) - out[i]!);
        const head = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : total - Math.floor(total / 2);
        pads[i] = head;
        pads[i + s] = full(i) - out[i]! - head;
        continue;
      }
      const total = full(i) - out[i]!;
      // C++ integer division (truncation), as onnxruntime distributes a negative total padding.
      const half = Math.trunc(total / 2);
      if (autoPad === 'SAME_UPPER') {
        pads[i] = half;
        pads[i + s] = total - half;
      } else {
        pads[i] = total - half;
        pads[i + s] = half;
      }
    }
  } else {
    if (autoPad === 'VALID') pads = new Array(2 * s).fill(0);
    for (let i = 0; i < s; i++) out[i] = full(i) - pads[i]! - pads[i + s]!;
  }
  return { strides, dilations, pads, out };
}

export const ConvTranspose: OpImpl = {
  // Its GEMM and col2im calls are recorded; the cols scratch they share (colsFor) is kept alive by
  // the recording and rewritten by each replayed GEMM before its col2im reads it.
  replayable: true,
  inferShape(ctx) {
    const x = ctx.inputs[0];
    const w = ctx.inputs[1];
    if (!isStatic(x?.shape) || !isStatic(w?.shape)) return [{ dtype: x?.dtype }];
    const k = kernelShape(ctx, w.shape);
    const p = convTransposeParams(ctx, x.shape.slice(2), k);
    return [{ dtype: x.dtype, shape: [x.shape[0]!, w.shape[1]! * ctx.attrs.int('group', 1), ...p.out] }];
  },
  run(ctx, [x, w, b]) {
    need(ctx, x && w, 'needs X and W');
    const X = float32Of(ctx, x, 'X');
    const Wd = float32Of(ctx, w, 'W');
    const B = b ? float32Of(ctx, b, 'B') : undefined;
    need(ctx, x.rank >= 3 && x.rank <= 5 && w.rank === x.rank, 'X and W ranks must match and be 3..5');
    const group = ctx.attrs.int('group', 1);
    const [N, C] = x.dims as [number, number];
    need(ctx, w.dims[0] === C, `W has ${w.dims[0]} input channels, X has ${C}`);
    const Mg = w.dims[1]!;
    const M = Mg * group;
    need(ctx, !B || B.length === M, () => `B has ${B!.length} values, expected ${M} (one per output channel)`);
    const Cg = C / group;
    const k = kernelShape(ctx, w.dims);
    const sp = convTransposeParams(ctx, x.dims.slice(2) as number[], k);
    const [D, H, W] = to3d(x.dims.slice(2) as number[], 1) as [number, number, number];
    const [KD, KH, KW] = to3d(k, 1) as [number, number, number];
    const [OD, OH, OW] = to3d(sp.out, 1) as [number, number, number];
    const [sd, sh, sw] = to3d(sp.strides, 1) as [number, number, number];
    const [dd, dh, dw] = to3d(sp.dilations, 1) as [number, number, number];
    const { begin } = pads3d(sp.pads);
    const O = OD * OH * OW;
    const I = D * H * W;
    const Kv = KD * KH * KW;
    const y = allocData('float32', N * M * O, false) as Float32Array; // every element written by col2im
    // GEMM then col2im, as onnxruntime and Caffe do: per image and group, cols[Mg*Kv, I] = W_g^T X_g,
    // then every column adds into the output pixel it lands on. Both are the backend's kernels.
    const f32 = ctx.f32 ?? jsF32();
    const cols = colsFor(Mg * Kv * I);
    const geo = col2imFields({ D, H, W, KD, KH, KW, OD, OH, OW, sd, sh, sw, dd, dh, dw, pd: begin[0]!, ph: begin[1]!, pw: begin[2]! });
    for (let n = 0; n < N; n++)
      for (let g = 0; g < group; g++) {
        const x0 = (n * C + g * Cg) * I;
        f32.gemmF32({
          M: Mg * Kv,
          N: I,
          K: Cg,
          a: Wd.subarray(g * Cg * Mg * Kv, (g + 1) * Cg * Mg * Kv),
          lda: Mg * Kv,
          transA: true,
          b: X.subarray(x0, x0 + Cg * I),
          y: cols,
        });
        const y0 = (n * M + g * Mg) * O;
        f32.col2imF32(geo, Mg, cols, B ? B.subarray(g * Mg, (g + 1) * Mg) : null, y.subarray(y0, y0 + Mg * O));
      }
    return [new Tensor('float32', y, [N, M, ...sp.out])];
  },
};

// One cols buffer reused across ConvTranspose calls (the JS engine is single-threaded).
let colsBuf = new Float32Array(0);
function colsFor(n: number): Float32Array {
  if (colsBuf.length < n) colsBuf = new Float32Array(n);
  return colsBuf.subarray(0, n);
}

let jsKernels: F32Kernels | undefined;
function jsF32(): F32Kernels {
  jsKernels ??= jsF32Kernels();
  return jsKernels;
}

export const convOps: Record<string, OpImpl> = { Conv, ConvTranspose };
