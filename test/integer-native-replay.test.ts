// Native replay (src/runtime/integer/native-plan.ts): on the native backend the first planned run
// records the kernel calls of pure steps and later runs replay them in one N-API call per segment.
// Replayed runs must give the bits of per-step runs and of the JS reference on every input; steps
// that compute in JS (a per-channel clamp, a float fallback) stay out of the segments; a replay
// follows setThreads; a released session neither replays nor runs.
import { describe, expect, it } from 'vitest';
import { IntegerSession } from '../src/runtime/integer/index.js';
import type { Model, Tensor } from '../src/onnx-api.js';
import { loadedBackends } from './backends.js';
import { convModel, patternModels, randomInput } from './integer-models.js';
import { getBackend } from '../src/backends/registry.js';

const hasNative = loadedBackends.some((b) => b.name === 'native');
const bits = (o: Record<string, Tensor>) => Object.values(o).map((t) => Array.from(t.data as Float32Array));

async function runs(model: Model, dims: number[], opts: { backend: 'native' | 'js'; nativeReplay?: boolean }, n = 5) {
  const s = await IntegerSession.create(model, { ...opts, runInWorker: false });
  const out = Array.from({ length: n }, (_, i) => bits(s.runSync({ x: randomInput(dims, 100 + i, -4 + i, 4 + 2 * i) })));
  return { s, out };
}

describe.runIf(hasNative)('native replay', () => {
  for (const p of patternModels())
    it(`${p.name}: replayed runs equal per-step runs and the JS reference, input after input`, async () => {
      const replay = await runs(p.model, p.dims, { backend: 'native' });
      const steps = await runs(p.model, p.dims, { backend: 'native', nativeReplay: false });
      const js = await runs(p.model, p.dims, { backend: 'js' });
      expect(replay.out).toEqual(steps.out);
      expect(replay.out).toEqual(js.out);
      expect(steps.s.memoryPlans()[0]!.replay).toBeUndefined();
      expect(js.s.memoryPlans()[0]!.replay).toBeUndefined();
    });

  it('replays a conv + relu in one native call per run', async () => {
    const { s } = await runs(convModel({ relu: true }), [1, 3, 8, 8], { backend: 'native' });
    const r = s.memoryPlans()[0]!.replay!;
    expect(r.calls).toBe(1);
    // The graph input's QuantizeLinear reads the caller's array (new on every run): it stays a step.
    expect(r.steps).toBeGreaterThanOrEqual(1);
  });

  it('keeps a step that clamps in JS (per-channel Min after Relu) out of the segments', async () => {
    const m = convModel({ cap: [0.3, 0.8, 2.5, 6] });
    const { s, out } = await runs(m, [1, 3, 8, 8], { backend: 'native' });
    const js = await runs(m, [1, 3, 8, 8], { backend: 'js' });
    expect(out).toEqual(js.out);
    expect(s.memoryPlans()[0]!.replay).toBeUndefined(); // its only integer step clamps in JS
  });

  it('a float fallback between integer steps splits the run into segments with the same bits', async () => {
    const p = patternModels().find((q) => q.op === 'Softmax')!;
    const replay = await runs(p.model, p.dims, { backend: 'native' });
    const js = await runs(p.model, p.dims, { backend: 'js' });
    expect(replay.out).toEqual(js.out);
  });

  it('a replay runs on the pool of the moment (setThreads after recording), with the same bits', async () => {
    const m = convModel({ cin: 16, cout: 32, relu: true });
    m.graph.inputs[0]!.shape = [1, 16, 'h', 'w']; // 64x64: above the size at which conv uses the pool
    const native = getBackend('native');
    const dims = [1, 16, 64, 64];
    const s = await IntegerSession.create(m, { backend: 'native', runInWorker: false });
    const want = bits((await IntegerSession.create(m, { backend: 'js', runInWorker: false })).runSync({ x: randomInput(dims, 9) }));
    const before = native.getThreads();
    try {
      native.setThreads(1);
      for (let i = 0; i < 2; i++) s.runSync({ x: randomInput(dims, 9) }); // trace, record
      for (const t of [3, 1, 2]) {
        native.setThreads(t);
        expect(bits(s.runSync({ x: randomInput(dims, 9) })), `${t} threads`).toEqual(want);
      }
      expect(s.memoryPlans()[0]!.replay?.calls).toBe(1);
    } finally {
      native.setThreads(before);
    }
  });

  it('release() frees the recorded calls; a later run is refused', async () => {
    const { s } = await runs(convModel({ relu: true }), [1, 3, 8, 8], { backend: 'native' }, 3);
    expect(s.memoryPlans()[0]!.replay).toBeDefined();
    await s.release();
    expect(s.memoryPlans()).toEqual([]);
    expect(() => s.runSync({ x: randomInput([1, 3, 8, 8], 1) })).toThrow(/released/);
  });

  it('the threads option of a session: the same bits at 1 and 3 threads, the backend default untouched', async () => {
    const m = convModel({ cin: 16, cout: 32, relu: true });
    m.graph.inputs[0]!.shape = [1, 16, 'h', 'w'];
    const x = randomInput([1, 16, 64, 64], 4);
    const native = getBackend('native');
    const before = native.getThreads();
    const want = bits((await IntegerSession.create(m, { backend: 'js', runInWorker: false })).runSync({ x }));
    for (const threads of [1, 3]) {
      const s = await IntegerSession.create(m, { backend: 'native', runInWorker: false, threads });
      for (let i = 0; i < 3; i++) expect(bits(s.runSync({ x })), `${threads} threads, run ${i}`).toEqual(want);
      expect(native.getThreads()).toBe(before);
    }
    // In a worker the option travels with the session.
    const w = await IntegerSession.create(m, { backend: 'native', threads: 2 });
    expect(bits(await w.run({ x }))).toEqual(want);
    await w.release();
    for (const bad of [0, 1.5, 257, '2'])
      await expect(IntegerSession.create(m, { threads: bad as never })).rejects.toThrow(/threads must be an integer in \[1, 256\]/);
  });

  it('nativeReplay must be a boolean', async () => {
    await expect(IntegerSession.create(convModel(), { nativeReplay: 'yes' as never })).rejects.toThrow(/nativeReplay must be a boolean/);
  });
});
