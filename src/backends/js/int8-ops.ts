/**
 * The js backend's elementwise, pooling and layout kernels: the JS references behind the checks
 * that keep them from reading out of bounds (the C entry points make the complete checks).
 */
import { OnnxPtqError } from '../../errors.js';
import type { KernelVariant } from '../types.js';
import type { QBinaryKernels } from '../kernels-qbinary.js';
import { broadcastShape } from '../kernels-qbinary.js';
import type { QUnaryKernels, QdqLayout } from '../kernels-qunary.js';
import type { QPoolKernels } from '../kernels-qpool.js';
import { poolOutputShape } from '../kernels-qpool.js';
import type { QLayoutKernels } from '../kernels-qlayout.js';
import type { QReduceKernels } from '../kernels-qreduce.js';
import { reduceMeanRef } from '../../kernels/int8/qreduce-ref.js';
import { validateRequant } from '../qgemm-args.js';
import { lut2Ref, qaddRef, qmulRef } from '../../kernels/int8/qbinary-ref.js';
import { dequantizeLinearRef, lutRef, quantizeLinearRef } from '../../kernels/int8/qunary-ref.js';
import { qsoftmaxRef } from '../../kernels/int8/qsoftmax-ref.js';
import { LAYERNORM_MAX_LENGTH, qlayerNormRef } from '../../kernels/int8/qlayernorm-ref.js';
import { SOFTMAX_ONE } from '../../quant/softmax.js';
import { avgPoolRef, globalAvgPoolRef, globalMaxPoolRef, maxPoolRef } from '../../kernels/int8/qpool-ref.js';
import { concatRef, resizeLinearRef, resizeNearestRef, RESIZE_ONE, transpose8Ref } from '../../kernels/int8/qlayout-ref.js';
import { checkVariant } from './variant.js';

