/** What a backend is: a named set of kernels with one C-ABI-shaped signature each. */
import type { RequantParams } from '../quant/requant.js';
import type { F32Kernels } from './kernels-f32.js';
import type { QBinaryKernels } from './kernels-qbinary.js';
import type { QUnaryKernels } from './kernels-qunary.js';
import type { QPoolKernels } from './kernels-qpool.js';
import type { QLayoutKernels } from './kernels-qlayout.js';
import type { QReduceKernels } from './kernels-qreduce.js';
import type { ConvKernels, ThreadKernels } from './kernels-conv.js';
import type { QConvTransposeKernels } from './kernels-convtranspose.js';
import type { QConv16Kernels } from './kernels-qconv16.js';
import type { QBinary16Kernels } from './kernels-qbinary16.js';
import type { QConvTranspose16Kernels } from './kernels-qconvtranspose16.js';
import type { QGemmI32Kernels } from './kernels-qgemm-i32.js';

export type BackendName = 'native' | 'wasm' | 'js';
export type BackendRequest = BackendName | 'auto';
/** Kernel variants: 'auto' lets the backend dispatch from CPU features. */
export type KernelVariant = 'auto' | 'ref' | 'avx2' | 'wasmsimd' | 'avx512vnni';
/** Variant ids of the C ABI (native/include/onnxptq.h). */
export const VARIANT_ID: Record<KernelVariant, number> = { auto: -1, ref: 0, avx2: 1, wasmsimd: 2, avx512vnni: 3 };

export type Int8Like = Uint8Array | Int8Array;

/**
 * Y[m][n] = requant(sum_k (A[m][k] - aZeroPoint) * (B[k][n] - bZeroPoint[n]) + bias[n]),
 * int32 accumulation with two's-complement wrap. A is uint8 or int8 (its type decides), B int8,
 * Y uint8 or int8 (its type decides). Leading dimensions default to the dense ones.
 */
export interface QGemmArgs {
  m: number;
  n: number;
  k: number;
  a: Int8Like;
  lda?: number;
  aZeroPoint: number;
  b: Int8Array;
  ldb?: number;
  /** One entry (per tensor) or N (per column). */
  bZeroPoint: Int32Array;
  bias?: Int32Array | null;
  requant: RequantParams;
  y: Int8Like;
  ldy?: number;
  variant?: KernelVariant;
}

/** One kernel family's methods; each family lives in src/backends/kernels-<family>.ts. */
export interface QGemmKernels {
  qgemm(args: QGemmArgs): void;
  /** y[j] = requant(acc[j]) with channel j of the params (or channel 0 per tensor). */
  requantizeRow(acc: Int32Array, requant: RequantParams, y: Int8Like, variant?: KernelVariant): void;
}

/**
 * Memory a backend's kernels read and write in place: an arena placed there is passed to them by
 * address instead of being copied in and out on every call (the wasm backend's linear memory).
 * `buffer()` may change when that memory grows; views on the old one are then detached.
 */
export interface ResidentArena {
  buffer(): ArrayBuffer;
  /** Byte offset of the arena in buffer(). */
  readonly offset: number;
  /** Makes room so that the kernels' scratch allocations of a run do not grow the memory. */
  beforeRun(): void;
  release(): void;
}

/** A backend: its identity plus every kernel family (add a family with `extends`). */
export interface Backend
  extends QGemmKernels,
    QGemmI32Kernels,
    F32Kernels,
    ConvKernels,
    ThreadKernels,
    QBinaryKernels,
    QUnaryKernels,
    QPoolKernels,
    QLayoutKernels,
    QConvTransposeKernels,
    QConv16Kernels,
    QBinary16Kernels,
    QConvTranspose16Kernels,
    QReduceKernels {
  readonly name: BackendName;
  /** Variants this backend can run on this machine. */
  readonly variants: readonly KernelVariant[];
  /** Kernel name -> the variant 'auto' dispatches to. */
  readonly dispatch: Readonly<Record<string, KernelVariant>>;
  /** An arena of `bytes` in the kernels' own memory, where they can use it without copies. */
  residentArena?(bytes: number): ResidentArena;
  /**
   * Native only: an ArrayBuffer of `bytes` over a recycled block of the addon's output pool (already
   * mapped, so the first write costs no page faults; not zeroed), or undefined when `bytes` is outside
   * the pooled range (native/napi/output-pool.cc). For run outputs, which the step writes in full.
   */
  allocOutput?(bytes: number): ArrayBuffer | undefined;
  /** Native only: kernel calls recorded once and replayed in one call per segment (native/napi/plan.h). */
  readonly nativePlans?: NativePlanApi;
  /** Native only: which addon file loaded, and why the ones tried before it did not. */
  readonly addon?: AddonOrigin;
}

/**
 * Native plans: while a plan records (begin..end), every kernel call on this thread executes and is
 * kept with its arguments bound; `run(plan, segment)` replays a segment's calls in order. The typed
 * arrays the calls point into stay alive with the plan, so an array a recorded call wrote or read must
 * be the same memory on every replay (the arena, constants).
 */
export interface NativePlanApi {
  /**
   * A new plan. `floatCalls`: the float kernels (conv, gemm, pools, elementwise, softmax) record
   * into it (the float session's plans); otherwise one of them running while it records breaks it.
   */
  create(floatCalls?: boolean): NativePlanHandle;
  begin(plan: NativePlanHandle): void;
  /** Calls recorded so far in the open segment. */
  count(plan: NativePlanHandle): number;
  /** Forgets the open segment's calls after the first n. */
  drop(plan: NativePlanHandle, n: number): void;
  /** Ends the open segment: its index, or -1 when it recorded no call. */
  end(plan: NativePlanHandle): number;
  /** Whether a kernel that cannot be replayed (a float kernel) ran while recording. */
  broken(plan: NativePlanHandle): boolean;
  run(plan: NativePlanHandle, segment: number): void;
  /** Drops the calls and the arrays they held. */
  free(plan: NativePlanHandle): void;
}
/** An opaque native plan. */
export type NativePlanHandle = { readonly __nativePlan: unique symbol };

/**
 * Where a native addon comes from: `prebuilt` (shipped in the package under prebuilds/), `compiled`
 * (built on this machine into build/Release/), or `path` (forced by ONNX_PTQ_ADDON_PATH or the
 * `addonPath` option).
 */
export type AddonKind = 'prebuilt' | 'compiled' | 'path';

export interface AddonCandidate {
  kind: AddonKind;
  path: string;
}

export interface AddonOrigin extends AddonCandidate {
  /** Candidates tried before this one that exist but failed to load (corrupt file, wrong libc, ...). */
  fallbacks: (AddonCandidate & { error: string })[];
}
