/** The A16W8 ConvTranspose on the native backend: one call into the addon (which checks everything). */
import { VARIANT_ID } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import { convTransposeFields } from '../kernels-convtranspose.js';
import type { QConvTranspose16Kernels } from '../kernels-qconvtranspose16.js';

export interface QConvTranspose16Addon {
  qconvTranspose16(args: object): void;
}

export function nativeQConvTranspose16Kernels(addon: QConvTranspose16Addon): QConvTranspose16Kernels {
  return {
    qconvTranspose16(a) {
      const shape = convTransposeFields(a.shape);
      try {
        addon.qconvTranspose16({
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
