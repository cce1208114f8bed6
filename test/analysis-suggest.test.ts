// suggestFixes: each cause fires on the evidence it names, and stays quiet without it
// (a before case, the expected diagnosis, and the case where the rule must not fire).
import { describe, expect, it } from 'vitest';
import type { AnalysisReport, LayerAnalysis } from '../src/analysis/analyze.js';
import { suggestFixes } from '../src/analysis/suggest.js';

function layer(name: string, o: { channels?: number[]; perChannel?: boolean; clipped?: number; counts?: number[] } = {}): LayerAnalysis {
  const ch = o.channels ?? [1, 1.2, 0.9, 1.1];
  const counts = o.counts ?? Array.from({ length: 64 }, (_, i) => 100 + i); // spread over the whole range
  return {
    name, op: 'Conv', output: `${name}_out`,
    graphwise: { sqnrDb: 20, cosine: 0.99, mse: 0.01 },
    layerwise: { outputSqnrDb: 30, agreement: 1 },
    weight: { scaleMin: 0.01, scaleMax: 0.01, perChannel: o.perChannel ?? false, channelMin: ch.map((v) => -v), channelMax: ch },
    activation: {
      tensor: `${name}_out`, scale: 0.1, zeroPoint: 0, signed: false, clipMin: 0, clipMax: 25.5, observedMin: 0, observedMax: 25.5,
      clippedShare: o.clipped ?? 0, histogram: { min: 0, max: 25.5, counts },
    },
  };
}
const report = (layers: LayerAnalysis[]): AnalysisReport => ({ samples: 8, output: { sqnrDb: 20, cosine: 0.99, mse: 0.01, agreement: 1, tensor: 'y' }, layers });

describe('suggestFixes', () => {
  it('weight-spread: per-tensor weights with one channel 10x the median -> per-channel or equalization', () => {
    const [s] = suggestFixes(report([layer('a', { channels: [1, 1, 1, 10] })]));
    expect(s).toMatchObject({ layer: 'a', cause: 'weight-spread', fixes: ['per-channel', 'equalization'] });
    expect(s.evidence).toMatch(/10\.0x/);
  });

  it('weight-spread does not fire on per-channel weights or on even channels', () => {
    expect(suggestFixes(report([layer('a', { channels: [1, 1, 1, 10], perChannel: true })]))[0].cause).toBe('sensitive');
    expect(suggestFixes(report([layer('b', { channels: [1, 2, 1.5, 3.9] })]))[0].cause).toBe('sensitive');
  });

  it('clipping: 0.5% of the activation clipped -> the minmax observer; 0.05% is not enough', () => {
    expect(suggestFixes(report([layer('a', { clipped: 0.005 })]))[0]).toMatchObject({ cause: 'clipping', fixes: ['observer-minmax'] });
    expect(suggestFixes(report([layer('a', { clipped: 0.0005 })]))[0].cause).toBe('sensitive');
  });

  it('outliers: values packed in 4 of 64 bins but one far outlier -> the MSE observer; a wide spread is not', () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 30; i < 34; i++) counts[i] = 25_000;
    counts[63] = 1;
    expect(suggestFixes(report([layer('a', { counts })]))[0]).toMatchObject({ cause: 'outliers', fixes: ['observer-mse'] });
    const heavy = [...counts];
    heavy[63] = 500; // 0.5% of the values out there: a real tail, not outliers to clip
    expect(suggestFixes(report([layer('a', { counts: heavy })]))[0].cause).toBe('sensitive');
  });

  it('diagnoses the top N layers in ranking order (default 5)', () => {
    const ls = Array.from({ length: 8 }, (_, i) => layer(`l${i}`));
    expect(suggestFixes(report(ls)).map((s) => s.layer)).toEqual(['l0', 'l1', 'l2', 'l3', 'l4']);
    expect(suggestFixes(report(ls), { top: 2 })).toHaveLength(2);
  });
});
