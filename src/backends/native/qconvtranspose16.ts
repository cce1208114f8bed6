/** The A16W8 ConvTranspose on the native backend: one call into the addon (which checks everything). */
import { callConvLike } from './convtranspose.js';
import { convTransposeFields } from '../kernels-convtranspose.js';
import type { QConvTranspose16Kernels } from '../kernels-qconvtranspose16.js';

export interface QConvTranspose16Addon {
  qconvTranspose16(args: object): void;
}

export function nativeQConvTranspose16Kernels(addon: QConvTranspose16Addon): QConvTranspose16Kernels {
  return {
    qconvTranspose16(a) {
      callConvLike((args) => addon.qconvTranspose16(args), convTransposeFields(a.shape), a);
    },
  };
}
