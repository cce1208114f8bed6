/** Integer ConvTranspose on the native backend: one call into the addon (which checks everything). */
import { VARIANT_ID } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import { convTransposeFields, type QConvTransposeKernels } from '../kernels-convtranspose.js';

export interface ConvTransposeAddon {
  qconvTranspose2d(args: object): void;
}

export function nativeConvTransposeKernels(addon: ConvTransposeAddon): QConvTransposeKernels {
  return {
    qconvTranspose2d(a) {
      const shape = convTransposeFields(a.shape);
      try {
        addon.qconvTranspose2d({
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
