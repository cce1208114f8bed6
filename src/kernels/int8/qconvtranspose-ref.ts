/**
 * The JavaScript reference of integer ConvTranspose: the direct definition (each input pixel
 * scatters (x - zx) * (w - zw) into the outputs it reaches), int32 accumulation with wrap, bias,
 * requantization per output channel. The js backend runs it; the native and wasm variants (GEMM +
 * col2im add) are tested against it bit for bit. With `wide` (A16W8: 16-bit input or output) the
 * accumulation is exact in doubles (the caller bounds it below 2^47) and requantizeWide applies.
 */
import { requantizeOne, type RequantParams } from '../../quant/requant.js';
import { requantizeWide } from '../../quant/requant-wide.js';
import type { Int8Like } from '../../backends/types.js';
import type { ConvTransposeGeom } from '../../backends/kernels-convtranspose.js';

export function qconvTranspose2dRef(
  g: ConvTransposeGeom,
  x: Int8Like,
  zx: number,
  w: Int8Array,
  wZeroPoint: Int32Array,
  bias: Int32Array | null,
  rq: RequantParams,
  y: Int8Like,
  wide = false,
): void {
  const { n: N, cin, h: H, w: W, cout, kh: KH, kw: KW, groups, sh, sw, dh, dw, pt, pl, oh: OH, ow: OW, cinG, coutG } = g;
  const perChannel = rq.shift.length !== 1;
  const zwOf = (oc: number) => wZeroPoint[wZeroPoint.length === 1 ? 0 : oc]!;
  const acc = wide ? new Float64Array(coutG * OH * OW) : new Int32Array(coutG * OH * OW);
  const requant = wide ? requantizeWide : requantizeOne;
  for (let n = 0; n < N; n++)
    for (let gr = 0; gr < groups; gr++) {
      for (let j = 0; j < coutG; j++) acc.fill(bias ? bias[gr * coutG + j]! : 0, j * OH * OW, (j + 1) * OH * OW);
      for (let c = 0; c < cinG; c++) {
        const ci = gr * cinG + c;
        const xo = (n * cin + ci) * H * W;
        for (let j = 0; j < coutG; j++) {
          const zw = zwOf(gr * coutG + j);
          const wo = (ci * coutG + j) * KH * KW;
          const ao = j * OH * OW;
          for (let ih = 0; ih < H; ih++)
            for (let iw = 0; iw < W; iw++) {
              const xv = x[xo + ih * W + iw]! - zx;
              if (xv === 0) continue;
              for (let ki = 0; ki < KH; ki++) {
                const oh = ih * sh + ki * dh - pt;
                if (oh < 0 || oh >= OH) continue;
                for (let kj = 0; kj < KW; kj++) {
                  const ow = iw * sw + kj * dw - pl;
                  if (ow < 0 || ow >= OW) continue;
                  // |xv| <= 255 and |w - zw| <= 255: the product is exact; `| 0` keeps int32 wrap
                  // (wide: no wrap, the sum stays exact).
                  const v = acc[ao + oh * OW + ow]! + xv * (w[wo + ki * KW + kj]! - zw);
                  acc[ao + oh * OW + ow] = wide ? v : v | 0;
                }
              }
            }
        }
      }
      for (let j = 0; j < coutG; j++) {
        const oc = gr * coutG + j;
        const yo = (n * cout + oc) * OH * OW,
          ao = j * OH * OW;
        for (let p = 0; p < OH * OW; p++) y[yo + p] = requant(acc[ao + p]!, rq, perChannel ? oc : 0);
      }
    }
}
