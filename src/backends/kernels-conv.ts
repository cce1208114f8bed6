/** The integer convolution kernel family and the thread control of a backend. */
import type { BackendName, Int8Like, KernelVariant } from './types.js';
import type { RequantParams } from '../quant/requant.js';
import type { PackedQGemmKernels } from './qgemm-packed.js';

/** A 2-D convolution's geometry (NCHW). Weights are outChannels x inChannels/groups x kernelH x kernelW. */
export interface Conv2dShape {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  /** Default 1; depthwise when groups == inChannels == outChannels. */
  groups?: number;
  /** [h, w], default [1, 1]. */
  strides?: readonly number[];
  /** [h, w], default [1, 1]. */
  dilations?: readonly number[];
  /** [top, left, bottom, right] (ONNX order), default zeros. */
  pads?: readonly number[];
}

export interface QConv2dPackArgs {
  shape: Conv2dShape;
  /** int8 weights, outChannels x inChannels/groups x kernelH x kernelW. */
  w: Int8Array;
  /** One entry (per tensor) or outChannels, each in [-128, 127]. */
  wZeroPoint: Int32Array;
  /** int32 bias in the accumulator's scale, outChannels entries (or none). */
  bias?: Int32Array | null;
  variant?: KernelVariant;
}

/** Weights packed once for one backend and variant; opaque to callers. */
export interface PackedQConv2d {
  readonly backend: BackendName;
  /** The variant the weights were packed for ('auto' resolved). */
  readonly variant: KernelVariant;
  /** The geometry, as the 16 int32 fields of opq_conv2d_shape. */
  readonly fields: Int32Array;
  readonly outHeight: number;
  readonly outWidth: number;
  /** Backend-private: the packed bytes (native, js) or a wasm-memory block (wasm). */
  readonly handle: unknown;
}

export interface QConv2dArgs {
  /** uint8 or int8 input (its type decides), batch x inChannels x inHeight x inWidth. */
  x: Int8Like;
  xZeroPoint: number;
  /** 1 or outChannels entries; output = requant(acc) clamped to [min, max]. */
  requant: RequantParams;
  /** uint8 or int8 output (its type decides), batch x outChannels x outHeight x outWidth. */
  y: Int8Like;
  /** Default: the batch the weights were packed with (the weights do not depend on it). */
  batch?: number;
}

/** Also packed-weight GEMM (qgemmPack/qgemmRun), which runs as a 1x1 convolution (qgemm-packed.ts). */
export interface ConvKernels extends PackedQGemmKernels {
  /**
   * Y = requant(sum (X - xZeroPoint) * (W - wZeroPoint) + bias), int32 accumulation with
   * two's-complement wrap: pack the weights once, run many times.
   */
  qconv2dPack(args: QConv2dPackArgs): PackedQConv2d;
  qconv2d(packed: PackedQConv2d, args: QConv2dArgs): void;
}

/** Threads of the kernels that split work (native); wasm and js always run on one thread. */
export interface ThreadKernels {
  /** n >= 1 threads in total, the calling thread included. Results never depend on it. */
  setThreads(n: number): void;
  getThreads(): number;
  /**
   * Native only: n >= 1 threads for the kernels of this JS thread until useThreads(0) restores the
   * setThreads default (a session's own `threads`, set around each of its runs).
   */
  useThreads?(n: number): void;
}
