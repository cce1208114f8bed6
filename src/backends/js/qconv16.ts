/** The A16W8 convolution on the js backend: the reference kernel after the C ABI's checks. */
import { OnnxPtqError } from '../../errors.js';
import { checkQConv16Types, validateQConv16, type QConv16Kernels } from '../kernels-qconv16.js';
import { qconv16Ref } from '../../kernels/int16/qconv16-ref.js';

export function jsQConv16Kernels(): QConv16Kernels {
  return {
    qconv16(a) {
      if (a?.variant !== undefined && a.variant !== 'auto' && a.variant !== 'ref')
        throw new OnnxPtqError('KERNEL_ARGUMENT', `js backend: variant '${a.variant}' is not available (only 'ref')`);
      checkQConv16Types(a);
      const g = validateQConv16(a);
      qconv16Ref(g, a.x, a.xZeroPoint, a.w, a.wZeroPoint, a.bias?.length ? a.bias : null, a.requant, a.y);
    },
  };
}
