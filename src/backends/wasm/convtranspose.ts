/** Integer ConvTranspose on the wasm backend: X, W, Y, params and workspace in one block per call. */
import { convTransposeFields, type QConvTransposeKernels } from '../kernels-convtranspose.js';
import { WasmModule } from './module.js';
import { checkRequant, fail, is8, withBuffers } from './int8-common.js';

export function wasmConvTransposeKernels(mod: WasmModule): QConvTransposeKernels {
  return {
    qconvTranspose2d(a) {
      const shape = convTransposeFields(a.shape);
      if (!is8(a.x) || !is8(a.y)) fail('x and y must be Uint8Array or Int8Array');
      if (!(a.w instanceof Int8Array)) fail('w must be an Int8Array');
      if (!(a.wZeroPoint instanceof Int32Array)) fail('wZeroPoint must be an Int32Array');
      if (a.bias != null && !(a.bias instanceof Int32Array)) fail('bias must be an Int32Array');
      if (typeof a.xZeroPoint !== 'number' || !Number.isInteger(a.xZeroPoint)) fail('xZeroPoint must be an integer');
      checkRequant(a.requant, 'convtranspose');
      const v = mod.variantId(a.variant);
      // 0 for a bad geometry or variant: the kernel call then names the argument.
      const ws = mod.withBlock(80, (p) => {
        mod.put(p, shape);
        return mod.fn('opq_qconvtranspose2d_workspace_size')(p, v) >>> 0;
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
          return mod.fn('opq_qconvtranspose2d')(
            extra,
            px!,
            a.x.length,
            a.x instanceof Int8Array ? 1 : 0,
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
            a.y instanceof Int8Array ? 1 : 0,
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
