/**
 * The JavaScript reference of integer 2-D convolution: the direct definition (the same seven loops
 * as native/conv/conv-ref.cc). The js backend runs it; every other backend and variant is tested
 * against it bit for bit.
 */
import { requantizeOne, type RequantParams } from '../../quant/requant.js';
import type { Int8Like } from '../../backends/types.js';
import type { ConvGeom } from '../../backends/conv-args.js';

export interface QConv2dRefArgs {
  g: ConvGeom;
  w: Int8Array;
  /** 1 or g.cout entries. */
  wZeroPoint: Int32Array;
  bias: Int32Array | null;
  x: Int8Like;
  xZeroPoint: number;
  requant: RequantParams;
  y: Int8Like;
}

export function qconv2dRef(a: QConv2dRefArgs): void {
  const { g, w, x, y, requant } = a;
  const zx = a.xZeroPoint;
  const perChannel = requant.shift.length !== 1;
  for (let n = 0; n < g.n; n++) {
    for (let co = 0; co < g.cout; co++) {
      const gi = Math.floor(co / g.coutG);
      const zw = a.wZeroPoint[a.wZeroPoint.length === 1 ? 0 : co];
      const b = a.bias?.length ? a.bias[co] : 0;
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          let acc = b | 0;
          for (let ci = 0; ci < g.cinG; ci++) {
            for (let ky = 0; ky < g.kh; ky++) {
              // Input row oy*sh + ky*dh - pt; outside the image it is padding: (zx - zx) = 0.
              const iy = oy * g.sh + ky * g.dh - g.pt;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw + kx * g.dw - g.pl;
                if (ix < 0 || ix >= g.w) continue;
                const xv = x[((n * g.cin + gi * g.cinG + ci) * g.h + iy) * g.w + ix];
                const wv = w[((co * g.cinG + ci) * g.kh + ky) * g.kw + kx];
                // |(x - zx) * (w - zw)| <= 383 * 255: exact; `| 0` keeps the int32 wrap.
                acc = (acc + (xv - zx) * (wv - zw)) | 0;
              }
            }
          }
          y[((n * g.cout + co) * g.oh + oy) * g.ow + ox] = requantizeOne(acc, requant, perChannel ? co : 0);
        }
      }
    }
  }
}
