/** wasm marshalling of ReduceMean. */
import { reduceFlags, type QReduceKernels } from '../kernels-qreduce.js';
import { WasmModule } from './module.js';
import { checkRequant, dim, fail, is8, withBuffers } from './int8-common.js';

export function wasmQReduceKernels(mod: WasmModule): QReduceKernels {
  return {
    reduceMean(g) {
      if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('reduce_mean: x and y must have the same 8-bit type');
      if (!Array.isArray(g.dims) || !Array.isArray(g.axes)) fail('reduce_mean: dims and axes must be arrays');
      if (g.dims.length > 8) fail('reduce_mean: rank must be at most 8');
      if (g.axes.some((a) => !Number.isInteger(a) || a < 0 || a >= g.dims.length)) fail('reduce_mean: axes must be integers in [0, rank)');
      checkRequant(g.requant, 'reduce_mean');
      const dims = Uint32Array.from(g.dims, (d) => dim(d, 'dims entry'));
      const flags = Int32Array.from(reduceFlags(g.dims.length, g.axes));
      const s = g.x instanceof Int8Array ? 1 : 0;
      withBuffers(
        mod,
        [dims, flags, g.x, g.y],
        WasmModule.requantBytes(g.requant),
        ([pd, pf, px, py], prq) => {
          mod.putRequant(prq, g.requant);
          return mod.fn('opq_qreduce_mean')(
            dims.length,
            pd,
            pf,
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
        [3],
      );
    },
  };
}
