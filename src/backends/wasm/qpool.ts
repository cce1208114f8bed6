/** wasm marshalling of the pooling kernels. */
import type { QPoolKernels, MaxPoolArgs } from '../kernels-qpool.js';
import { flatPool } from '../kernels-qpool.js';
import { WasmModule } from './module.js';
import { checkRequant, dim, fail, is8, withBuffers } from './int8-common.js';

function geom(g: MaxPoolArgs): number[] {
  if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('pool: x and y must have the same 8-bit type');
  const f = flatPool(g);
  return [
    f.n,
    f.c,
    f.h,
    f.w,
    f.kernelH,
    f.kernelW,
    f.strideH,
    f.strideW,
    f.padTop,
    f.padLeft,
    f.padBottom,
    f.padRight,
    f.dilationH,
    f.dilationW,
  ]
    .map((v, i) => dim(v, `pool geometry value ${i}`))
    .concat([f.ceilMode]);
}

export function wasmQPoolKernels(mod: WasmModule): QPoolKernels {
  return {
    maxPool(g) {
      const d = geom(g);
      const s = g.x instanceof Int8Array ? 1 : 0;
      withBuffers(
        mod,
        [g.x, g.y],
        0,
        ([px, py]) => mod.fn('opq_qmaxpool')(...d, px, g.x.length, s, py, g.y.length, mod.variantId(g.variant)),
        [1],
      );
    },
    avgPool(g) {
      const d = geom(g);
      checkRequant(g.requant, 'avgpool');
      const s = g.x instanceof Int8Array ? 1 : 0;
      withBuffers(
        mod,
        [g.x, g.y],
        WasmModule.requantBytes(g.requant),
        ([px, py], prq) => {
          mod.putRequant(prq, g.requant);
          return mod.fn('opq_qavgpool')(
            ...d,
            g.countIncludePad ? 1 : 0,
            px,
            g.x.length,
            s,
            g.xZeroPoint,
            prq,
            py,
            g.y.length,
            mod.variantId(g.variant),
          );
        },
        [1],
      );
    },
    globalMaxPool(g) {
      if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('global pool: x and y must have the same 8-bit type');
      const c = dim(g.channels, 'channels'),
        sp = dim(g.spatial, 'spatial');
      withBuffers(
        mod,
        [g.x, g.y],
        0,
        ([px, py]) =>
          mod.fn('opq_qglobal_maxpool')(c, sp, px, g.x.length, g.x instanceof Int8Array ? 1 : 0, py, g.y.length, mod.variantId(g.variant)),
        [1],
      );
    },
    globalAvgPool(g) {
      if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('global pool: x and y must have the same 8-bit type');
      const c = dim(g.channels, 'channels'),
        sp = dim(g.spatial, 'spatial');
      checkRequant(g.requant, 'global_avgpool');
      withBuffers(
        mod,
        [g.x, g.y],
        WasmModule.requantBytes(g.requant),
        ([px, py], prq) => {
          mod.putRequant(prq, g.requant);
          return mod.fn('opq_qglobal_avgpool')(
            c,
            sp,
            px,
            g.x.length,
            g.x instanceof Int8Array ? 1 : 0,
            g.xZeroPoint,
            prq,
            py,
            g.y.length,
            mod.variantId(g.variant),
          );
        },
        [1],
      );
    },
  };
}
