// onnxruntime's contrib MatMulNBits (com.microsoft): a float MatMul whose weight is block-quantized
// to 4 (or 8) bits along K, as weight-only LLM quantizers write it.
import { OnnxPtqError, check } from '../errors.js';
import { nodeLabel } from '../ir/graph.js';
import { Tensor, allocData } from '../tensor.js';
import { need, unsupported, type OpContext, type OpImpl } from './types.js';
import { float32Of } from './util.js';
import { isBlockSize } from '../quant/scheme.js';

function invalid(ctx: OpContext, message: string): never {
  throw new OnnxPtqError('INVALID_MODEL', `${nodeLabel(ctx.node)}: ${message}`);
}

interface NBitsAttrs {
  K: number;
  N: number;
  bits: number;
  blockSize: number;
  kBlocks: number;
  blobSize: number;
}

function attrsOf(ctx: OpContext): NBitsAttrs {
  const K = ctx.attrs.int('K');
  const N = ctx.attrs.int('N');
  const blockSize = ctx.attrs.int('block_size');
  const bits = ctx.attrs.int('bits', 4);
  if (K === undefined || N === undefined || blockSize === undefined) invalid(ctx, 'needs attributes K, N and block_size');
  if (!(K > 0 && N > 0)) invalid(ctx, `attributes K (${K}) and N (${N}) must be positive`);
  if (!isBlockSize(blockSize)) invalid(ctx, `block_size ${blockSize} must be a power of 2 >= 16`);
  if (bits !== 4 && bits !== 8) unsupported(ctx, `bits ${bits} is not supported (4 and 8 are)`);
  const kBlocks = Math.ceil(K / blockSize);
  return { K, N, bits, blockSize, kBlocks, blobSize: (blockSize * bits) / 8 };
}

/** Whether `dims` is [a * b] or [a, b]. */
const flatOr2d = (dims: readonly number[], a: number, b: number) =>
  (dims.length === 1 && dims[0] === a * b) || (dims.length === 2 && dims[0] === a && dims[1] === b);

/**
 * com.microsoft MatMulNBits: Y[..., n] = sum_k A[..., k] * (q[n, k] - zp[n, b]) * scale[n, b]
 * (+ bias[n]), b = floor(k / block_size). q is B's `bits`-bit code of element k of column n
 * (B is [N, k_blocks, block_size * bits / 8], low bits first); zp is the packed uint8 zero point,
 * a float one of the scales' shape, or 2^(bits-1) when absent. Codes past K in the last block are
 * padding. g_idx is refused; accuracy_level is ignored (float32 throughout).
 */
