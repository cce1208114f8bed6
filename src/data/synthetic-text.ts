/**
 * Deterministic synthetic text-line images for models that ship without data (the PaddleOCR
 * direction classifier): lines of English words, numbers and punctuation set in real TrueType
 * fonts (DejaVu, Debian's fonts-dejavu-core) by opentype.js, rasterized anti-aliased
 * (src/data/raster.ts), dark ink on light paper with noise, cropped to the text box as a detector
 * would, and prepared as PaddleOCR's cls preprocessing does: resized to the input height keeping
 * the aspect ratio (at most the input width), normalized (x / 255 - 0.5) / 0.5, zero-padded on the
 * right. Odd sample numbers are rotated by 180 degrees (label 1), even ones upright (label 0).
 *
 * Why fonts rather than drawn strokes or bitmap glyphs: on those the classifier's float predictions
 * sit near its decision boundary (59% and 68% right), so any quantization error flips them and
 * "agreement" measures noise; on these lines it is right on 399 of 400 (seeds 100000..) with a
 * 5th-percentile confidence of 0.98, as on real crops.
 *
 * Fonts: the files named in FONT_FILES, looked up in ONNX_PTQ_FONTS (a folder) or
 * /usr/share/fonts/truetype/dejavu; the images depend on the font files, so the same fonts give the
 * same data on every machine. opentype.js is pinned to 1.3.4 exactly: 1.3.5 lays text out through
 * its GSUB engine and throws on DejaVu's chaining-context lookups (lookupType 6, format 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type opentype from 'opentype.js';
import { OnnxPtqError } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { Feeds } from '../ptq/calibrate.js';
import { mulberry32 } from '../util/prng.js';
import { bilinearTap } from './bilinear.js';
import { rasterizePath, type PathCommand } from './raster.js';

/** The six faces of fonts-dejavu-core, in a fixed order (the seed picks one). */
export const FONT_FILES = [
  'DejaVuSans.ttf',
  'DejaVuSans-Bold.ttf',
  'DejaVuSerif.ttf',
  'DejaVuSerif-Bold.ttf',
  'DejaVuSansMono.ttf',
  'DejaVuSansMono-Bold.ttf',
];
const DEFAULT_FONT_DIR = '/usr/share/fonts/truetype/dejavu';

const WORDS = (
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but ' +
  'not what all were we when your can said there use an each which she do how their if will up other about out many ' +
  'then them these so some her would make like him into time has look two more write go see number no way could ' +
  'people my than first water been call who oil its now find long down day did get come made may part over new ' +
  'sound take only little work know place year live me back give most very after thing our just name good sentence ' +
  'man think say great where help through much before line right too mean old any same tell boy follow came want ' +
  'show also around form three small set put end does another well large must big even such because turn here why ' +
  'ask went men read need land different home us move try kind hand picture again change off play spell air away ' +
  'animal house point page letter mother answer found study still learn should America world invoice total date ' +
  'address street phone receipt price amount order station'
).split(' ');

// opentype.js is loaded on first use: every data command and `import 'onnx-ptq'` reach this module,
// few of them draw text (the package's require takes ~70 ms).
let opentypeModule: typeof opentype | undefined;
function parser(): typeof opentype {
  opentypeModule ??= createRequire(import.meta.url)('opentype.js') as typeof opentype;
  return opentypeModule;
}

let fontCache: { dir: string; fonts: opentype.Font[] } | undefined;

