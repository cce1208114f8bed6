/** qgemmI32 on the native backend: one call into the addon (which checks everything, overlaps included). */
import { VARIANT_ID, type KernelVariant } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import { normalizeQGemmI32, normalizeQGemmI32Pack, normalizeQGemmI32Packed, type QGemmI32Kernels } from '../kernels-qgemm-i32.js';

export interface QGemmI32Addon {
  qgemmI32(args: object): void;
  qgemmI32PackB(args: object): Uint8Array;
  qgemmI32Packed(args: object): void;
}

export function nativeQGemmI32Kernels(addon: QGemmI32Addon, auto: KernelVariant): QGemmI32Kernels {
  const call = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw kernelError(e);
    }
  };
  return {
    qgemmI32(args) {
      const g = normalizeQGemmI32(args);
      call(() => addon.qgemmI32({ ...g, variant: VARIANT_ID[args.variant ?? 'auto'] ?? -2 }));
    },
    qgemmI32Pack(args) {
      const p = normalizeQGemmI32Pack(args);
      const handle = call(() => addon.qgemmI32PackB({ ...p, variant: VARIANT_ID[args.variant ?? 'auto'] ?? -2 }));
      const variant = args.variant === undefined || args.variant === 'auto' ? auto : args.variant;
      return { backend: 'native', variant, n: p.n, k: p.k, handle };
    },
    qgemmI32Packed(packed, args) {
      const g = normalizeQGemmI32Packed('native', packed, args);
      call(() => addon.qgemmI32Packed({ ...g, packed: packed.handle }));
    },
  };
}
