// The integer kernels the executor calls, on the session's backend. A kernel family a backend does
// not provide yet runs on its JavaScript reference (src/kernels/int8/), which defines the same
// arithmetic bit for bit, so results never depend on which one ran.
import type { Backend, Int8Like } from '../../backends/types.js';
import type { ConvKernels, PackedQConv2d, Conv2dShape } from '../../backends/kernels-conv.js';
import type { QAddArgs, QBinaryKernels, QMulArgs } from '../../backends/kernels-qbinary.js';
import type { AvgPoolArgs, GlobalAvgPoolArgs, GlobalMaxPoolArgs, MaxPoolArgs, QPoolKernels } from '../../backends/kernels-qpool.js';
import type { ConcatArgs, QLayoutKernels, ResizeNearestArgs } from '../../backends/kernels-qlayout.js';
import type { DequantizeLinearArgs, LutArgs, QuantizeLinearArgs, QUnaryKernels } from '../../backends/kernels-qunary.js';
import { qaddRef, qmulRef } from '../../kernels/int8/qbinary-ref.js';
import { avgPoolRef, globalAvgPoolRef, globalMaxPoolRef, maxPoolRef } from '../../kernels/int8/qpool-ref.js';
import { concatRef, resizeNearestRef } from '../../kernels/int8/qlayout-ref.js';
import { dequantizeLinearRef, lutRef, quantizeLinearRef } from '../../kernels/int8/qunary-ref.js';
import type { RequantParams } from '../../quant/requant.js';

type Loose = Backend & Partial<ConvKernels & QBinaryKernels & QPoolKernels & QLayoutKernels & QUnaryKernels>;

const has = (b: Loose, m: keyof Loose): boolean => typeof b[m] === 'function';

/** Integer conv weights prepared once: packed for the backend's conv kernel, or transposed for qgemm. */
export interface PreparedConv {
  kernel: 'qconv2d' | 'qgemm(im2col)';
  packed?: PackedQConv2d;
  /** im2col path: per group, B = W_g^T as [K, coutG] int8. */
  bt?: Int8Array[];
  wZeroPoint: Int32Array;
  bias: Int32Array | null;
  shape: Required<Conv2dShape>;
  outH: number;
  outW: number;
}

export function convOutSize(inSize: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((inSize + p0 + p1 - ((k - 1) * d + 1)) / s) + 1;
}

export class IntKernels {
  constructor(readonly backend: Backend) {}
  private get b(): Loose {
    return this.backend as Loose;
  }

  get convKernel(): PreparedConv['kernel'] {
    return has(this.b, 'qconv2dPack') && has(this.b, 'qconv2d') ? 'qconv2d' : 'qgemm(im2col)';
  }

  prepareConv(shape: Required<Conv2dShape>, w: Int8Array, wZeroPoint: Int32Array, bias: Int32Array | null): PreparedConv {
    const [kh, kw] = [shape.kernelH, shape.kernelW];
    const outH = convOutSize(shape.inHeight, kh, shape.strides[0]!, shape.dilations[0]!, shape.pads[0]!, shape.pads[2]!);
    const outW = convOutSize(shape.inWidth, kw, shape.strides[1]!, shape.dilations[1]!, shape.pads[1]!, shape.pads[3]!);
    if (this.convKernel === 'qconv2d') {
      const packed = this.b.qconv2dPack!({ shape, w, wZeroPoint, bias });
      return { kernel: 'qconv2d', packed, wZeroPoint, bias, shape, outH, outW };
    }
    const G = shape.groups, coutG = shape.outChannels / G, K = (shape.inChannels / G) * kh * kw;
    const bt: Int8Array[] = [];
    for (let g = 0; g < G; g++) {
      const t = new Int8Array(K * coutG);
      for (let n = 0; n < coutG; n++) for (let k = 0; k < K; k++) t[k * coutG + n] = w[(g * coutG + n) * K + k]!;
      bt.push(t);
    }
    return { kernel: 'qgemm(im2col)', bt, wZeroPoint, bias, shape, outH, outW };
  }