function fonts(): opentype.Font[] {
  const dir = process.env.ONNX_PTQ_FONTS || DEFAULT_FONT_DIR;
  if (fontCache?.dir === dir) return fontCache.fonts;
  const found = FONT_FILES.map((f) => join(dir, f)).filter((p) => existsSync(p));
  if (found.length === 0) {
    throw new OnnxPtqError(
      'IO_ERROR',
      `synthetic text needs the DejaVu fonts (${FONT_FILES.join(', ')}) and found none in ${dir}: ` +
        `install Debian's fonts-dejavu-core, or set ONNX_PTQ_FONTS to a folder holding them`,
    );
  }
  const loaded = found.map((p) => {
    try {
      const b = readFileSync(p);
      return parser().parse(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    } catch (e) {
      throw new OnnxPtqError('IO_ERROR', `cannot read font ${p}: ${(e as Error).message}`, { cause: e });
    }
  });
  fontCache = { dir, fonts: loaded };
  return loaded;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function lineText(r: () => number): string {
  const n = 1 + Math.floor(r() * 6);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = r();
    let w: string;
    if (u < 0.1) w = String(Math.floor(r() * 10 ** (1 + Math.floor(r() * 5))));
    else if (u < 0.13) w = pick(r, ['-', '&', '/', '#', '+']);
    else {
      w = pick(r, WORDS);
      const c = r();
      if (c < 0.2 || (i === 0 && c < 0.5)) w = w[0].toUpperCase() + w.slice(1);
      else if (c < 0.25) w = w.toUpperCase();
      if (r() < 0.1) w += pick(r, ['.', ',', ':', ';', '!', '?']);
    }
    words.push(w);
  }
  return words.join(' ');
}

/**
 * One text line as gray levels (0..255) of `height` x `width`, the text box resized into its left
 * `used` columns; columns from `used` on are padding (the caller's zero).
 */
export function syntheticTextLine(seed: number, height = 48, width = 192): { gray: Float32Array; used: number; text: string } {
  const r = mulberry32(seed);
  const font = pick(r, fonts());
  const text = lineText(r);
  // Set at 32 px, then resized to `height`: the model's input sees text at one height, as after
  // PaddleOCR's resize; the margins vary as a detector's boxes do.
  const size = 32;
  const asc = (font.ascender / font.unitsPerEm) * size,
    desc = (-font.descender / font.unitsPerEm) * size;
  const mx = 1 + r() * 8,
    top = r() * 5,
    bottom = r() * 5;
  const boxW = Math.ceil(font.getAdvanceWidth(text, size) + 2 * mx),
    boxH = Math.ceil(asc * 0.92 + desc * 0.85 + top + bottom);
  const path = font.getPath(text, mx, top + asc * 0.92, size);
  const cov = rasterizePath(path.commands as PathCommand[], boxW, boxH);
  const paper = 160 + 90 * r(),
    ink = 5 + 100 * r(),
    noise = 4 + 16 * r();
  const used = Math.max(1, Math.min(width, Math.ceil((height * boxW) / boxH)));
  const gray = new Float32Array(height * width);
  // Bilinear resize of the coverage, as cv2.resize does for PaddleOCR.
  for (let y = 0; y < height; y++) {
    const { i0: y0, i1: y1, w: ay } = bilinearTap(y, height, boxH);
    for (let x = 0; x < used; x++) {
      const { i0: x0, i1: x1, w: ax } = bilinearTap(x, used, boxW);
      const c =
        (cov[y0 * boxW + x0] * (1 - ax) + cov[y0 * boxW + x1] * ax) * (1 - ay) +
        (cov[y1 * boxW + x0] * (1 - ax) + cov[y1 * boxW + x1] * ax) * ay;
      const v = paper + (ink - paper) * c + (r() - 0.5) * noise;
      gray[y * width + x] = Math.min(255, Math.max(0, v));
    }
  }
  return { gray, used, text };
}

/** Label of sample `seed`: 1 (rotated by 180 degrees) for odd seeds, 0 for even ones. */
export function syntheticTextLabel(seed: number): number {
  return seed % 2 === 1 ? 1 : 0;
}

/**
 * `count` samples { [inputName]: 1x3xHxW float32 } for seeds `seed`, `seed` + 1, ... With `upright`,
 * no line is rotated: what a recognizer reads after the direction classifier (on rotated lines a
 * recognizer's output is noise whose argmax any perturbation flips).
 */
export function syntheticTextSet(
  count: number,
  seed: number,
  inputName = 'x',
  height = 48,
  width = 192,
  opts: { upright?: boolean } = {},
): Feeds[] {
  if (!(Number.isInteger(count) && count >= 0 && Number.isInteger(seed) && seed >= 0)) {
    throw new OnnxPtqError('INVALID_ARGUMENT', `synthetic text: count and seed must be non-negative integers, got ${count} and ${seed}`);
  }
  if (!(Number.isInteger(height) && height >= 8 && Number.isInteger(width) && width >= 8)) {
    throw new OnnxPtqError('INVALID_ARGUMENT', `synthetic text: the input must be at least 8x8 pixels, got ${height}x${width}`);
  }
  const out: Feeds[] = [];
  const hw = height * width;
  for (let i = 0; i < count; i++) {
    const s = seed + i;
    const { gray, used } = syntheticTextLine(s * 7919 + 13, height, width);
    const flip = !opts.upright && syntheticTextLabel(s) === 1;
    const d = new Float32Array(3 * hw); // zero = PaddleOCR's padding after normalization
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < used; x++) {
        // Rotation by 180 degrees of the resized crop (not of the padded canvas): the padding stays right.
        const g = flip ? gray[(height - 1 - y) * width + (used - 1 - x)] : gray[y * width + x];
        const v = (g / 255 - 0.5) / 0.5,
          p = y * width + x;
        d[p] = v;
        d[hw + p] = v;
        d[2 * hw + p] = v;
      }
    }
    out.push({ [inputName]: new Tensor('float32', d, [1, 3, height, width]) });
  }
  return out;
}