function fail(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

const is8 = (a: unknown): a is Uint8Array | Int8Array => a instanceof Uint8Array || a instanceof Int8Array;
const count = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

function checkDims(dims: readonly number[], what: string): void {
  for (const d of dims) if (!Number.isInteger(d) || d < 0 || d > 2 ** 31 - 1) fail(`${what} entries must be integers in [0, 2^31 - 1]`);
}

function checkQdq(l: QdqLayout, op: string): number {
  checkDims([l.outer, l.axisLen, l.inner, l.blockSize ?? 0], `${op}: outer, axisLen, inner and blockSize`);
  if (!(l.scale instanceof Float32Array) || !(l.zeroPoint instanceof Int32Array))
    fail('scale must be a Float32Array and zeroPoint an Int32Array');
  const n = l.scale.length,
    b = l.blockSize ?? 0;
  if (n !== l.zeroPoint.length) fail(`${op}: scale and zeroPoint must have the same length`);
  if (b === 0 ? n !== 1 && n !== l.axisLen : n !== l.outer * Math.ceil(l.axisLen / b) * l.inner) {
    fail('param_count must be 1 (per tensor), axis_len (per axis) or outer * ceil(axis_len / block_size) * inner (blocked)');
  }
  for (const s of l.scale) if (!(s > 0 && s <= 3.4028234e38)) fail('scale must be finite and > 0');
  return l.outer * l.axisLen * l.inner;
}

/** The operand checks opq_qadd, opq_qmul and opq_lut2 share (types, shapes, buffer sizes), with their words. */
function checkBinaryOperands(
  op: string,
  g: { a: unknown; aShape: readonly number[]; b: unknown; bShape: readonly number[]; y: unknown; variant?: KernelVariant },
): void {
  checkVariant(g.variant);
  if (!is8(g.a) || !is8(g.b) || !is8(g.y) || g.a.constructor !== g.b.constructor || g.a.constructor !== g.y.constructor) {
    fail(`${op}: a, b and y must all be Uint8Array or all Int8Array`);
  }
  checkDims(g.aShape, 'aShape');
  checkDims(g.bShape, 'bShape');
  const ys = broadcastShape(g.aShape, g.bShape);
  if (g.a.length < count(g.aShape)) fail('buffer A is smaller than the product of a_shape');
  if (g.b.length < count(g.bShape)) fail('buffer B is smaller than the product of b_shape');
  if (g.y.length < count(ys)) fail('buffer Y is smaller than the broadcast output shape');
}

export function jsInt8OpKernels(): QBinaryKernels & QUnaryKernels & QPoolKernels & QLayoutKernels & QReduceKernels {
  return {
    qadd(g) {
      checkBinaryOperands('qadd', g);
      const p = g.params;
      if (p === null || typeof p !== 'object' || ![0, 1, 2].includes(p.mode))
        fail('qadd: params.mode must be 0 (fixed-point), 1 (float) or 2 (shift)');
      if (p.mode !== 1 && !(Number.isInteger(p.leftShift) && p.leftShift >= 0 && p.leftShift <= 22))
        fail('qadd: params.left_shift must be in [0, 22]');
      qaddRef(g);
    },
    qmul(g) {
      checkBinaryOperands('qmul', g);
      validateRequant(g.requant, 1, g.y instanceof Int8Array, 'qmul');
      if (g.requant.shift.length !== 1) fail('requant: count must be 1 (per tensor) for this kernel');
      qmulRef(g);
    },
    lut2(g) {
      checkBinaryOperands('lut2', g);
      if (!(g.table instanceof Uint8Array) || g.table.length !== 65536) fail('lut2: table must have exactly 65536 entries');
      lut2Ref(g);
    },
    lut(g) {
      checkVariant(g.variant);
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      if (!(g.table instanceof Uint8Array) || g.table.length !== 256) fail('lut: table must have exactly 256 entries');
      if (g.y.length < g.x.length) fail('lut: buffer Y is smaller than n');
      lutRef(g);
    },
    softmax(g) {
      checkVariant(g.variant);
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      if (!(g.table instanceof Uint32Array) || g.table.length !== 256) fail('softmax: table must have 256 entries');
      for (const k of ['outer', 'axisLen', 'inner'] as const)
        if (!Number.isInteger(g[k]) || g[k] < 0 || g[k] > 2 ** 31 - 1) fail(`softmax: ${k} must be an integer in [0, 2^31 - 1]`);
      const n = g.outer * g.axisLen * g.inner;
      if (n > 2 ** 31 - 1) fail('softmax: outer * axis_len * inner must be at most 2^31 - 1');
      if (g.axisLen > 2 ** 24) fail('softmax: axis_len must be at most 2^24');
      if (g.table.some((t) => t > SOFTMAX_ONE)) fail('softmax: table entries must be at most OPQ_SOFTMAX_ONE');
      if (g.table[0]! < 1) fail('softmax: table[0] must be >= 1');
      if (!Number.isInteger(g.multiplier) || g.multiplier < 1 || g.multiplier >= 2 ** 24) fail('softmax: multiplier must be in [1, 2^24)');
      if (!Number.isInteger(g.shift) || g.shift < 0 || g.shift > 62) fail('softmax: shift must be in [0, 62]');
      const [tmin, tmax] = g.y instanceof Int8Array ? [-128, 127] : [0, 255];
      if (!Number.isInteger(g.zeroPoint) || g.zeroPoint < tmin || g.zeroPoint > tmax)
        fail("softmax: y_zero_point out of the output type's range");
      if (!(Number.isInteger(g.min) && Number.isInteger(g.max) && tmin <= g.min && g.min <= g.max && g.max <= tmax))
        fail('softmax: y_min and y_max must satisfy type_min <= y_min <= y_max <= type_max');
      if (g.x.length < n) fail('softmax: buffer X is smaller than outer * axis_len * inner');
      if (g.y.length < n) fail('softmax: buffer Y is smaller than outer * axis_len * inner');
      qsoftmaxRef(g);
    },
    layerNorm(g) {
      checkVariant(g.variant);
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      const int = (v: number, lo: number, hi: number, what: string) => {
        if (!Number.isInteger(v) || v < lo || v > hi) fail(`${what} must be an integer in [${lo}, ${hi}]`);
      };
      int(g.rows, 0, 2 ** 31 - 1, 'rows');
      if (!Number.isInteger(g.length) || g.length < 1 || g.length > LAYERNORM_MAX_LENGTH)
        fail(`layernorm: length must be in [1, ${LAYERNORM_MAX_LENGTH}]`);
      const n = g.rows * g.length;
      if (n > 2 ** 31 - 1) fail('layernorm: rows * length must be at most 2^31 - 1');
      const [xmin, xmax] = g.x instanceof Int8Array ? [-128, 127] : [0, 255];
      if (!Number.isInteger(g.xZeroPoint) || g.xZeroPoint < xmin || g.xZeroPoint > xmax)
        fail("layernorm: x_zero_point out of the input type's range");
      if (!Number.isInteger(g.eps) || g.eps < 0 || g.eps > 2 ** 50) fail('layernorm: eps must be an integer in [0, 2^50]');
      if (!Number.isInteger(g.gm) || g.gm < 2 ** 30 || g.gm >= 2 ** 31) fail('layernorm: gm must be in [2^30, 2^31)');
      int(g.gs, -1100, 1100, 'gs');
      if ((g.gamma === undefined) !== (g.beta === undefined)) fail('layernorm: gamma and beta come together or not at all');
      if (g.gamma && g.beta) {
        if (!(g.gamma instanceof Int32Array) || !(g.beta instanceof Int32Array)) fail('gamma and beta must be Int32Arrays');
        if (g.gamma.length !== g.length || g.beta.length !== g.length) fail('layernorm: gamma and beta must have length entries');
        if (g.gamma.some((v) => v < -32767 || v > 32767)) fail('layernorm: gamma entries must be in [-32767, 32767]');
        if (g.beta.some((v) => v < -(2 ** 20) || v > 2 ** 20)) fail('layernorm: beta entries must be in [-2^20, 2^20]');
      }
      const [tmin, tmax] = g.y instanceof Int8Array ? [-128, 127] : [0, 255];
      if (!Number.isInteger(g.zeroPoint) || g.zeroPoint < tmin || g.zeroPoint > tmax)
        fail("layernorm: y_zero_point out of the output type's range");
      if (!(Number.isInteger(g.min) && Number.isInteger(g.max) && tmin <= g.min && g.min <= g.max && g.max <= tmax))
        fail('layernorm: y_min and y_max must satisfy type_min <= y_min <= y_max <= type_max');
      if (g.x.length < n) fail('layernorm: buffer X is smaller than rows * length');
      if (g.y.length < n) fail('layernorm: buffer Y is smaller than rows * length');
      const p = { length: g.length, eps: g.eps, gm: g.gm, gs: g.gs, zeroPoint: g.zeroPoint, min: g.min, max: g.max };
      qlayerNormRef(g.x, g.xZeroPoint, g.rows, p, g.y, g.gamma && g.beta ? { gamma: g.gamma, beta: g.beta } : undefined);
    },
    quantizeLinear(g) {
      checkVariant(g.variant);
      if (!(g.x instanceof Float32Array) || !is8(g.y)) fail('x must be a Float32Array and y a Uint8Array or Int8Array');
      const n = checkQdq(g, 'quantize_linear');
      if (g.x.length < n) fail('quantize_linear: buffer X is smaller than outer * axis_len * inner');
      if (g.y.length < n) fail('quantize_linear: buffer Y is smaller than outer * axis_len * inner');
      quantizeLinearRef(g);
    },
    dequantizeLinear(g) {
      checkVariant(g.variant);
      if (!(is8(g.x) || g.x instanceof Int32Array) || !(g.y instanceof Float32Array))
        fail('x must be a Uint8Array, Int8Array or Int32Array and y a Float32Array');
      const n = checkQdq(g, 'dequantize_linear');
      if (g.x.length < n) fail('dequantize_linear: buffer X is smaller than outer * axis_len * inner');
      if (g.y.length < n) fail('dequantize_linear: buffer Y is smaller than outer * axis_len * inner');
      dequantizeLinearRef(g);
    },
    maxPool(g) {
      checkVariant(g.variant);
      checkPool(g);
      maxPoolRef(g);
    },
    avgPool(g) {
      checkVariant(g.variant);
      checkPool(g);
      validateRequant(g.requant, 1, g.y instanceof Int8Array, 'avgpool');
      avgPoolRef(g);
    },
    globalMaxPool(g) {
      checkVariant(g.variant);
      checkGlobal(g);
      globalMaxPoolRef(g);
    },
    globalAvgPool(g) {
      checkVariant(g.variant);
      checkGlobal(g);
      validateRequant(g.requant, 1, g.y instanceof Int8Array, 'global_avgpool');
      globalAvgPoolRef(g);
    },
    concat(g) {
      checkVariant(g.variant);
      const k = g.inputs.length;
      if (g.axisDims.length !== k || g.zeroPoints.length !== k || g.requant.length !== k)
        fail('concat: inputs, axisDims, zeroPoints and requant must have the same length');
      if (k === 0) fail('concat: num_inputs must be in [1, 65536]');
      if (!is8(g.y)) fail('y must be a Uint8Array or Int8Array');
      checkDims([g.outer, g.inner, ...g.axisDims], 'concat: outer, inner and axisDims');
      g.inputs.forEach((x, i) => {
        if (!is8(x) || x.constructor !== g.y.constructor) fail('concat: inputs[i] and y must have the same 8-bit type');
        if (x.length < g.outer * g.axisDims[i] * g.inner) fail('concat: an input buffer is smaller than outer * axis_dims[i] * inner');
        const rq = g.requant[i];
        if (rq) validateRequant(rq, 1, g.y instanceof Int8Array, 'concat');
      });
      if (g.y.length < g.outer * g.axisDims.reduce((s, d) => s + d, 0) * g.inner)
        fail('concat: buffer Y is smaller than outer * sum(axis_dims) * inner');
      concatRef(g);
    },
    transpose8(g) {
      checkVariant(g.variant);
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      const r = g.dims.length;
      if (r < 1 || r > 8) fail('transpose: rank must be in [1, 8]');
      if (g.perm.length !== r) fail('transpose: perm must have one entry per axis');
      if ([...g.perm].sort((a, b) => a - b).some((p, i) => p !== i)) fail('transpose: perm must be a permutation of 0..rank-1');
      checkDims(g.dims, 'transpose: dims');
      const n = count(g.dims);
      if (n > 2 ** 31 - 1) fail('transpose: the product of in_dims must be at most 2^31 - 1');
      if (g.x.length < n) fail('transpose: buffer X is smaller than the product of in_dims');
      if (g.y.length < n) fail('transpose: buffer Y is smaller than the product of in_dims');
      transpose8Ref(g);
    },
    resizeNearest(g) {
      checkVariant(g.variant);
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      checkDims([g.nc, g.inH, g.inW, g.outH, g.outW], 'resize: nc, inH, inW, outH and outW');
      if (g.yIndex.length !== g.outH) fail('resize: y_index must have out_h entries');
      if (g.xIndex.length !== g.outW) fail('resize: x_index must have out_w entries');
      if (g.x.length < g.nc * g.inH * g.inW) fail('resize: buffer X is smaller than nc * in_h * in_w');
      if (g.y.length < g.nc * g.outH * g.outW) fail('resize: buffer Y is smaller than nc * out_h * out_w');
      for (const i of g.yIndex) if (i < 0 || i >= g.inH) fail('resize: y_index entry outside [0, in_h)');
      for (const i of g.xIndex) if (i < 0 || i >= g.inW) fail('resize: x_index entry outside [0, in_w)');
      resizeNearestRef(g);
    },
    resizeLinear(g) {
      checkVariant(g.variant);
      if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('resize_linear: x and y must have the same 8-bit type');
      if (!(g.yTaps instanceof Int32Array) || !(g.xTaps instanceof Int32Array)) fail('resize_linear: yTaps and xTaps must be Int32Arrays');
      checkDims([g.nc, g.inH, g.inW, g.outH, g.outW], 'resize_linear: nc, inH, inW, outH and outW');
      if (g.nc * g.inH * g.inW > 2 ** 31 - 1 || g.nc * g.outH * g.outW > 2 ** 31 - 1)
        fail('resize_linear: the input or output has more than 2^31 - 1 elements');
      if ([g.inH, g.inW, g.outH, g.outW].some((d) => d > 2 ** 28)) fail('resize_linear: in_h, in_w, out_h and out_w must be at most 2^28');
      if (g.yTaps.length !== 3 * g.outH) fail('resize_linear: y_taps must have 3 * out_h entries');
      if (g.xTaps.length !== 3 * g.outW) fail('resize_linear: x_taps must have 3 * out_w entries');
      if (g.x.length < g.nc * g.inH * g.inW) fail('resize_linear: buffer X is smaller than nc * in_h * in_w');
      if (g.y.length < g.nc * g.outH * g.outW) fail('resize_linear: buffer Y is smaller than nc * out_h * out_w');
      const signed = g.y instanceof Int8Array;
      if (!Number.isInteger(g.xZeroPoint) || g.xZeroPoint < (signed ? -128 : 0) || g.xZeroPoint > (signed ? 127 : 255))
        fail("resize_linear: x_zero_point out of the type's range");
      validateRequant(g.requant, 1, signed, 'resize_linear');
      if (g.nc * g.outH * g.outW === 0) return;
      const taps = (t: Int32Array, size: number) => {
        for (let i = 0; i < t.length; i += 3) {
          if (t[i]! < 0 || t[i + 1]! < 0 || t[i]! >= size || t[i + 1]! >= size) fail('resize_linear: a tap index is outside the input');
          if (t[i + 2]! < 0 || t[i + 2]! > RESIZE_ONE) fail('resize_linear: a tap weight is outside [0, 2048]');
        }
      };
      taps(g.yTaps, g.inH);
      taps(g.xTaps, g.inW);
      resizeLinearRef(g);
    },
    reduceMean(g) {
      checkVariant(g.variant);
      if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('reduce_mean: x and y must have the same 8-bit type');
      if (!Array.isArray(g.dims) || g.dims.length > 8) fail('reduce_mean: rank must be at most 8');
      checkDims(g.dims, 'reduce_mean: dims');
      if (!Array.isArray(g.axes) || g.axes.some((a) => !Number.isInteger(a) || a < 0 || a >= g.dims.length))
        fail('reduce_mean: axes must be integers in [0, rank)');
      const signed = g.y instanceof Int8Array;
      const n = count(g.dims);
      if (n > 2 ** 31 - 1) fail('reduce_mean: the input has more than 2^31 - 1 elements');
      if (!Number.isInteger(g.xZeroPoint) || g.xZeroPoint < (signed ? -128 : 0) || g.xZeroPoint > (signed ? 127 : 255))
        fail("reduce_mean: x_zero_point out of the type's range");
      validateRequant(g.requant, 1, signed, 'reduce_mean');
      if (n === 0) {
        if (g.axes.some((a) => g.dims[a] === 0)) fail('reduce_mean: a reduced axis is empty (the mean of nothing)');
        return;
      }
      const c = count([...new Set(g.axes)].map((a) => g.dims[a]!));
      if (c > 2 ** 23) fail('reduce_mean: the reduced axes hold more than 2^23 elements');
      if (g.x.length < n) fail('reduce_mean: buffer X is smaller than the product of dims');
      if (g.y.length < n / c) fail('reduce_mean: buffer Y is smaller than the product of the kept dims');
      reduceMeanRef(g);
    },
  };
}

function checkPool(g: import('../kernels-qpool.js').MaxPoolArgs): void {
  if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('pool: x and y must have the same 8-bit type');
  const [oh, ow] = poolOutputShape(g);
  const [kh, kw] = g.kernel;
  if (!(kh >= 1 && kw >= 1)) fail('pool: kernel_h and kernel_w must be >= 1');
  if (oh === 0 || ow === 0) fail('pool: the dilated kernel is larger than the padded input, or a stride or dilation is 0');
  if (g.x.length < g.n * g.c * g.h * g.w) fail('pool: buffer X is smaller than n * c * in_h * in_w');
  if (g.y.length < g.n * g.c * oh * ow) fail('pool: buffer Y is smaller than n * c * out_h * out_w');
}

function checkGlobal(g: import('../kernels-qpool.js').GlobalMaxPoolArgs): void {
  if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('global pool: x and y must have the same 8-bit type');
  checkDims([g.channels, g.spatial], 'global pool: channels and spatial');
  if (g.x.length < g.channels * g.spatial) fail('global pool: buffer X is smaller than channels * spatial');
  if (g.y.length < g.channels) fail('global pool: buffer Y is smaller than channels');
}
