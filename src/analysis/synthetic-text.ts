/**
 * A deterministic synthetic "text line" data set for models that ship without images (the PaddleOCR
 * direction classifier): light paper with noise, a line of dark letters from a small bitmap font at
 * random sizes, weights and spacings, half of the lines rotated by 180 degrees. Normalized as PaddleOCR
 * does: (x / 255 - 0.5) / 0.5, NCHW float32. Seeds make calibration and evaluation sets disjoint.
 */
import { Tensor } from '../tensor.js';
import type { Feeds } from '../ptq/calibrate.js';
import { mulberry32 } from '../util/prng.js';


// A small 5x9 bitmap font (rows top to bottom: 2 ascender rows, 5 x-height rows, 2 descender rows):
// text-like strokes with the up/down asymmetry of Latin lowercase that a direction classifier reads.
const GLYPHS: Record<string, string[]> = {
  a: ['.....', '.....', '.###.', '....#', '.####', '#...#', '.####', '.....', '.....'],
  b: ['#....', '#....', '####.', '#...#', '#...#', '#...#', '####.', '.....', '.....'],
  c: ['.....', '.....', '.###.', '#....', '#....', '#....', '.###.', '.....', '.....'],
  d: ['....#', '....#', '.####', '#...#', '#...#', '#...#', '.####', '.....', '.....'],
  e: ['.....', '.....', '.###.', '#...#', '#####', '#....', '.###.', '.....', '.....'],
  f: ['..##.', '.#...', '###..', '.#...', '.#...', '.#...', '.#...', '.....', '.....'],
  g: ['.....', '.....', '.####', '#...#', '#...#', '.####', '....#', '....#', '.###.'],
  h: ['#....', '#....', '####.', '#...#', '#...#', '#...#', '#...#', '.....', '.....'],
  i: ['..#..', '.....', '.##..', '..#..', '..#..', '..#..', '.###.', '.....', '.....'],
  k: ['#....', '#....', '#..#.', '#.#..', '##...', '#.#..', '#..#.', '.....', '.....'],
  l: ['.##..', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.', '.....', '.....'],
  m: ['.....', '.....', '##.#.', '#.#.#', '#.#.#', '#.#.#', '#.#.#', '.....', '.....'],
  n: ['.....', '.....', '####.', '#...#', '#...#', '#...#', '#...#', '.....', '.....'],
  o: ['.....', '.....', '.###.', '#...#', '#...#', '#...#', '.###.', '.....', '.....'],
  p: ['.....', '.....', '####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  q: ['.....', '.....', '.####', '#...#', '#...#', '.####', '....#', '....#', '....#'],
  r: ['.....', '.....', '#.##.', '##...', '#....', '#....', '#....', '.....', '.....'],
  s: ['.....', '.....', '.####', '#....', '.###.', '....#', '####.', '.....', '.....'],
  t: ['.#...', '.#...', '###..', '.#...', '.#...', '.#..#', '..##.', '.....', '.....'],
  u: ['.....', '.....', '#...#', '#...#', '#...#', '#..##', '.##.#', '.....', '.....'],
  v: ['.....', '.....', '#...#', '#...#', '#...#', '.#.#.', '..#..', '.....', '.....'],
  w: ['.....', '.....', '#...#', '#...#', '#.#.#', '#.#.#', '.#.#.', '.....', '.....'],
  x: ['.....', '.....', '#...#', '.#.#.', '..#..', '.#.#.', '#...#', '.....', '.....'],
  y: ['.....', '.....', '#...#', '#...#', '#...#', '.####', '....#', '....#', '.###.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..', '.....', '.....'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####', '.....', '.....'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#', '.....', '.....'],
};
const LETTERS = Object.keys(GLYPHS);
const LOWER = LETTERS.filter((c) => c === c.toLowerCase());

export function syntheticTextLine(seed: number, height = 48, width = 192): Float32Array {
  const r = mulberry32(seed);
  const gray = new Float32Array(height * width);
  const paper = 200 + 50 * r();
  for (let i = 0; i < gray.length; i++) gray[i] = paper + (r() - 0.5) * 20;
  const ink = 10 + 70 * r();
  // Glyph cell: 9 font rows scaled to 45-90% of the line height.
  const px = Math.max(2, Math.floor((height * (0.45 + 0.45 * r())) / 9));
  const top = Math.max(0, Math.floor((height - 9 * px) * (0.3 + 0.4 * r())));
  const gap = px * (1 + Math.floor(r() * 2));
  let x = 2 + Math.floor(r() * 12);
  const end = Math.floor(width * (0.55 + 0.45 * r()));
  const bold = r() < 0.3;
  while (x + 5 * px < end) {
    if (r() < 0.15) { x += 4 * px; continue; } // a word space
    const c = r() < 0.92 ? LOWER[Math.floor(r() * LOWER.length)] : LETTERS[Math.floor(r() * LETTERS.length)];
    const rows = GLYPHS[c];
    for (let gy = 0; gy < 9; gy++) for (let gx = 0; gx < 5; gx++) {
      if (rows[gy][gx] !== '#') continue;
      for (let dy = 0; dy < px; dy++) for (let dx = 0; dx < px + (bold ? 1 : 0); dx++) {
        const yy = top + gy * px + dy, xx = x + gx * px + dx;
        if (yy < height && xx < width) gray[yy * width + xx] = ink + (r() - 0.5) * 10;
      }
    }
    x += 5 * px + gap;
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