export const MatMulNBits: OpImpl = {
  inferShape(ctx) {
    const a = ctx.inputs[0];
    const N = ctx.attrs.int('N');
    return [{ dtype: a?.dtype, shape: a?.shape && a.shape.length >= 1 && N !== undefined ? [...a.shape.slice(0, -1), N] : undefined }];
  },
  run(ctx, [a, b, scales, zp, gIdx, bias]) {
    need(ctx, a && b && scales, 'needs inputs A, B and scales');
    const { K, N, bits, blockSize, kBlocks, blobSize } = attrsOf(ctx);
    if (gIdx) unsupported(ctx, 'input g_idx (act-order group index) is not supported');
    const A = float32Of(ctx, a, 'A');
    need(ctx, a.rank >= 1 && a.dims[a.rank - 1] === K, () => `A has dims [${a.dims.join(', ')}]; its last dim must be K = ${K}`);
    need(ctx, b.dtype === 'uint8', () => `B is ${b.dtype}; it must be uint8`);
    need(
      ctx,
      b.rank === 3 && b.dims[0] === N && b.dims[1] === kBlocks && b.dims[2] === blobSize,
      () =>
        `B has dims [${b.dims.join(', ')}]; K = ${K}, N = ${N}, block_size ${blockSize}, ${bits} bits need [${N}, ${kBlocks}, ${blobSize}]`,
    );
    const S = float32Of(ctx, scales, 'scales');
    need(
      ctx,
      flatOr2d(scales.dims, N, kBlocks),
      () => `scales have dims [${scales.dims.join(', ')}]; expected [${N * kBlocks}] or [${N}, ${kBlocks}]`,
    );
    // Zero point of (column n, block j): packed codes, floats, or the midpoint.
    const mid = 1 << (bits - 1);
    let zpOf: (n: number, j: number) => number = () => mid;
    if (zp) {
      if (zp.dtype === 'uint8') {
        const stride = Math.ceil((kBlocks * bits) / 8);
        need(
          ctx,
          flatOr2d(zp.dims, N, stride),
          () => `uint8 zero_points have dims [${zp.dims.join(', ')}]; expected [${N * stride}] or [${N}, ${stride}]`,
        );
        const Z = zp.data as Uint8Array;
        zpOf = bits === 8 ? (n, j) => Z[n * stride + j]! : (n, j) => (Z[n * stride + (j >> 1)]! >> ((j & 1) << 2)) & 15;
      } else {
        const Z = float32Of(ctx, zp, 'zero_points');
        need(
          ctx,
          flatOr2d(zp.dims, N, kBlocks),
          () => `float zero_points have dims [${zp.dims.join(', ')}]; expected those of scales [${N}, ${kBlocks}]`,
        );
        zpOf = (n, j) => Z[n * kBlocks + j]!;
      }
    }
    let Bias: Float32Array | undefined;
    if (bias) {
      Bias = float32Of(ctx, bias, 'bias');
      need(ctx, bias.rank === 1 && bias.dims[0] === N, () => `bias has dims [${bias.dims.join(', ')}]; expected [${N}]`);
    }
    const Bq = b.data as Uint8Array;
    const M = a.size / K;
    const y = allocData('float32', M * N, false) as Float32Array;
    const w = new Float32Array(blockSize);
    const acc = new Float64Array(M);
    for (let n = 0; n < N; n++) {
      acc.fill(0);
      for (let j = 0; j < kBlocks; j++) {
        const k0 = j * blockSize;
        const len = Math.min(blockSize, K - k0);
        const s = S[n * kBlocks + j]!;
        const z = zpOf(n, j);
        const base = (n * kBlocks + j) * blobSize;
        // One block of one column dequantized (float32 products, as onnxruntime), dotted with every row.
        if (bits === 4) for (let t = 0; t < len; t++) w[t] = (((Bq[base + (t >> 1)]! >> ((t & 1) << 2)) & 15) - z) * s;
        else for (let t = 0; t < len; t++) w[t] = (Bq[base + t]! - z) * s;
        for (let m = 0; m < M; m++) {
          const ao = m * K + k0;
          let d = 0;
          for (let t = 0; t < len; t++) d += A[ao + t]! * w[t]!;
          acc[m] += d;
        }
      }
      const c = Bias ? Bias[n]! : 0;
      for (let m = 0; m < M; m++) y[m * N + n] = acc[m]! + c;
    }
    return [new Tensor('float32', y, [...a.dims.slice(0, -1), N])];
  },
};

/**
 * Rows of 4-bit values (rows x len, each 0..15) packed two per byte, low nibble first, each row
 * starting at a multiple of `rowBytes` (>= ceil(len / 2); the rest is 0 padding). The caller
 * checks v holds rows x len values.
 */
function packNibbleRows(v: Uint8Array, rows: number, len: number, rowBytes: number, what: string, noun: string): Uint8Array {
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < len; i++) {
      const x = v[r * len + i]!;
      check(x < 16, 'INVALID_ARGUMENT', () => `${what}: ${noun} ${x} at [${r}, ${i}] is not 4-bit`);
      out[r * rowBytes + (i >> 1)]! |= x << ((i & 1) << 2);
    }
  }
  return out;
}

/**
 * Packs 4-bit codes q ([N, K], row n = column n of the weight, values 0..15) into MatMulNBits' B
 * layout [N, ceil(K / blockSize), blockSize / 2], low nibble first, padding with 0 (blocks are
 * contiguous per column, so element k sits at nibble k of the row).
 */
export function packMatMulNBits(q: Uint8Array, N: number, K: number, blockSize: number): Uint8Array {
  check(isBlockSize(blockSize), 'INVALID_ARGUMENT', () => `packMatMulNBits: blockSize ${blockSize} must be a power of 2 >= 16`);
  check(q.length === N * K, 'INVALID_ARGUMENT', () => `packMatMulNBits: q has ${q.length} codes, N * K = ${N * K}`);
  return packNibbleRows(q, N, K, (Math.ceil(K / blockSize) * blockSize) / 2, 'packMatMulNBits', 'code');
}

/** Packs 4-bit zero points ([N, kBlocks], 0..15) into MatMulNBits' [N, ceil(kBlocks / 2)] uint8 layout. */
export function packZeroPoints4(zp: Uint8Array, N: number, kBlocks: number): Uint8Array {
  check(zp.length === N * kBlocks, 'INVALID_ARGUMENT', () => `packZeroPoints4: zp has ${zp.length} values, N * kBlocks = ${N * kBlocks}`);
  return packNibbleRows(zp, N, kBlocks, Math.ceil(kBlocks / 2), 'packZeroPoints4', 'zero point');
}