/**
 * Heights from which `synthetic-text:N:SEED:HxW` draws pages instead of single lines: text-line
 * models (PaddleOCR cls and rec) take 32 or 48 rows, detection models whole pages of hundreds.
 */
export const PAGE_MIN_HEIGHT = 96;

/**
 * One page as gray levels (0..255) of `height` x `width`: paper with lines of text (the same words,
 * fonts, ink and noise as the text lines) at one text size per page, 2.5% to 6% of the page height,
 * left-aligned with ragged margins and the odd skipped line, as a scanned document or a receipt
 * looks to a text detector.
 */
export function syntheticPage(seed: number, height: number, width: number): { gray: Float32Array; lines: number } {
  const r = mulberry32(seed);
  const font = pick(r, fonts());
  const paper = 170 + 80 * r(),
    noise = 3 + 12 * r();
  const size = Math.max(10, Math.min(72, Math.round(height * (0.025 + 0.035 * r()))));
  const asc = (font.ascender / font.unitsPerEm) * size,
    desc = (-font.descender / font.unitsPerEm) * size;
  const boxH = Math.ceil(asc + desc);
  const margin = Math.round(Math.min(height, width) * (0.03 + 0.05 * r()));
  const gray = new Float32Array(height * width).fill(paper);
  let lines = 0;
  for (let y = margin; y + boxH <= height - margin; y += Math.round(size * (1.25 + 0.5 * r()))) {
    if (r() < 0.12) continue; // a paragraph gap
    const x0 = margin + Math.floor(r() * width * 0.08);
    const boxW = width - margin - x0;
    if (boxW < size) break;
    const text = `${lineText(r)} ${lineText(r)}`;
    const ink = 5 + 90 * r();
    const cov = rasterizePath(font.getPath(text, 0, asc, size).commands as PathCommand[], boxW, boxH);
    for (let j = 0; j < boxH; j++) {
      const row = (y + j) * width + x0;
      for (let i = 0; i < boxW; i++) {
        const c = cov[j * boxW + i];
        if (c > 0) gray[row + i] += (ink - gray[row + i]) * c;
      }
    }
    lines++;
  }
  for (let i = 0; i < gray.length; i++) gray[i] = Math.min(255, Math.max(0, gray[i] + (r() - 0.5) * noise));
  return { gray, lines };
}

/** ImageNet mean and std (RGB), PaddleOCR det's NormalizeImage after x / 255. */
const DET_MEAN = [0.485, 0.456, 0.406],
  DET_STD = [0.229, 0.224, 0.225];

/**
 * `count` page images { [inputName]: 1x3xHxW float32 } for seeds `seed`, `seed` + 1, ..., prepared
 * as PaddleOCR det's preprocessing does: x / 255, minus the ImageNet mean, over its std, per channel.
 * For detection models (PP-OCR det needs H and W multiples of 32).
 */
export function syntheticPageSet(count: number, seed: number, inputName = 'x', height = 640, width = 640): Feeds[] {
  if (!(Number.isInteger(count) && count >= 0 && Number.isInteger(seed) && seed >= 0)) {
    throw new OnnxPtqError('INVALID_ARGUMENT', `synthetic pages: count and seed must be non-negative integers, got ${count} and ${seed}`);
  }
  if (!(Number.isInteger(height) && height >= 32 && Number.isInteger(width) && width >= 32 && height * width <= 1 << 24)) {
    throw new OnnxPtqError(
      'INVALID_ARGUMENT',
      `synthetic pages: the page must be 32x32 to 4096x4096 pixels (2^24 in all), got ${height}x${width}`,
    );
  }
  const out: Feeds[] = [];
  const hw = height * width;
  for (let i = 0; i < count; i++) {
    const { gray } = syntheticPage((seed + i) * 7919 + 29, height, width);
    const d = new Float32Array(3 * hw);
    for (let c = 0; c < 3; c++) {
      const m = DET_MEAN[c],
        s = DET_STD[c];
      for (let p = 0; p < hw; p++) d[c * hw + p] = (gray[p] / 255 - m) / s;
    }
    out.push({ [inputName]: new Tensor('float32', d, [1, 3, height, width]) });
  }
  return out;
}