  conv(p: PreparedConv, x: Int8Like, xZeroPoint: number, requant: RequantParams, y: Int8Like): void {
    if (p.packed) {
      this.b.qconv2d!(p.packed, { x, xZeroPoint, requant, y, batch: p.shape.batch });
      return;
    }
    // im2col + qgemm: A = patches [OH*OW, K] (padding reads the zero point, contributing 0), B = W_g^T.
    const s = p.shape, G = s.groups, cinG = s.inChannels / G, coutG = s.outChannels / G;
    const [kh, kw] = [s.kernelH, s.kernelW], [sh, sw] = s.strides, [dh, dw] = s.dilations, [pt, pl] = s.pads;
    const H = s.inHeight, W = s.inWidth, OH = p.outH, OW = p.outW, P = OH * OW, K = cinG * kh * kw;
    const A = x instanceof Int8Array ? new Int8Array(P * K) : new Uint8Array(P * K);
    const tmp = y instanceof Int8Array ? new Int8Array(P * coutG) : new Uint8Array(P * coutG);
    const perChannel = requant.scale.length !== 1;
    for (let n = 0; n < s.batch; n++) {
      for (let g = 0; g < G; g++) {
        let r = 0;
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++) {
            for (let ci = 0; ci < cinG; ci++) {
              const base = (n * s.inChannels + g * cinG + ci) * H;
              for (let ky = 0; ky < kh; ky++) {
                const iy = oy * sh! + ky * dh! - pt!;
                for (let kx = 0; kx < kw; kx++) {
                  const ix = ox * sw! + kx * dw! - pl!;
                  A[r++] = iy < 0 || iy >= H || ix < 0 || ix >= W ? xZeroPoint : x[(base + iy) * W + ix]!;
                }
              }
            }
          }
        }
        const c0 = g * coutG;
        const rq: RequantParams = perChannel
          ? { ...requant, multiplier: requant.multiplier.subarray(c0, c0 + coutG), shift: requant.shift.subarray(c0, c0 + coutG), scale: requant.scale.subarray(c0, c0 + coutG) }
          : requant;
        this.backend.qgemm({
          m: P,
          n: coutG,
          k: K,
          a: A,
          aZeroPoint: xZeroPoint,
          b: p.bt![g]!,
          bZeroPoint: p.wZeroPoint.length === 1 ? p.wZeroPoint : p.wZeroPoint.subarray(c0, c0 + coutG),
          bias: p.bias ? p.bias.subarray(c0, c0 + coutG) : null,
          requant: rq,
          y: tmp,
        });
        for (let co = 0; co < coutG; co++) {
          const dst = (n * s.outChannels + c0 + co) * P;
          for (let q = 0; q < P; q++) y[dst + q] = tmp[q * coutG + co]!;
        }
      }
    }
  }

  qadd(a: QAddArgs): string {
    if (has(this.b, 'qadd')) this.b.qadd!(a);
    else qaddRef(a);
    return has(this.b, 'qadd') ? 'qadd' : 'qadd(js-ref)';
  }
  qmul(a: QMulArgs): string {
    if (has(this.b, 'qmul')) this.b.qmul!(a);
    else qmulRef(a);
    return has(this.b, 'qmul') ? 'qmul' : 'qmul(js-ref)';
  }
  lut(a: LutArgs): void {
    if (has(this.b, 'lut')) this.b.lut!(a);
    else lutRef(a);
  }
  maxPool(a: MaxPoolArgs): void {
    if (has(this.b, 'maxPool')) this.b.maxPool!(a);
    else maxPoolRef(a);
  }
  avgPool(a: AvgPoolArgs): void {
    if (has(this.b, 'avgPool')) this.b.avgPool!(a);
    else avgPoolRef(a);
  }
  globalMaxPool(a: GlobalMaxPoolArgs): void {
    if (has(this.b, 'globalMaxPool')) this.b.globalMaxPool!(a);
    else globalMaxPoolRef(a);
  }
  globalAvgPool(a: GlobalAvgPoolArgs): void {
    if (has(this.b, 'globalAvgPool')) this.b.globalAvgPool!(a);
    else globalAvgPoolRef(a);
  }
  concat(a: ConcatArgs): void {
    if (has(this.b, 'concat')) this.b.concat!(a);
    else concatRef(a);
  }
  resizeNearest(a: ResizeNearestArgs): void {
    if (has(this.b, 'resizeNearest')) this.b.resizeNearest!(a);
    else resizeNearestRef(a);
  }
  quantizeLinear(a: QuantizeLinearArgs): void {
    if (has(this.b, 'quantizeLinear')) this.b.quantizeLinear!(a);
    else quantizeLinearRef(a);
  }
  dequantizeLinear(a: DequantizeLinearArgs): void {
    if (has(this.b, 'dequantizeLinear')) this.b.dequantizeLinear!(a);
    else dequantizeLinearRef(a);
  }
  /** Which implementation runs `method` here: the backend's kernel or the JS reference. */
  which(method: keyof Loose): string {
    return has(this.b, method) ? `${String(method)}` : `${String(method)}(js-ref)`;
  }
}
