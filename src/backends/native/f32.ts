/** The float32 kernel family on the native backend: thin calls into the addon (napi/f32.cc). */
import type { F32Kernels, Pool3dParams } from '../kernels-f32.js';
import { VARIANT_ID, type KernelVariant } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import {
  activationOf,
  binaryId,
  checkFloats,
  checkHistogramTypes,
  checkSoftmaxTypes,
  convFields,
  is2dPool,
  normalizeGemm,
  poolFields,
  sumRowsFields,
  validateConvProbe,
  unaryArgs,
  validatePool,
  validateLayerNorm,
  validateScan,
} from '../f32-args.js';
import { jsF32Kernels } from '../js-f32.js';
import { probeWork } from '../../kernels/f32/conv-probe.js';

export interface F32Addon {
  conv2dF32(
    params: Int32Array,
    actMin: number,
    actMax: number,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    variant: number,
  ): void;
  gemmF32(
    dims: Float64Array,
    alpha: number,
    beta: number,
    actMin: number,
    actMax: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array | null,
    y: Float32Array,
    variant: number,
  ): void;
  pool2dF32(params: Int32Array, kind: number, x: Float32Array, y: Float32Array, variant: number): void;
  globalPoolF32(planes: number, size: number, kind: number, x: Float32Array, y: Float32Array, variant: number): void;
  unaryF32(op: number, p0: number, p1: number, x: Float32Array, y: Float32Array, variant: number): void;
  binaryF32(op: number, a: Float32Array, b: Float32Array, inner: number, y: Float32Array, variant: number): void;
  scanF32(x: Float32Array, out: Float64Array, variant: number): void;
  histogramF32(x: Float32Array, inv: number, zero: number, counts: Float64Array, variant: number): void;
  sumRowsF32(params: Int32Array, x: Float32Array, dst: Float64Array, variant: number): void;
  convProbeSumsF32(geo: Int32Array, x: Float32Array, delta: Float32Array, sums: Float64Array, work: Float64Array, variant: number): void;
  exactSumAddF64(x: Float64Array, acc: BigInt64Array): void;
  softmaxF32(x: Float32Array, y: Float32Array, outer: number, len: number, inner: number, log: number, variant: number): void;
  layerNormF32(
    x: Float32Array,
    scale: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    rows: number,
    n: number,
    eps: number,
    variant: number,
  ): void;
  col2imF32(geo: Int32Array, channels: number, cols: Float32Array, bias: Float32Array | null, y: Float32Array): void;
  f32AutoVariant(): string;
}

function vid(v: KernelVariant | undefined): number {
  return VARIANT_ID[v ?? 'auto'] ?? -2;
}

function call(f: () => void): void {
  try {
    f();
  } catch (e) {
    throw kernelError(e);
  }
}

export function nativeF32Kernels(addon: F32Addon): F32Kernels {
  // 3-D pools have no C kernel: they run the JS one.
  const js = jsF32Kernels();
  const pool = (p: Pool3dParams, kind: number, x: Float32Array, y: Float32Array, variant?: KernelVariant): boolean => {
    if (!is2dPool(p)) {
      validatePool(p, x, y);
      return false;
    }
    const f = poolFields(p);
    call(() => addon.pool2dF32(f, kind, x, y, vid(variant)));
    return true;
  };
  return {
    conv2dF32(p, x, w, bias, y, variant) {
      const f = convFields(p);
      const [lo, hi] = activationOf(p.activation, 'conv2d_f32');
      call(() => addon.conv2dF32(f, lo, hi, x, w, bias ?? null, y, vid(variant)));
    },
    gemmF32(args) {
      const g = normalizeGemm(args);
      call(() => addon.gemmF32(g.dims, g.alpha, g.beta, g.act[0], g.act[1], args.a, args.b, g.c, args.y, vid(args.variant)));
    },
    maxPoolF32(p, x, y, variant) {
      if (!pool(p, 0, x, y, variant)) js.maxPoolF32(p, x, y);
    },
    avgPoolF32(p, x, y, countIncludePad, variant) {
      if (!pool(p, countIncludePad ? 2 : 1, x, y, variant)) js.avgPoolF32(p, x, y, countIncludePad);
    },
    globalPoolF32(kind, planes, size, x, y, variant) {
      if (kind !== 'avg' && kind !== 'max') js.globalPoolF32(kind, planes, size, x, y); // throws the message
      call(() => addon.globalPoolF32(planes, size, kind === 'max' ? 0 : 1, x, y, vid(variant)));
    },
    unaryF32(op, x, y, params, variant) {
      const [id, p0, p1] = unaryArgs(op, params);
      call(() => addon.unaryF32(id, p0, p1, x, y, vid(variant)));
    },
    binaryF32(op, a, b, y, inner = 1, variant) {
      const id = binaryId(op);
      checkFloats(b, 'b', 'binary_f32');
      call(() => addon.binaryF32(id, a, b, inner, y, vid(variant)));
    },
    scanF32(x, out, variant) {
      validateScan(x, out); // the C call checks the same, after these type checks
      call(() => addon.scanF32(x, out, vid(variant)));
    },
    histogramF32(x, inv, zero, counts, variant) {
      checkHistogramTypes(x, inv, zero, counts);
      call(() => addon.histogramF32(x, inv, zero, counts, vid(variant)));
    },
    sumRowsF32(x, p, dst, variant) {
      const f = sumRowsFields(x, p, dst); // the C call checks sizes, overlap and the variant
      call(() => addon.sumRowsF32(f, x, dst, vid(variant)));
    },
    convProbeSumsF32(geo, x, delta, sums, variant) {
      const n = validateConvProbe(geo, x, delta, sums); // the C call checks them again
      call(() => addon.convProbeSumsF32(geo, x, delta, sums, probeWork(n), vid(variant)));
    },
    exactSumAddF64(x, acc) {
      call(() => addon.exactSumAddF64(x, acc)); // the C call checks the sizes and overlap
    },
    softmaxF32(x, y, outer, len, inner, log, variant) {
      checkSoftmaxTypes(x, y, outer, len, inner, log); // the C call checks sizes, overlap and the variant
      call(() => addon.softmaxF32(x, y, outer, len, inner, log ? 1 : 0, vid(variant)));
    },
    col2imF32(geo, channels, cols, bias, y) {
      call(() => addon.col2imF32(geo, channels, cols, bias, y));
    },
    layerNormF32(x, scale, bias, y, rows, n, eps, variant) {
      validateLayerNorm(x, scale, bias, y, rows, n, eps); // the C call checks them again
      call(() => addon.layerNormF32(x, scale, bias, y, rows, n, eps, vid(variant)));
    },
  };
}
