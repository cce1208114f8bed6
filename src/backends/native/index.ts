/**
 * The native backend: the N-API addon, the prebuilt one shipped in the package
 * (prebuilds/<platform>-<arch>/onnxptq.node) when it loads, else the one compiled by cmake-js
 * (build/Release/onnxptq.node).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import type {
  AddonCandidate,
  AddonOrigin,
  Backend,
  Int8Like,
  KernelVariant,
  NativePlanApi,
  NativePlanHandle,
  QGemmArgs,
} from '../types.js';
import { VARIANT_ID } from '../types.js';
import { kernelError, normalizeQGemm } from '../qgemm-args.js';
import { nativeInt8OpKernels, type Int8OpsAddon } from './int8-ops.js';
import type { RequantParams } from '../../quant/requant.js';
import { nativeF32Kernels, type F32Addon } from './f32.js';
import { nativeConvKernels, type ConvAddon } from './conv.js';
import { nativeConvTransposeKernels, type ConvTransposeAddon } from './convtranspose.js';
import { nativeQConv16Kernels, type QConv16Addon } from './qconv16.js';
import { nativeQBinary16Kernels, type QBinary16Addon } from './qbinary16.js';
import { nativeQConvTranspose16Kernels, type QConvTranspose16Addon } from './qconvtranspose16.js';
import { nativeQGemmI32Kernels, type QGemmI32Addon } from './qgemm-i32.js';

interface PlanAddon {
  planNew(floatCalls?: boolean): NativePlanHandle;
  planBegin(h: NativePlanHandle): void;
  planCount(h: NativePlanHandle): number;
  planDrop(h: NativePlanHandle, n: number): void;
  planEnd(h: NativePlanHandle): number;
  planBroken(h: NativePlanHandle): boolean;
  planRun(h: NativePlanHandle, segment: number): void;
  planFree(h: NativePlanHandle): void;
}

interface OutputPoolAddon {
  /** Absent from an addon built before the pool (native/napi/output-pool.cc). */
  allocOutput?(bytes: number): ArrayBuffer | undefined;
}

interface Addon
  extends ConvAddon,
    F32Addon,
    Int8OpsAddon,
    ConvTransposeAddon,
    QConv16Addon,
    QBinary16Addon,
    QConvTranspose16Addon,
    QGemmI32Addon,
    PlanAddon,
    OutputPoolAddon {
  info(): {
    variants: { id: number; name: KernelVariant; available: boolean }[];
    qgemm: KernelVariant;
    /** Absent from an addon built before qgemmI32. */
    qgemmI32?: KernelVariant;
    qconv16?: KernelVariant;
    qbinary16?: KernelVariant;
    qconvtranspose16?: KernelVariant;
  };
  qgemm(args: object): void;
  requantizeRow(acc: Int32Array, rq: RequantParams, y: Int8Like, variant: number): void;
}

function requireAddon(c: AddonCandidate): Addon {
  const addon = createRequire(import.meta.url)(c.path) as Partial<Addon>;
  if (typeof addon.info !== 'function' || typeof addon.qgemm !== 'function') {
    throw new Error(`${c.path} is not the onnx-ptq addon (no info/qgemm exports)`);
  }
  return addon as Addon;
}

function planApi(addon: Addon): NativePlanApi | undefined {
  if (typeof addon.planNew !== 'function') return undefined; // an older addon: per-step calls
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      try {
        return f(...a);
      } catch (e) {
        throw kernelError(e);
      }
    };
  return {
    create: wrap((floatCalls?: boolean) => addon.planNew(floatCalls === true)),
    begin: wrap((h) => addon.planBegin(h)),
    count: wrap((h) => addon.planCount(h)),
    drop: wrap((h, n) => addon.planDrop(h, n)),
    end: wrap((h) => addon.planEnd(h)),
    broken: wrap((h) => addon.planBroken(h)),
    run: wrap((h, s) => addon.planRun(h, s)),
    free: wrap((h) => addon.planFree(h)),
  };
}

/**
 * Loads the first candidate that exists and loads: a string is one forced path, a list is tried in
 * order (by default the shipped prebuilt, then the locally compiled build). Candidates that exist
 * but fail to load (corrupt file, wrong libc, missing exports) are remembered in `addon.fallbacks`;
 * when none loads the error names every candidate and why.
 */
export function createNativeBackend(addonPath: string | readonly AddonCandidate[]): Backend {
  const candidates: readonly AddonCandidate[] = typeof addonPath === 'string' ? [{ kind: 'path', path: addonPath }] : addonPath;
  const fallbacks: AddonOrigin['fallbacks'] = [];
  const reasons: string[] = [];
  let addon: Addon | undefined;
  let origin: AddonOrigin | undefined;
  for (const c of candidates) {
    if (!existsSync(c.path)) {
      reasons.push(
        c.kind === 'compiled'
          ? `addon not built: ${c.path} does not exist (run npm run build:native)`
          : c.kind === 'prebuilt'
            ? `no prebuilt addon: ${c.path} does not exist`
            : `addon not found: ${c.path} does not exist`,
      );
      continue;
    }
    try {
      addon = requireAddon(c);
      origin = { ...c, fallbacks };
      break;
    } catch (e) {
      const error = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      fallbacks.push({ ...c, error });
      reasons.push(`${c.kind} addon ${c.path} failed to load: ${error}`);
    }
  }
  if (!addon || !origin) throw new Error(reasons.join('; '));
  const info = addon.info();
  const variants = info.variants.filter((v) => v.available).map((v) => v.name);
  return {
    ...nativeF32Kernels(addon),
    ...nativeInt8OpKernels(addon),
    ...nativeConvKernels(addon),
    ...nativeConvTransposeKernels(addon),
    ...nativeQConv16Kernels(addon),
    ...nativeQBinary16Kernels(addon),
    ...nativeQConvTranspose16Kernels(addon),
    ...nativeQGemmI32Kernels(addon, (info.qgemmI32 ?? info.qgemm) as KernelVariant),
    name: 'native',
    addon: origin,
    nativePlans: planApi(addon),
    ...(typeof addon.allocOutput === 'function' ? { allocOutput: (bytes: number) => addon.allocOutput!(bytes) } : {}),
    variants,
    dispatch: {
      qgemm: info.qgemm,
      requantizeRow: info.qgemm,
      ...(info.qgemmI32 ? { qgemmI32: info.qgemmI32 } : {}),
      f32: addon.f32AutoVariant() as KernelVariant,
      ...(info.qconv16 ? { qconv16: info.qconv16 } : {}),
      ...(info.qbinary16 ? { qadd16: info.qbinary16, qmul16: info.qbinary16 } : {}),
      ...(info.qconvtranspose16 ? { qconvTranspose16: info.qconvtranspose16 } : {}),
    },
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
