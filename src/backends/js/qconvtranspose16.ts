/** The A16W8 ConvTranspose on the js backend: the reference (wide) after the C ABI's checks. */
import { OnnxPtqError } from '../../errors.js';
import type { Int8Like } from '../types.js';
import { checkQConvTranspose16Types, validateQConvTranspose16, type QConvTranspose16Kernels } from '../kernels-qconvtranspose16.js';
import { qconvTranspose2dRef } from '../../kernels/int8/qconvtranspose-ref.js';

export function jsQConvTranspose16Kernels(): QConvTranspose16Kernels {
  return {
    qconvTranspose16(a) {
      if (a?.variant !== undefined && a.variant !== 'auto' && a.variant !== 'ref')
        throw new OnnxPtqError('KERNEL_ARGUMENT', `js backend: variant '${a.variant}' is not available (only 'ref')`);
      checkQConvTranspose16Types(a);
      const g = validateQConvTranspose16(a);
      // The reference reads and writes any typed array element by element (Int8Like in its types).
      qconvTranspose2dRef(
        g,
        a.x as Int8Like,
        a.xZeroPoint,
        a.w,
        a.wZeroPoint,
        a.bias?.length ? a.bias : null,
        a.requant,
        a.y as Int8Like,
        true,
      );
    },
  };
}
