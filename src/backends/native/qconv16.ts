/** The A16W8 convolution on the native backend: one call into the addon (which checks everything). */
import { VARIANT_ID } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import { shapeFields } from '../conv-args.js';
import type { QConv16Kernels } from '../kernels-qconv16.js';

export interface QConv16Addon {
  qconv16(args: object): void;
}

export function nativeQConv16Kernels(addon: QConv16Addon): QConv16Kernels {
  return {
    qconv16(a) {
      const shape = shapeFields(a.shape);
      try {
        addon.qconv16({
          shape,
          x: a.x,
          xZeroPoint: a.xZeroPoint,
          w: a.w,
          wZeroPoint: a.wZeroPoint,
          bias: a.bias ?? null,
          requant: a.requant,
          y: a.y,
          variant: VARIANT_ID[a.variant ?? 'auto'] ?? -2,
        });
      } catch (e) {
        throw kernelError(e);
      }
    },
  };
}
