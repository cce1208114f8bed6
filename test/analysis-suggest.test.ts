// suggestFixes: each cause fires on the evidence it names, and stays quiet without it
// (a before case, the expected diagnosis, and the case where the rule must not fire).
import { describe, expect, it } from 'vitest';
import type { AnalysisReport, LayerAnalysis } from '../src/analysis/analyze.js';
import { outputKind } from '../src/analysis/analyze.js';
import { sensitivity, suggestFixes } from '../src/analysis/suggest.js';
import { DEFAULT_QUANTIZE_OPTIONS } from '../src/ptq/options.js';

function layer(
  name: string,
  o: { channels?: number[]; perChannel?: boolean; clipped?: number; counts?: number[]; aloneDb?: number } = {},
): LayerAnalysis {
  const ch = o.channels ?? [1, 1.2, 0.9, 1.1];
  const counts = o.counts ?? Array.from({ length: 64 }, (_, i) => 100 + i); // spread over the whole range
  return {
    name,
    op: 'Conv',
    output: `${name}_out`,
    graphwise: { sqnrDb: 20, cosine: 0.99, mse: 0.01 },
    // Output SQNR 20 dB, this layer alone 25 dB: it makes 10^-0.5 = 32% of the output error.
    layerwise: { outputSqnrDb: o.aloneDb ?? 25, agreement: 1 },
    weight: { scaleMin: 0.01, scaleMax: 0.01, perChannel: o.perChannel ?? false, channelMin: ch.map((v) => -v), channelMax: ch },
    activation: {
      tensor: `${name}_out`,
      scale: 0.1,
      zeroPoint: 0,
      signed: false,
      clipMin: 0,
      clipMax: 25.5,
      observedMin: 0,
      observedMax: 25.5,
      clippedShare: o.clipped ?? 0,
      histogram: { min: 0, max: 25.5, counts },
    },
  };
}
const report = (layers: LayerAnalysis[], output: Partial<AnalysisReport['output']> = {}): AnalysisReport => ({
  samples: 8,
  output: { sqnrDb: 20, cosine: 0.99, mse: 0.01, agreement: 1, tensor: 'y', ...output },
  layers,
});

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

  it('sensitivity rule: nothing is sensitive when the output error is not measurable (mnist-8 at int8: 38 dB, 100% agreement)', () => {
    const r = report([layer('a', { aloneDb: 38.3 }), layer('b', { aloneDb: 49.8 })], { sqnrDb: 38, agreement: 1 });
    expect(suggestFixes(r)).toEqual([]);
    expect(sensitivity(r).why).toMatch(
      /no layer is sensitive: quantization costs nothing measurable here \(model output SQNR 38.0 dB, top-1 agreement 100.00%/,
    );
    // The same SQNR with 3% of the top-1 answers changed is measurable.
    expect(suggestFixes(report(r.layers, { sqnrDb: 38, agreement: 0.97 })).map((s) => s.layer)).toEqual(['a']);
  });

  it('sensitivity rule: a layer that alone makes under 10% of the output error is not diagnosed', () => {
    const r = report([layer('big', { aloneDb: 21 }), layer('small', { aloneDb: 31 })]);
    const s = suggestFixes(r);
    expect(s.map((x) => x.layer)).toEqual(['big']);
    expect(s[0].errorShare).toBeCloseTo(10 ** -0.1, 6);
    expect(sensitivity(report([layer('small', { aloneDb: 31 })])).why).toMatch(/none makes 10% of the output error alone/);
  });

  it('a dense output is judged by SQNR alone: top-1 agreement on a map does not make its error measurable', () => {
    expect(outputKind([1, 1000])).toBe('classification');
    expect(outputKind([1, 10, 1, 1])).toBe('classification');
    expect(outputKind([1, 1, 224, 224])).toBe('dense');
    expect(outputKind([1, 25200, 85])).toBe('dense');
    const r = report([layer('a', { aloneDb: 36 })], { sqnrDb: 35, agreement: 0.2, kind: 'dense' });
    expect(suggestFixes(r)).toEqual([]);
    expect(sensitivity(r).why).not.toMatch(/agreement/);
  });

  it('never suggests a fix already in effect: it is listed as skipped with why, and keep-float offered instead', () => {
    const minmax = { ...DEFAULT_QUANTIZE_OPTIONS, observer: 'minmax' as const };
    const [s] = suggestFixes(report([layer('a', { clipped: 0.005 })]), { current: minmax });
    expect(s.cause).toBe('clipping');
    expect(s.fixes).toEqual(['keep-float']);
    expect(s.skipped).toEqual([{ fix: 'observer-minmax', why: expect.stringMatching(/already calibrated with minmax/) }]);
    const [e] = suggestFixes(report([layer('a', { channels: [1, 1, 1, 10] })]), {
      current: { ...minmax, weightGranularity: 'per-tensor', passes: ['equalization'] },
    });
    expect(e.fixes).toEqual(['per-channel']);
    expect(e.skipped.map((k) => k.fix)).toEqual(['equalization']);
    // Under kl, minmax is a real change.
    expect(suggestFixes(report([layer('a', { clipped: 0.005 })]), { current: { ...minmax, observer: 'kl' } })[0].fixes).toEqual([
      'observer-minmax',
    ]);
  });
});

describe('dense outputs in mixed precision', () => {
  it('--target-agreement on a dense map is refused, naming the output; analyze marks it dense', async () => {
    const { keepFloatAuto } = await import('../src/analysis/mixed-precision.js');
    const { twoConv, xFeed } = await import('./passes-helpers.js');
    const data = Array.from({ length: 6 }, xFeed);
    const err = await keepFloatAuto(twoConv('relu'), { quantize: {}, calibration: data, targetAgreement: 0.99, analysisSamples: 4 }).catch(
      (e) => e,
    );
    expect(err.code).toBe('INVALID_OPTION');
    expect(err.message).toMatch(/model output 'y' is a dense map.*--target-sqnr/);
    const ok = await keepFloatAuto(twoConv('relu'), { quantize: {}, calibration: data, targetSqnrDb: 10, analysisSamples: 4 });
    expect(ok.analysis.output.kind).toBe('dense');
  });
});
