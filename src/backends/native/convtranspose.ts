/** Integer ConvTranspose on the native backend: one call into the addon (which checks everything). */
import { VARIANT_ID } from '../types.js';
import { kernelError } from '../qgemm-args.js';
import { convTransposeFields, type QConvTransposeKernels } from '../kernels-convtranspose.js';

/** The fields every convolution-like addon call takes (the addon checks them all). */
export interface ConvLikeArgs {
  x: ArrayBufferView;
  xZeroPoint: number;
  w: Int8Array;
  wZeroPoint: Int32Array;
  bias?: Int32Array | null;
  requant: object;
  y: ArrayBufferView;
  variant?: keyof typeof VARIANT_ID;
}

/** One convolution-like addon call with the shape's int32 fields; addon errors become KERNEL_ARGUMENT. */
export function callConvLike(call: (args: object) => void, shape: Int32Array, a: ConvLikeArgs): void {
  try {
    call({
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
}

export interface ConvTransposeAddon {
  qconvTranspose2d(args: object): void;
}

export function nativeConvTransposeKernels(addon: ConvTransposeAddon): QConvTransposeKernels {
  return {
    qconvTranspose2d(a) {
      callConvLike((args) => addon.qconvTranspose2d(args), convTransposeFields(a.shape), a);
    },
  };
}
