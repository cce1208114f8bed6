// The integer executor on hand-built QDQ models: every pattern on every backend and requant mode,
// bit-identical across backends, close to the fake-quantized float run, with the lowering it claims.
import { describe, expect, it } from 'vitest';
import { InferenceSession, type Tensor } from '../src/onnx-api.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { REQUANT_MODES } from '../src/quant/requant.js';
import { loadedBackends } from './backends.js';
import { patternModels, randomInput } from './integer-models.js';

const backends = loadedBackends.map((b) => b.name);

/** Output differences in LSBs of the output scale. */
function lsbDiff(a: Tensor, b: Tensor, scale: number): number {
  const x = a.data as Float32Array,
    y = b.data as Float32Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.round(Math.abs(x[i]! - y[i]!) / scale));
  return m;
}

describe('IntegerSession: patterns on every backend and requant mode', () => {
  for (const p of patternModels()) {
    it(p.name, async () => {
      const x = randomInput(p.dims, 11);
      const ys = p.model.graph.initializers.get('y_s')!.data[0] as number;
      const float = (await (await InferenceSession.create(p.model, { runInWorker: false })).run({ x })).y!;
      for (const mode of REQUANT_MODES) {
        let first: Float32Array | undefined;
        for (const be of backends) {
          const s = await IntegerSession.create(p.model, { backend: be, requantMode: mode });
          const y = s.runSync({ x }).y!;
          expect(y.dtype).toBe('float32');
          expect(y.dims).toEqual(float.dims);
          if (!first) first = y.data as Float32Array;
          else expect(Array.from(y.data as Float32Array), `${be} vs ${backends[0]} (${mode})`).toEqual(Array.from(first));
          const entry = s.loweringReport().find((e) => e.opType === p.op)!;
          expect(entry.execution, JSON.stringify(entry)).toBe('integer');
          // Integer and fake-quantized float agree to one output step (requantization rounds once
          // in integer, twice in float); shift mode forces M to a power of two, so it may differ more.
          if (mode !== 'shift') expect(lsbDiff(y, float, ys), `${p.name} ${be} ${mode}`).toBeLessThanOrEqual(1);
        }
      }
    });
  }

  it('a per-channel Min after Relu is fused into the conv and gemm as a clamp that bites', async () => {
    for (const p of patternModels().filter((q) => /per-(channel|column) Min/.test(q.name))) {
      const s = await IntegerSession.create(p.model, { backend: 'js', runInWorker: false });
      const rep = s.loweringReport();
      expect(rep.find((e) => e.opType === 'Min')).toMatchObject({ execution: 'fused' });
      expect(rep.find((e) => e.opType === p.op)!.reason).toMatch(/fused Min as a per-(channel|column) clamp/);
      const cap = p.model.graph.initializers.get('cap')!.data as Float32Array;
      const ys = p.model.graph.initializers.get('y_s')!.data[0] as number;
      const y = s.runSync({ x: randomInput(p.dims, 3) }).y!.data as Float32Array;
      // Channel c (axis 1 of the conv's NCHW output, the last axis of the gemm's) never exceeds its
      // own bound, and some channel below the largest bound sits at it: the clamp is per channel.
      const C = cap.length,
        channelOf = (i: number) => (p.op === 'Gemm' ? i % C : Math.floor(i / (y.length / C)));
      let atBound = 0;
      for (let i = 0; i < y.length; i++) {
        const c = channelOf(i);
        expect(y[i]!).toBeLessThanOrEqual(cap[c]! + ys / 2);
        if (cap[c]! < Math.max(...cap) && Math.abs(y[i]! - cap[c]!) <= ys / 2) atBound++;
      }
      expect(atBound, p.name).toBeGreaterThan(0);
    }
  });

  // runInWorker: false in this file: a worker thread per (never released) session is what made it
  // take minutes; the worker path has its own tests (session-async, integer-plan).
  it('float mode reproduces the fake-quantized float run exactly on exact patterns', async () => {
    // Data movement, max pooling, tables and resize never round in between: they must match bit for bit.
    // (Softmax rounds its exp table: within one step, checked above and in kernels-qsoftmax.)
    for (const p of patternModels().filter((q) => /maxpool|resize|lut|flatten|transpose/.test(q.name))) {
      const x = randomInput(p.dims, 5);
      const float = (await (await InferenceSession.create(p.model, { runInWorker: false })).run({ x })).y!;
      const y = (await (await IntegerSession.create(p.model, { backend: 'js', requantMode: 'float', runInWorker: false })).run({ x })).y!;
      expect(Array.from(y.data as Float32Array), p.name).toEqual(Array.from(float.data as Float32Array));
    }
  });
});
