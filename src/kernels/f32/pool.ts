// Float32 max and average pooling over a 3-D view (1-D and 2-D pools use leading unit axes).

export interface Pool3dParams {
  /** N*C planes of D x H x W input, OD x OH x OW output. */
  planes: number;
  D: number;
  H: number;
  W: number;
  OD: number;
  OH: number;
  OW: number;
  KD: number;
  KH: number;
  KW: number;
  SD: number;
  SH: number;
  SW: number;
  DD: number;
  DH: number;
  DW: number;
  /** Begin and end pads per axis (d, h, w). */
  padBegin: [number, number, number];
  padEnd: [number, number, number];
}

/** Max pool; when `indices` is given, also the flat input index of each maximum (storage_order 0 or 1). */
export function maxPool3dF32(p: Pool3dParams, x: Float32Array, y: Float32Array, indices?: BigInt64Array, storageOrder = 0): void {
  const { planes, D, H, W, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, padBegin } = p;
  const plane = D * H * W;
  let yi = 0;
  for (let pl = 0; pl < planes; pl++) {
    const xo = pl * plane;
    for (let od = 0; od < OD; od++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let best = -Infinity;
          let bi = -1;
          for (let kd = 0; kd < KD; kd++) {
            const id = od * SD - padBegin[0] + kd * DD;
            if (id < 0 || id >= D) continue;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * SH - padBegin[1] + kh * DH;
              if (ih < 0 || ih >= H) continue;
              const r = (id * H + ih) * W;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * SW - padBegin[2] + kw * DW;
                if (iw < 0 || iw >= W) continue;
                const v = x[xo + r + iw]!;
                if (v > best || bi < 0) {
                  best = v;
                  bi = storageOrder === 0 ? r + iw : (iw * H + ih) * D + id;
                }
              }
            }
          }
          y[yi] = best;
          if (indices) indices[yi] = BigInt(xo + bi);
          yi++;
        }
  }
}

/**
 * Average pool. countIncludePad counts padded positions in the divisor (only those inside the
 * explicit pads: a ceil_mode window running past the end pad is clipped there).
 */
export function avgPool3dF32(p: Pool3dParams, x: Float32Array, y: Float32Array, countIncludePad: boolean): void {
  const { planes, D, H, W, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW, padBegin, padEnd } = p;
  const plane = D * H * W;
  let yi = 0;
  for (let pl = 0; pl < planes; pl++) {
    const xo = pl * plane;
    for (let od = 0; od < OD; od++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let sum = 0;
          let cnt = 0;
          let padCnt = 0;
          for (let kd = 0; kd < KD; kd++) {
            const id = od * SD - padBegin[0] + kd * DD;
            const inD = id >= 0 && id < D;
            const padD = id >= -padBegin[0] && id < D + padEnd[0];
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * SH - padBegin[1] + kh * DH;
              const inH = ih >= 0 && ih < H;
              const padH = ih >= -padBegin[1] && ih < H + padEnd[1];
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * SW - padBegin[2] + kw * DW;
                if (padD && padH && iw >= -padBegin[2] && iw < W + padEnd[2]) padCnt++;
                if (inD && inH && iw >= 0 && iw < W) {
                  sum += x[xo + (id * H + ih) * W + iw]!;
                  cnt++;
                }
              }
            }
          }
          const div = countIncludePad ? padCnt : cnt;
          y[yi++] = div > 0 ? sum / div : 0;
        }
  }
}
