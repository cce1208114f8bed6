/** Integer convolution on the js backend: the reference kernel; "packing" keeps the raw weights. */
import { OnnxPtqError } from '../../errors.js';
import { packedQGemmKernels, type PackedQGemmKernels } from '../qgemm-packed.js';
import type { ConvKernels, PackedQConv2d, QConv2dArgs, QConv2dPackArgs, ThreadKernels } from '../kernels-conv.js';
import { convGeom, runFields, shapeFields, validatePack, validateRun } from '../conv-args.js';
import { qconv2dRef } from '../../kernels/int8/conv-ref.js';

interface JsPacked {
  w: Int8Array;
  wZeroPoint: Int32Array;
  bias: Int32Array | null;
}

export function checkPackedFor(backend: string, packed: PackedQConv2d): void {
  if (packed === null || typeof packed !== 'object' || packed.backend !== backend) {
    throw new OnnxPtqError(
      'KERNEL_ARGUMENT',
      `qconv2d: packed weights were made by backend '${String(packed?.backend)}', not '${backend}'`,
    );
  }
}

export function jsConvKernels(): ConvKernels & ThreadKernels {
  const k: Omit<ConvKernels, keyof PackedQGemmKernels> & ThreadKernels = {
    qconv2dPack(args: QConv2dPackArgs): PackedQConv2d {
      if (args.variant !== undefined && args.variant !== 'auto' && args.variant !== 'ref') {
        throw new OnnxPtqError('KERNEL_ARGUMENT', `js backend: variant '${args.variant}' is not available (only 'ref')`);
      }
      const fields = shapeFields(args.shape);
      const g = convGeom(fields);
      validatePack(g, args);
      const handle: JsPacked = {
        w: args.w.slice(0, g.cout * g.kg),
        wZeroPoint: args.wZeroPoint.slice(),
        bias: args.bias?.length ? args.bias.slice() : null,
      };
      return { backend: 'js', variant: 'ref', fields, outHeight: g.oh, outWidth: g.ow, handle };
    },
    qconv2d(packed: PackedQConv2d, args: QConv2dArgs): void {
      checkPackedFor('js', packed);
      const g = convGeom(runFields(packed.fields, args.batch));
      validateRun(g, args);
      const h = packed.handle as JsPacked;
      qconv2dRef({
        g,
        w: h.w,
        wZeroPoint: h.wZeroPoint,
        bias: h.bias,
        x: args.x,
        xZeroPoint: args.xZeroPoint,
        requant: args.requant,
        y: args.y,
      });
    },
    setThreads(n: number): void {
      if (!Number.isInteger(n) || n < 1 || n > 256)
        throw new OnnxPtqError('KERNEL_ARGUMENT', 'setThreads: threads must be an integer in [1, 256]');
    },
    getThreads: () => 1,
  };
  return { ...k, ...packedQGemmKernels(k) };
}
