/** The pure-JavaScript backend: the reference kernels, always available, the last resort. */
import type { Backend, Int8Like, KernelVariant, QGemmArgs } from './types.js';
import { normalizeQGemm, validateQGemm, validateRequant } from './qgemm-args.js';
import { qgemmRef, requantizeRowRef } from '../kernels/int8/qgemm-ref.js';
import { OnnxPtqError } from '../errors.js';
import { jsInt8OpKernels } from './js/int8-ops.js';
import type { RequantParams } from '../quant/requant.js';
import { jsF32Kernels } from './js-f32.js';
import { jsConvKernels } from './js/conv.js';
import { jsConvTransposeKernels } from './js/convtranspose.js';
import { jsQConv16Kernels } from './js/qconv16.js';
import { jsQBinary16Kernels } from './js/qbinary16.js';
import { jsQConvTranspose16Kernels } from './js/qconvtranspose16.js';
import { jsQGemmI32Kernels } from './js/qgemm-i32.js';
import { checkVariant } from './js/variant.js';

export function createJsBackend(): Backend {
  return {
    ...jsF32Kernels(),
    ...jsInt8OpKernels(),
    ...jsConvKernels(),
    ...jsConvTransposeKernels(),
    ...jsQConv16Kernels(),
    ...jsQBinary16Kernels(),
    ...jsQConvTranspose16Kernels(),
    ...jsQGemmI32Kernels(),
    name: 'js',
    variants: ['ref'],
    dispatch: { qgemm: 'ref', qgemmI32: 'ref', f32: 'ref', qconv16: 'ref', qadd16: 'ref', qmul16: 'ref', qconvTranspose16: 'ref' },
    qgemm(args: QGemmArgs): void {
      checkVariant(args.variant);
      const g = normalizeQGemm(args);
      validateQGemm(g);
      qgemmRef(g);
    },
    requantizeRow(acc: Int32Array, rq: RequantParams, y: Int8Like, variant?: KernelVariant): void {
      checkVariant(variant);
      if (!(acc instanceof Int32Array)) throw new OnnxPtqError('KERNEL_ARGUMENT', 'acc must be an Int32Array');
      validateRequant(rq, acc.length, y instanceof Int8Array, 'requantize_row');
      if (y.length < acc.length) throw new OnnxPtqError('KERNEL_ARGUMENT', 'requantize_row: buffer Y is smaller than count');
      requantizeRowRef(acc, rq, y);
    },
  };
}
