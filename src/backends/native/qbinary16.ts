/** The A16W8 Add and Mul on the native backend: one call into the addon (which checks everything). */
import { VARIANT_ID } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import { alignShapes } from '../kernels-qbinary.js';
import type { QBinary16Kernels } from '../kernels-qbinary16.js';

export interface QBinary16Addon {
  qadd16(args: object): void;
  qmul16(args: object): void;
}

function call(f: () => void): void {
  try {
    f();
  } catch (e) {
    throw kernelError(e);
  }
}

export function nativeQBinary16Kernels(addon: QBinary16Addon): QBinary16Kernels {
  return {
    qadd16(g) {
      call(() => {
        const [aShape, bShape] = alignShapes(g.aShape, g.bShape);
        addon.qadd16({ ...g, aShape, bShape, variant: VARIANT_ID[g.variant ?? 'auto'] ?? -2 });
      });
    },
    qmul16(g) {
      call(() => {
        const [aShape, bShape] = alignShapes(g.aShape, g.bShape);
        addon.qmul16({ ...g, aShape, bShape, variant: VARIANT_ID[g.variant ?? 'auto'] ?? -2 });
      });
    },
  };
}
