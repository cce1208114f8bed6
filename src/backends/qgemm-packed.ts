/**
 * Packed-weight integer GEMM on top of the convolution kernels: Y[M][N] = A[M][K] x B[K][N] is a
 * 1x1 convolution of M images of 1x1 pixels with K input and N output channels (A is then NCHW
 * as it stands, Y too), and the native driver runs that case as one GEMM whose columns are the M
 * rows (threaded, VNNI where available). B is transposed once, at packing.
 */
import { OnnxPtqError } from '../errors.js';
import type { ConvKernels, PackedQConv2d } from './kernels-conv.js';
import type { Int8Like, KernelVariant } from './types.js';
import type { RequantParams } from '../quant/requant.js';

export interface QGemmPackArgs {
  n: number;
  k: number;
  /** int8 B, K x N row-major with leading dimension ldb (default N). */
  b: Int8Array;
  ldb?: number;
  /** One entry (per tensor) or N (per column). */
  bZeroPoint: Int32Array;
  bias?: Int32Array | null;
  variant?: KernelVariant;
}

export interface PackedQGemm {
  readonly n: number;
  readonly k: number;
  readonly conv: PackedQConv2d;
}

export interface QGemmRunArgs {
  m: number;
  /** uint8 or int8 A, M x K dense. */
  a: Int8Like;
  aZeroPoint: number;
  /** 1 or N entries. */
  requant: RequantParams;
  /** uint8 or int8 Y, M x N dense. */
  y: Int8Like;
}

export interface PackedQGemmKernels {
  qgemmPack(args: QGemmPackArgs): PackedQGemm;
  qgemmRun(packed: PackedQGemm, args: QGemmRunArgs): void;
}

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

function dim(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 2 ** 28)
    fail(`qgemm: ${name} must be an integer in [${min}, 2^28], got ${String(v)}`);
  return v;
}

export function packedQGemmKernels(conv: Pick<ConvKernels, 'qconv2dPack' | 'qconv2d'>): PackedQGemmKernels {
  return {
    qgemmPack(args: QGemmPackArgs): PackedQGemm {
      const n = dim(args.n, 'N', 1),
        k = dim(args.k, 'K', 1),
        ldb = dim(args.ldb ?? n, 'ldb', 0);
      if (!(args.b instanceof Int8Array)) fail('b must be an Int8Array');
      if (ldb < n) fail('qgemm: ldb must be >= N');
      if ((k - 1) * ldb + n > args.b.length) fail('qgemm: buffer B is smaller than (K-1)*ldb + N');
      const bt = new Int8Array(n * k);
      for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bt[j * k + p] = args.b[p * ldb + j];
      const packed = conv.qconv2dPack({
        shape: { batch: 1, inChannels: k, outChannels: n, inHeight: 1, inWidth: 1, kernelH: 1, kernelW: 1 },
        w: bt,
        wZeroPoint: args.bZeroPoint,
        bias: args.bias,
        variant: args.variant,
      });
      return { n, k, conv: packed };
    },
    qgemmRun(packed: PackedQGemm, args: QGemmRunArgs): void {
      const m = dim(args.m, 'M', 0);
      if (!(args.a instanceof Uint8Array || args.a instanceof Int8Array)) fail('a must be a Uint8Array or Int8Array');
      if (!(args.y instanceof Uint8Array || args.y instanceof Int8Array)) fail('y must be a Uint8Array or Int8Array');
      if (args.a.length < m * packed.k) fail('qgemm: buffer A is smaller than M*K');
      if (args.y.length < m * packed.n) fail('qgemm: buffer Y is smaller than M*N');
      conv.qconv2d(packed.conv, { x: args.a, xZeroPoint: args.aZeroPoint, requant: args.requant, y: args.y, batch: m });
    },
  };
}
