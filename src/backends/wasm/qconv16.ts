/** The A16W8 convolution on the wasm backend: X, W, Y, params and workspace in one block per call. */
import { shapeFields } from '../conv-args.js';
import { checkQConv16Types, qc16Type, type QConv16Kernels } from '../kernels-qconv16.js';
import type { WasmModule } from './module.js';
import { callConvLike } from './int8-common.js';

export function wasmQConv16Kernels(mod: WasmModule): QConv16Kernels {
  return {
    qconv16(a) {
      checkQConv16Types(a);
      callConvLike(mod, {
        ...a,
        fn: 'opq_qconv16',
        workspaceFn: 'opq_qconv16_workspace_size',
        shape: shapeFields(a.shape),
        xType: qc16Type(a.x),
        yType: qc16Type(a.y),
        variant: mod.variantId(a.variant),
      });
    },
  };
}
