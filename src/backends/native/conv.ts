/** Integer convolution and thread control on the native backend (native/napi/conv.cc). */
import { packedQGemmKernels, type PackedQGemmKernels } from '../qgemm-packed.js';
import type { ConvKernels, PackedQConv2d, QConv2dArgs, QConv2dPackArgs, ThreadKernels } from '../kernels-conv.js';
import type { KernelVariant } from '../types.js';
import { VARIANT_ID } from '../types.js';
import { convGeom, runFields, shapeFields } from '../conv-args.js';
import { checkRequantShape, kernelError } from '../qgemm-args.js';
import { checkPackedFor } from '../js/conv.js';

export interface ConvAddon {
  qconv2dPack(args: object): Uint8Array;
  qconv2d(args: object): void;
  setThreads(n: number): void;
  getThreads(): number;
  useThreads?(n: number): void;
  qconv2dAutoVariant(): KernelVariant;
}

export function nativeConvKernels(addon: ConvAddon): ConvKernels & ThreadKernels {
  const auto = addon.qconv2dAutoVariant();
  const k: Omit<ConvKernels, keyof PackedQGemmKernels> & ThreadKernels = {
    qconv2dPack(args: QConv2dPackArgs): PackedQConv2d {
      try {
        const fields = shapeFields(args.shape);
        // The C entry point validates everything; the geometry is read back only after it agreed.
        const handle = addon.qconv2dPack({
          shape: fields,
          w: args.w,
          wZeroPoint: args.wZeroPoint,
          bias: args.bias ?? null,
          variant: VARIANT_ID[args.variant ?? 'auto'] ?? -2,
        });
        const g = convGeom(fields);
        const variant = args.variant === undefined || args.variant === 'auto' ? auto : args.variant;
        return { backend: 'native', variant, fields, outHeight: g.oh, outWidth: g.ow, handle };
      } catch (e) {
        throw kernelError(e);
      }
    },
    qconv2d(packed: PackedQConv2d, args: QConv2dArgs): void {
      checkPackedFor('native', packed);
      try {
        checkRequantShape(args.requant, 'qconv2d');
        addon.qconv2d({
          shape: runFields(packed.fields, args.batch),
          packed: packed.handle,
          x: args.x,
          xZeroPoint: args.xZeroPoint,
          requant: args.requant,
          y: args.y,
        });
      } catch (e) {
        throw kernelError(e);
      }
    },
    setThreads(n: number): void {
      try {
        addon.setThreads(n);
      } catch (e) {
        throw kernelError(e);
      }
    },
    getThreads: () => addon.getThreads(),
    ...(addon.useThreads
      ? {
          useThreads(n: number): void {
            try {
              addon.useThreads!(n);
            } catch (e) {
              throw kernelError(e);
            }
          },
        }
      : {}),
  };
  return { ...k, ...packedQGemmKernels(k) };
}
