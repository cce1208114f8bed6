/** The A16W8 convolution on the native backend: one call into the addon (which checks everything). */
import { callConvLike } from './convtranspose.js';
import { shapeFields } from '../conv-args.js';
import type { QConv16Kernels } from '../kernels-qconv16.js';

export interface QConv16Addon {
  qconv16(args: object): void;
}

export function nativeQConv16Kernels(addon: QConv16Addon): QConv16Kernels {
  return {
    qconv16(a) {
      callConvLike((args) => addon.qconv16(args), shapeFields(a.shape), a);
    },
  };
}
