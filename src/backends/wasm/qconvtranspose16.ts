/** The A16W8 ConvTranspose on the wasm backend: X, W, Y, params and workspace in one block per call. */
import { convTransposeFields } from '../kernels-convtranspose.js';
import { qc16Type } from '../kernels-qconv16.js';
import { checkQConvTranspose16Types, type QConvTranspose16Kernels } from '../kernels-qconvtranspose16.js';
import { WasmModule } from './module.js';
import { withBuffers } from './int8-common.js';

export function wasmQConvTranspose16Kernels(mod: WasmModule): QConvTranspose16Kernels {
  return {
    qconvTranspose16(a) {
      checkQConvTranspose16Types(a);
      const shape = convTransposeFields(a.shape);
      const v = mod.variantId(a.variant);
      // 0 for a bad geometry or variant, or the reference variant: the kernel call then decides.
      const ws = mod.withBlock(80, (p) => {
        mod.put(p, shape);
        return mod.fn('opq_qconvtranspose16_workspace_size')(p, v) >>> 0;
      });
      const bias = a.bias?.length ? a.bias : new Int32Array(0);
      const rqBytes = Math.ceil(WasmModule.requantBytes(a.requant) / 16) * 16;
      withBuffers(
        mod,
        [a.x, a.w, a.wZeroPoint, bias, a.y],
        80 + rqBytes + ws + 16,
        ([px, pw, pz, pb, py], extra) => {
          mod.put(extra, shape);
          mod.putRequant(extra + 80, a.requant);
          const pws = (extra + 80 + rqBytes + 15) & ~15;
          return mod.fn('opq_qconvtranspose16')(
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
            extra + 80,
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
