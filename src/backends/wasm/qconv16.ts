/** The A16W8 convolution on the wasm backend: X, W, Y, params and workspace in one block per call. */
import { shapeFields } from '../conv-args.js';
import { checkQConv16Types, qc16Type, type QConv16Kernels } from '../kernels-qconv16.js';
import { WasmModule } from './module.js';
import { withBuffers } from './int8-common.js';

export function wasmQConv16Kernels(mod: WasmModule): QConv16Kernels {
  return {
    qconv16(a) {
      checkQConv16Types(a);
      const shape = shapeFields(a.shape);
      const v = mod.variantId(a.variant);
      // 0 for a bad geometry or variant, or the reference variant: the kernel call then decides.
      const ws = mod.withBlock(64, (p) => {
        mod.put(p, shape);
        return mod.fn('opq_qconv16_workspace_size')(p, v) >>> 0;
      });
      const bias = a.bias?.length ? a.bias : new Int32Array(0);
      const rqBytes = Math.ceil(WasmModule.requantBytes(a.requant) / 16) * 16;
      withBuffers(
        mod,
        [a.x, a.w, a.wZeroPoint, bias, a.y],
        64 + rqBytes + ws + 16,
        ([px, pw, pz, pb, py], extra) => {
          mod.put(extra, shape);
          mod.putRequant(extra + 64, a.requant);
          const pws = (extra + 64 + rqBytes + 15) & ~15;
          return mod.fn('opq_qconv16')(
            extra,
            px!,
            a.x.length,
            qc16Type(a.x),
            a.xZeroPoint,
            pw!,
            a.w.length,
            pz!,
            a.wZeroPoint.length,
            pb!,
            bias.length,
            extra + 64,
            py!,
            a.y.length,
            qc16Type(a.y),
            pws,
            ws,
            v,
            0,
          );
        },
        [4],
      );
    },
  };
}
