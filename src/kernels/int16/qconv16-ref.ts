/**
 * The JavaScript reference of the A16W8 convolution (qconv16, src/backends/kernels-qconv16.ts):
 * the direct loop of the definition, every tap bounds-checked (padding contributes nothing), the
 * accumulator an exact integer in a double (|acc| < 2^47 by the kernels' bound check, so every
 * partial sum is exact), then requantizeWide per output channel. The js backend runs it; the native
 * and wasm variants are tested against it bit for bit.
 */
import type { RequantParams } from '../../quant/requant.js';
import { requantizeWide } from '../../quant/requant-wide.js';
import type { ConvGeom } from '../../backends/conv-args.js';
import type { WideLike } from '../../backends/kernels-qconv16.js';

export function qconv16Ref(
  g: ConvGeom,
  x: WideLike,
  zx: number,
  w: Int8Array,
  wZeroPoint: Int32Array,
  bias: Int32Array | null,
  rq: RequantParams,
  y: WideLike,
): void {
  const { n: N, cin, h: H, w: W, cout, kh: KH, kw: KW, sh, sw, dh, dw, pt, pl, oh: OH, ow: OW, cinG, coutG, kg } = g;
  const perChannel = rq.shift.length !== 1;
  for (let n = 0; n < N; n++)
    for (let oc = 0; oc < cout; oc++) {
      const gr = Math.floor(oc / coutG);
      const zw = wZeroPoint[wZeroPoint.length === 1 ? 0 : oc]!;
      const b = bias ? bias[oc]! : 0;
      const wo = oc * kg;
      const c = perChannel ? oc : 0;
      const yo = (n * cout + oc) * OH * OW;
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = b;
          for (let ic = 0; ic < cinG; ic++) {
            const xo = (n * cin + gr * cinG + ic) * H * W;
            for (let ki = 0; ki < KH; ki++) {
              const ih = oh * sh + ki * dh - pt;
              if (ih < 0 || ih >= H) continue;
              for (let kj = 0; kj < KW; kj++) {
                const iw = ow * sw + kj * dw - pl;
                if (iw < 0 || iw >= W) continue;
                acc += (x[xo + ih * W + iw]! - zx) * (w[wo + (ic * KH + ki) * KW + kj]! - zw);
              }
            }
          }
          y[yo + oh * OW + ow] = requantizeWide(acc, rq, c);
        }
    }
}
