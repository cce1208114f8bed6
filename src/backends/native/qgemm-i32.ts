/** qgemmI32 on the native backend: one call into the addon (which checks everything, overlaps included). */
import { VARIANT_ID } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import { normalizeQGemmI32, type QGemmI32Kernels } from '../kernels-qgemm-i32.js';

export interface QGemmI32Addon {
  qgemmI32(args: object): void;
}

export function nativeQGemmI32Kernels(addon: QGemmI32Addon): QGemmI32Kernels {
  return {
    qgemmI32(args) {
      const g = normalizeQGemmI32(args);
      try {
        addon.qgemmI32({ ...g, variant: VARIANT_ID[args.variant ?? 'auto'] ?? -2 });
      } catch (e) {
        throw kernelError(e);
      }
    },
  };
}
