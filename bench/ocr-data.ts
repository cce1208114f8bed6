/**
 * Synthetic text-line images for the PaddleOCR direction classifier (ch_ppocr_mobile_v2.0_cls):
 * no real images ship with the model, so calibration and evaluation use deterministic, disjoint
 * sets of text-like images: dark glyph-like strokes (bars, boxes, dots) in a row on a light, slightly
 * shaded background with noise, 3 x 48 x 192, a quarter of them rotated 180 degrees (the class the
 * model detects), normalized as PaddleOCR's ClsPreprocess does: (x / 255 - 0.5) / 0.5.
 * Calibration uses seeds 1..n, evaluation seeds 100001.. (disjoint by construction).
 */
import { Tensor } from '../src/tensor.js';

export const OCR_H = 48, OCR_W = 192;

function xorshift(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/** One image as a [1, 3, 48, 192] float tensor, and whether it is rotated 180 degrees. */
export function ocrImage(seed: number): { x: Tensor; rotated: boolean } {
  const r = xorshift(seed);
  const H = OCR_H, W = OCR_W;
  const gray = new Float32Array(H * W);
  const bg = 190 + 60 * r(), slope = (r() - 0.5) * 40;
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) gray[y * W + x] = bg + (slope * x) / W;
  const ink = 10 + 70 * r();
  const rect = (x0: number, y0: number, w: number, h: number) => {
    for (let y = Math.max(0, Math.round(y0)); y < Math.min(H, Math.round(y0 + h)); y++)
      for (let x = Math.max(0, Math.round(x0)); x < Math.min(W, Math.round(x0 + w)); x++) gray[y * W + x] = ink + 15 * r();
  };
  // A text line: glyphs of 1-4 strokes, an ascender/descender now and then, left-aligned
  // (rotation moves the text to the right and flips the ascenders: the cue the classifier uses).
  const size = 18 + 14 * r(), top = (H - size) / 2 + (r() - 0.5) * 6;
  let x = 3 + 6 * r();
  const end = W * (0.45 + 0.55 * r());
  while (x < end) {
    const gw = size * (0.45 + 0.5 * r()), t = Math.max(2, size * (0.08 + 0.06 * r()));
    const strokes = 1 + Math.floor(r() * 4);
    for (let k = 0; k < strokes; k++) {
      const kind = r();
      if (kind < 0.35) rect(x + r() * (gw - t), top + (r() < 0.2 ? -size * 0.25 : 0), t, size * (r() < 0.25 ? 1.25 : 1)); // vertical bar
      else if (kind < 0.7) rect(x, top + r() * (size - t), gw, t); // horizontal bar
      else if (kind < 0.9) { rect(x, top, gw, t); rect(x, top + size - t, gw, t); rect(x, top, t, size); } // box-like
      else rect(x + gw / 2 - t / 2, top + size * 0.8, t, t); // dot
    }
    x += gw + size * (0.1 + 0.35 * r());
    if (r() < 0.12) x += size * 0.6; // a space
  }
  const rotated = r() < 0.25;
  const px = new Float32Array(3 * H * W);
  for (let y = 0; y < H; y++) {
    for (let xx = 0; xx < W; xx++) {
      const src = rotated ? (H - 1 - y) * W + (W - 1 - xx) : y * W + xx;
      for (let c = 0; c < 3; c++) {
        const v = Math.min(255, Math.max(0, gray[src] + (r() - 0.5) * 16 + (c - 1) * 3));
        px[c * H * W + y * W + xx] = (v / 255 - 0.5) / 0.5;
      }
    }
  }
  return { x: new Tensor('float32', px, [1, 3, H, W]), rotated };
}

/** Calibration feeds (seeds 1..n). */
export function ocrCalibration(n: number, input = 'x'): Record<string, Tensor>[] {
  return Array.from({ length: n }, (_, i) => ({ [input]: ocrImage(1 + i).x }));
}

/** Evaluation images (seeds 100001..), disjoint from calibration. */
export function ocrEvaluation(n: number): { x: Tensor; rotated: boolean }[] {
  return Array.from({ length: n }, (_, i) => ocrImage(100001 + i));
}
