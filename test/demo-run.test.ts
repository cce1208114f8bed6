// The demo end to end on 1,000 images (the CLI runs all 10,000): float and int8 accuracy, identical
// bits on the fast backends, onnxruntime beside them, the analysis ready for the report.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/analysis/demo.js';
import { sensitivity, suggestFixes } from '../src/analysis/suggest.js';
import { loadedBackends } from './backends.js';
import { has } from './fixtures.js';

describe.skipIf(!has('models', 'mnist-8', 'model.onnx'))('onnx-ptq demo', () => {
  it('quantizes mnist-8 and validates it on every fast backend and onnxruntime', async () => {
    const fast = loadedBackends.map((b) => b.name).filter((n) => n !== 'js');
    const r = await runDemo({ limit: 1000, backends: fast, offline: true });
    expect(r.assets.model.source).toBe('fixtures');
    const [float, ...rest] = r.rows;
    expect(float.executor).toMatch(/^float/);
    const int8 = rest.filter((x) => x.executor.startsWith('int8 integer'));
    expect(int8.map((x) => x.executor.split(' ').pop())).toEqual(fast);
    for (const x of int8) {
      expect(x.identical).toBe(true);
      expect(Math.abs(float.accuracy - x.accuracy)).toBeLessThanOrEqual(0.002);
      expect(x.msPerImage).toBeGreaterThan(0);
    }
    expect(rest.some((x) => x.executor.includes('onnxruntime'))).toBe(true);
    expect(r.analysis.layers.map((l) => l.name).sort()).toEqual(['Convolution110', 'Convolution28', 'Times212']);
    // The demo report calls no layer sensitive: int8 costs nothing measurable on mnist-8.
    expect(suggestFixes(r.analysis, { top: 3, current: r.options })).toEqual([]);
    expect(sensitivity(r.analysis).why).toMatch(/^no layer is sensitive: quantization costs nothing measurable here/);
  }, 120_000);

  it('the command has --help with examples and refuses unknown options and backend names', async () => {
    const { main } = await import('../src/cli/commands/demo.js');
    const orig = console.log;
    const logs: string[] = [];
    console.log = (s: string) => logs.push(String(s));
    try {
      expect(await main(['--help'])).toBe(0);
    } finally {
      console.log = orig;
    }
    expect(logs.join('\n')).toMatch(/examples:[\s\S]*onnx-ptq demo/);
    await expect(main(['--bogus'])).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(runDemo({ backends: ['nativ'], offline: true })).rejects.toThrow(
      /option 'backends' names 'nativ', not a backend \(known: native, wasm, js\)/,
    );
  });
});
