/**
 * A deterministic synthetic "text line" data set for models that ship without images (the PaddleOCR
 * direction classifier): light paper with noise, dark glyph-like strokes (bars, arcs, dots) in a row
 * of characters of varying size, half of the lines rotated by 180 degrees. Normalized as PaddleOCR
 * does: (x / 255 - 0.5) / 0.5, NCHW float32. Seeds make calibration and evaluation sets disjoint.
 */
import { Tensor } from '../tensor.js';
import type { Feeds } from '../ptq/calibrate.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticTextLine(seed: number, height = 48, width = 192): Float32Array {
  const r = mulberry32(seed);
  const gray = new Float32Array(height * width);
  const paper = 200 + 50 * r();
  for (let i = 0; i < gray.length; i++) gray[i] = paper + (r() - 0.5) * 20;
  const ink = 20 + 60 * r();
  const charH = Math.floor(height * (0.4 + 0.4 * r()));
  const top = Math.floor((height - charH) * (0.3 + 0.4 * r()));
  const charW = Math.max(6, Math.floor(charH * (0.5 + 0.4 * r())));
  const thick = 1 + Math.floor(r() * 3);
  let x = 2 + Math.floor(r() * 10);
  const end = Math.floor(width * (0.5 + 0.5 * r()));
  const put = (yy: number, xx: number) => {
    for (let dy = 0; dy < thick; dy++) for (let dx = 0; dx < thick; dx++) {
      const py = yy + dy, px = xx + dx;
      if (py >= 0 && py < height && px >= 0 && px < width) gray[py * width + px] = ink;
    }
  };
  while (x + charW < end) {
    const strokes = 1 + Math.floor(r() * 3);
    for (let s = 0; s < strokes; s++) {
      const kind = Math.floor(r() * 4);
      if (kind === 0) for (let y = 0; y < charH; y++) put(top + y, x + Math.floor(r() * 0.2 + (charW * (s + 1)) / (strokes + 1)));
      else if (kind === 1) { const y = top + Math.floor(charH * r()); for (let k = 0; k < charW; k++) put(y, x + k); }
      else if (kind === 2) for (let k = 0; k < charH; k++) put(top + k, x + Math.floor((k * charW) / charH));
      else {
        // An arc in the lower part: text has most of its ink low (descenders are rarer than ascenders' caps).
        const cx = x + charW / 2, cy = top + charH * 0.65, rad = Math.min(charW, charH) / 2.5;
        for (let a = 0; a < 40; a++) put(Math.round(cy + rad * Math.sin((a / 40) * 2 * Math.PI)), Math.round(cx + rad * Math.cos((a / 40) * 2 * Math.PI)));
      }
    }
    // Ascender-like marks on top of some characters: an asymmetry the direction classifier can read.
    if (r() < 0.3) for (let y = Math.max(0, top - Math.floor(charH / 3)); y < top; y++) put(y, x + 1);
    x += charW + 1 + Math.floor(r() * 5) + (r() < 0.15 ? charW : 0);
  }
  return gray;
}

/** `count` samples { [inputName]: 1x3xHxW } starting at `seed`; odd seeds are rotated by 180 degrees. */
export function syntheticTextSet(count: number, seed: number, inputName = 'x', height = 48, width = 192): Feeds[] {
  const out: Feeds[] = [];
  for (let i = 0; i < count; i++) {
    const s = seed + i;
    const g = syntheticTextLine(s * 7919 + 13, height, width);
    const flip = s % 2 === 1;
    const d = new Float32Array(3 * height * width);
    const hw = height * width;
    for (let p = 0; p < hw; p++) {
      const v = (flip ? g[hw - 1 - p] : g[p]) / 255;
      // Slight colour tint per channel so the three channels are not identical.
      d[p] = (v * 0.98 - 0.5) / 0.5;
      d[hw + p] = (v - 0.5) / 0.5;
      d[2 * hw + p] = (v * 0.95 + 0.03 - 0.5) / 0.5;
    }
    out.push({ [inputName]: new Tensor('float32', d, [1, 3, height, width]) });
  }
  return out;
}
