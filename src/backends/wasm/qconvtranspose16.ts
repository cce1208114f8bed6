/** The A16W8 ConvTranspose on the wasm backend: X, W, Y, params and workspace in one block per call. */
import { convTransposeFields } from '../kernels-convtranspose.js';
import { qc16Type } from '../kernels-qconv16.js';
import { checkQConvTranspose16Types, type QConvTranspose16Kernels } from '../kernels-qconvtranspose16.js';
import type { WasmModule } from './module.js';
import { callConvLike } from './int8-common.js';

export function wasmQConvTranspose16Kernels(mod: WasmModule): QConvTranspose16Kernels {
  return {
    qconvTranspose16(a) {
      checkQConvTranspose16Types(a);
      callConvLike(mod, {
        ...a,
        fn: 'opq_qconvtranspose16',
        workspaceFn: 'opq_qconvtranspose16_workspace_size',
        shape: convTransposeFields(a.shape),
        xType: qc16Type(a.x),
        yType: qc16Type(a.y),
        variant: mod.variantId(a.variant),
      });
    },
  };
}
