/** qgemmI32 on the js backend: the reference after the C ABI's checks. */
import { OnnxPtqError } from '../../errors.js';
import { normalizeQGemmI32, validateQGemmI32, type QGemmI32Kernels } from '../kernels-qgemm-i32.js';
import { qgemmI32Ref } from '../../kernels/int8/qgemm-i32-ref.js';

export function jsQGemmI32Kernels(): QGemmI32Kernels {
  return {
    qgemmI32(args) {
      const v = args?.variant;
      if (v !== undefined && v !== 'auto' && v !== 'ref')
        throw new OnnxPtqError('KERNEL_ARGUMENT', `js backend: variant '${v}' is not available (only 'ref')`);
      const g = normalizeQGemmI32(args);
      validateQGemmI32(g);
      qgemmI32Ref(g);
    },
  };
}
