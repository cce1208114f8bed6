/**
 * ConvTranspose's col2im, the definition of col2imF32 (opq_col2im_f32, native/f32-conv/f32-col2im.cc
 * runs the same loops): after the GEMM cols[c*Kv + tap][pixel] = W_c^T X, every column adds into
 * the output pixel its tap lands on. Geometry over a 3-D view (1-D and 2-D padded with unit axes).
 */

/** D H W, KD KH KW, OD OH OW, strides, dilations, begin pads (depth, height, width each): 18 fields. */
export interface Col2ImGeom {
  D: number;
  H: number;
  W: number;
  KD: number;
  KH: number;
  KW: number;
  OD: number;
  OH: number;
  OW: number;
  sd: number;
  sh: number;
  sw: number;
  dd: number;
  dh: number;
  dw: number;
  pd: number;
  ph: number;
  pw: number;
}

/** The 18 int32 fields of opq_col2im_f32's geo, in the C order. */
export function col2imFields(p: Col2ImGeom): Int32Array {
  return Int32Array.of(p.D, p.H, p.W, p.KD, p.KH, p.KW, p.OD, p.OH, p.OW, p.sd, p.sh, p.sw, p.dd, p.dh, p.dw, p.pd, p.ph, p.pw);
}

export function col2imGeom(f: Int32Array): Col2ImGeom {
  const [D, H, W, KD, KH, KW, OD, OH, OW, sd, sh, sw, dd, dh, dw, pd, ph, pw] = f as unknown as number[];
  return {
    D: D!,
    H: H!,
    W: W!,
    KD: KD!,
    KH: KH!,
    KW: KW!,
    OD: OD!,
    OH: OH!,
    OW: OW!,
    sd: sd!,
    sh: sh!,
    sw: sw!,
    dd: dd!,
    dh: dh!,
    dw: dw!,
    pd: pd!,
    ph: ph!,
    pw: pw!,
  };
}

/** Stride = kernel, no pads or dilation, output = stride x input: each output pixel gets exactly one tap. */
function tiles(p: Col2ImGeom): boolean {
  return (
    p.sd === p.KD &&
    p.sh === p.KH &&
    p.sw === p.KW &&
    p.dd === 1 &&
    p.dh === 1 &&
    p.dw === 1 &&
    p.pd === 0 &&
    p.ph === 0 &&
    p.pw === 0 &&
    p.OD === p.D * p.sd &&
    p.OH === p.H * p.sh &&
    p.OW === p.W * p.sw
  );
}

/**
 * For each of `channels` channels c: y[c][o] = bias[c] (0 without bias), then, in the order kd, kh,
 * kw, id, ih, iw, y[c][od][oh][ow] += cols[c*Kv + (kd*KH + kh)*KW + kw][(id*H + ih)*W + iw] for every
 * tap inside the output (od = id*sd + kd*dd - pd, likewise h and w). Float32 additions in that order
 * (one per tap): every backend gives these bits. When each pixel gets one tap, y = cols + bias row
 * by row (the same single addition).
 */
export function col2imF32Ref(p: Col2ImGeom, channels: number, cols: Float32Array, bias: Float32Array | null, y: Float32Array): void {
  const I = p.D * p.H * p.W,
    O = p.OD * p.OH * p.OW,
    Kv = p.KD * p.KH * p.KW;
  const one = tiles(p);
  for (let ch = 0; ch < channels; ch++) {
    const b = bias ? bias[ch]! : 0;
    const yo = ch * O;
    const c0 = ch * Kv * I;
    if (one) {
      for (let id = 0; id < p.D; id++)
        for (let kd = 0; kd < p.KD; kd++)
          for (let ih = 0; ih < p.H; ih++)
            for (let kh = 0; kh < p.KH; kh++) {
              const row = yo + ((id * p.sd + kd) * p.OH + ih * p.sh + kh) * p.OW;
              const src = c0 + (kd * p.KH + kh) * p.KW * I + (id * p.H + ih) * p.W;
              for (let iw = 0; iw < p.W; iw++) for (let kw = 0; kw < p.KW; kw++) y[row + iw * p.KW + kw] = cols[src + kw * I + iw]! + b;
            }
      continue;
    }
    y.fill(b, yo, yo + O);
    let c = c0;
    for (let kd = 0; kd < p.KD; kd++)
      for (let kh = 0; kh < p.KH; kh++)
        for (let kw = 0; kw < p.KW; kw++, c += I) {
          const ow0 = kw * p.dw - p.pw;
          // iw in [lo, hi) keeps 0 <= iw*sw + ow0 < OW.
          const lo = ow0 >= 0 ? 0 : Math.ceil(-ow0 / p.sw);
          const hi = Math.min(p.W, Math.ceil((p.OW - ow0) / p.sw));
          if (lo >= hi) continue;
          for (let id = 0; id < p.D; id++) {
            const od = id * p.sd + kd * p.dd - p.pd;
            if (od < 0 || od >= p.OD) continue;
            for (let ih = 0; ih < p.H; ih++) {
              const oh = ih * p.sh + kh * p.dh - p.ph;
              if (oh < 0 || oh >= p.OH) continue;
              const src = c + (id * p.H + ih) * p.W;
              let dst = yo + (od * p.OH + oh) * p.OW + ow0 + lo * p.sw;
              for (let iw = lo; iw < hi; iw++, dst += p.sw) y[dst]! += cols[src + iw]!;
            }
          }
        }
  }
}
