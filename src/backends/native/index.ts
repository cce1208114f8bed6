/** The native backend: the N-API addon built by cmake-js (build/Release/onnxptq.node). */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import type { Backend, Int8Like, KernelVariant, QGemmArgs } from '../types.js';
import { VARIANT_ID } from '../types.js';
import { kernelError, normalizeQGemm } from '../qgemm-args.js';
import { nativeInt8OpKernels, type Int8OpsAddon } from './int8-ops.js';
import type { RequantParams } from '../../quant/requant.js';
import { nativeF32Kernels, type F32Addon } from './f32.js';
import { nativeConvKernels, type ConvAddon } from './conv.js';
import { nativeConvTransposeKernels, type ConvTransposeAddon } from './convtranspose.js';

interface Addon extends ConvAddon, F32Addon, Int8OpsAddon, ConvTransposeAddon {
  info(): { variants: { id: number; name: KernelVariant; available: boolean }[]; qgemm: KernelVariant };
  qgemm(args: object): void;
  requantizeRow(acc: Int32Array, rq: RequantParams, y: Int8Like, variant: number): void;
}

export function createNativeBackend(addonPath: string): Backend {
  if (!existsSync(addonPath)) throw new Error(`addon not built: ${addonPath} does not exist (run npm run build:native)`);
  const addon = createRequire(import.meta.url)(addonPath) as Addon;
  const info = addon.info();
  const variants = info.variants.filter((v) => v.available).map((v) => v.name);
  return {
    ...nativeF32Kernels(addon),
    ...nativeInt8OpKernels(addon),
    ...nativeConvKernels(addon),
    ...nativeConvTransposeKernels(addon),
    name: 'native',
    variants,
    dispatch: { qgemm: info.qgemm, requantizeRow: info.qgemm, f32: addon.f32AutoVariant() as KernelVariant },
    qgemm(args: QGemmArgs): void {
      const g = normalizeQGemm(args);
      try {
        addon.qgemm({ ...g, variant: VARIANT_ID[args.variant ?? 'auto'] ?? -2 });
      } catch (e) {
        throw kernelError(e);
      }
    },
    requantizeRow(acc: Int32Array, rq: RequantParams, y: Int8Like, variant: KernelVariant = 'auto'): void {
      try {
        addon.requantizeRow(acc, rq, y, VARIANT_ID[variant] ?? -2);
      } catch (e) {
        throw kernelError(e);
      }
    },
  };
}
