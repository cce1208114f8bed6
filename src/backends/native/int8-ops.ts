/** The native backend's elementwise, pooling and layout kernels: thin calls into the addon. */
import { VARIANT_ID } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import type { QBinaryKernels } from '../kernels-qbinary.js';
import { alignShapes } from '../kernels-qbinary.js';
import type { QUnaryKernels } from '../kernels-qunary.js';
import type { QPoolKernels } from '../kernels-qpool.js';
import { flatPool } from '../kernels-qpool.js';
import type { QLayoutKernels } from '../kernels-qlayout.js';
import { reduceFlags, type QReduceKernels } from '../kernels-qreduce.js';
import type { KernelVariant } from '../types.js';

type Fn = (args: object) => void;
export interface Int8OpsAddon {
  qadd: Fn;
  qmul: Fn;
  lut2: Fn;
  lut: Fn;
  softmax: Fn;
  layerNorm: Fn;
  quantizeLinear: Fn;
  dequantizeLinear: Fn;
  maxPool: Fn;
  avgPool: Fn;
  globalMaxPool: Fn;
  globalAvgPool: Fn;
  concat: Fn;
  resizeNearest: Fn;
  transpose8: Fn;
  resizeLinear: Fn;
  reduceMean: Fn;
}

const vid = (v: KernelVariant | undefined) => VARIANT_ID[v ?? 'auto'] ?? -2;

function call(fn: Fn, args: object): void {
  try {
    fn(args);
  } catch (e) {
    throw kernelError(e);
  }
}

export function nativeInt8OpKernels(addon: Int8OpsAddon): QBinaryKernels & QUnaryKernels & QPoolKernels & QLayoutKernels & QReduceKernels {
  return {
    qadd(g) {
      const [aShape, bShape] = alignShapes(g.aShape, g.bShape);
      call(addon.qadd, { ...g, aShape, bShape, variant: vid(g.variant) });
    },
    qmul(g) {
      const [aShape, bShape] = alignShapes(g.aShape, g.bShape);
      call(addon.qmul, { ...g, aShape, bShape, variant: vid(g.variant) });
    },
    lut2(g) {
      const [aShape, bShape] = alignShapes(g.aShape, g.bShape);
      call(addon.lut2, { ...g, aShape, bShape, variant: vid(g.variant) });
    },
    lut: (g) => call(addon.lut, { ...g, variant: vid(g.variant) }),
    softmax: (g) => call(addon.softmax, { ...g, variant: vid(g.variant) }),
    layerNorm: (g) => call(addon.layerNorm, { ...g, variant: vid(g.variant) }),
    quantizeLinear: (g) => call(addon.quantizeLinear, { ...g, blockSize: g.blockSize ?? 0, variant: vid(g.variant) }),
    dequantizeLinear: (g) => call(addon.dequantizeLinear, { ...g, blockSize: g.blockSize ?? 0, variant: vid(g.variant) }),
    maxPool: (g) => call(addon.maxPool, { ...flatPool(g), x: g.x, y: g.y, variant: vid(g.variant) }),
    avgPool: (g) =>
      call(addon.avgPool, {
        ...flatPool(g),
        x: g.x,
        y: g.y,
        xZeroPoint: g.xZeroPoint,
        requant: g.requant,
        countIncludePad: g.countIncludePad ? 1 : 0,
        variant: vid(g.variant),
      }),
    globalMaxPool: (g) => call(addon.globalMaxPool, { ...g, variant: vid(g.variant) }),
    globalAvgPool: (g) => call(addon.globalAvgPool, { ...g, variant: vid(g.variant) }),
    concat: (g) => call(addon.concat, { ...g, variant: vid(g.variant) }),
    resizeNearest: (g) => call(addon.resizeNearest, { ...g, variant: vid(g.variant) }),
    transpose8: (g) => call(addon.transpose8, { x: g.x, dims: g.dims, perm: g.perm, y: g.y, variant: vid(g.variant) }),
    resizeLinear: (g) => call(addon.resizeLinear, { ...g, variant: vid(g.variant) }),
    reduceMean(g) {
      if (!Array.isArray(g.dims) || !Array.isArray(g.axes)) throw kernelError(new Error('reduce_mean: dims and axes must be arrays'));
      if (g.axes.some((a) => !Number.isInteger(a) || a < 0 || a >= g.dims.length))
        throw kernelError(new Error('reduce_mean: axes must be integers in [0, rank)'));
      call(addon.reduceMean, {
        x: g.x,
        dims: g.dims,
        reduce: reduceFlags(g.dims.length, g.axes),
        xZeroPoint: g.xZeroPoint,
        requant: g.requant,
        y: g.y,
        variant: vid(g.variant),
      });
    },
  };
}
