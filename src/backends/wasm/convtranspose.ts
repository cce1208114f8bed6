/** Integer ConvTranspose on the wasm backend: X, W, Y, params and workspace in one block per call. */
import { convTransposeFields, type QConvTransposeKernels } from '../kernels-convtranspose.js';
import type { WasmModule } from './module.js';
import { callConvLike, checkRequant, fail, is8 } from './int8-common.js';

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
      callConvLike(mod, {
        ...a,
        fn: 'opq_qconvtranspose2d',
        workspaceFn: 'opq_qconvtranspose2d_workspace_size',
        shape,
        xType: a.x instanceof Int8Array ? 1 : 0,
        yType: a.y instanceof Int8Array ? 1 : 0,
        variant: mod.variantId(a.variant),
      });
    },
  };
}
