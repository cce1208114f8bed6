// The float session's native replay (src/runtime/float-replay.ts): on the native backend the second
// run of a feed signature records the kernel calls of the layer steps and later runs replay them.
// Replayed runs must give the bits of step-by-step runs on every input, leave the results of earlier
// runs alone, keep steps that compute in JS (or read what a JS step wrote) out of the segments, and
// key replays by input shape and fetch list.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../src/ir/graph.js';
import { Tensor, type Model, type Node } from '../src/onnx-api.js';
import { InferenceSession } from '../src/runtime/session.js';
import { getBackend } from '../src/backends/registry.js';
import { loadedBackends, rng } from './backends.js';
import { f32, ints, model, randomInput } from './integer-models.js';

const hasNative = loadedBackends.some((b) => b.name === 'native');
const bits = (o: Record<string, Tensor>) => Object.fromEntries(Object.entries(o).map(([k, t]) => [k, Array.from(t.data as Float32Array)]));

function values(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

/**
 * Conv (+ Relu, fused) -> Add of a per-channel constant -> Reshape (a JS view) -> MatMul -> Softmax,
 * with the conv's output as a second graph output; `extra` nodes are appended before the Reshape.
 */
function chain(opts: { dims?: (number | string)[]; extra?: 'broadcast-add' | 'transpose' } = {}): Model {
  const c = 4;
  const nodes: Node[] = [
    makeNode('Conv', ['x', 'w', 'b'], ['c'], { pads: ints([1, 1, 1, 1]) }, 'conv'),
    makeNode('Relu', ['c'], ['r'], {}, 'relu'),
    makeNode('Add', ['r', 'bias'], ['a'], {}, 'add'),
  ];
  let last = 'a';
  if (opts.extra === 'broadcast-add') {
    // [1,4,H,W] + [1,4,1,W]: not one contiguous block of a's axes, so Add takes its JS broadcast loop.
    nodes.push(makeNode('Add', ['a', 'rows'], ['j'], {}, 'js_add'));
    last = 'j';
  } else if (opts.extra === 'transpose') {
    // Transpose writes a fresh array in JS; the conv reading it must not be recorded.
    nodes.push(makeNode('Transpose', ['a'], ['t'], { perm: ints([0, 1, 3, 2]) }, 'transpose'));
    nodes.push(makeNode('Conv', ['t', 'w2'], ['j'], {}, 'conv2'));
    last = 'j';
  }
  nodes.push(
    makeNode('Reshape', [last, 'shape'], ['flat'], {}, 'reshape'),
    makeNode('MatMul', ['flat', 'm'], ['mm'], {}, 'matmul'),
    makeNode('Softmax', ['mm'], ['y'], { axis: { type: 'int', value: -1 } }, 'softmax'),
  );
  const inits: [string, Tensor][] = [
    ['w', f32(values(c * 3 * 9, 1), [c, 3, 3, 3])],
    ['b', f32(values(c, 2), [c])],
    ['bias', f32(values(c, 3), [1, c, 1, 1])],
    ['rows', f32(values(c * 6, 4), [1, c, 1, 6])],
    ['w2', f32(values(c * c, 5), [c, c, 1, 1])],
    ['shape', new Tensor('int64', new BigInt64Array([1n, -1n]), [2])],
    ['m', f32(values(c * 6 * 6 * 5, 6), [c * 6 * 6, 5])],
  ];
  return model(nodes, inits, [{ name: 'x', dims: (opts.dims ?? [1, 3, 6, 6]) as number[] }], ['y', 'c']);
}

/**
 * Runs every feed on both sessions and compares the bits once all runs are done: a result left in
 * replayed memory would show a later run's values.
 */
function expectSameBits(replay: InferenceSession, steps: InferenceSession, feeds: Record<string, Tensor>[]): void {
  const got = feeds.map((f) => replay.runSync(f));
  const want = feeds.map((f) => bits(steps.runSync(f)));
  expect(got.map(bits)).toEqual(want);
}

async function pair(m: Model) {
  const replay = await InferenceSession.create(m, { runInWorker: false });
  const steps = await InferenceSession.create(m, { runInWorker: false, nativeReplay: false });
  return { replay, steps };
}

/** A replaying session of `m`, checked against a step-by-step one on `feeds` (expectSameBits). */
async function replayedLikeSteps(m: Model, feeds: Record<string, Tensor>[]): Promise<InferenceSession> {
  const { replay, steps } = await pair(m);
  expectSameBits(replay, steps, feeds);
  return replay;
}

describe.runIf(hasNative)('float native replay', () => {
  it('replayed runs equal step-by-step runs, input after input, and leave earlier results alone', async () => {
    const { replay, steps } = await pair(chain());
    const feeds = Array.from({ length: 6 }, (_, i) => ({ x: randomInput([1, 3, 6, 6], 10 + i, -2 - i, 2 + i) }));
    const got = feeds.map((f) => replay.runSync(f));
    const want = feeds.map((f) => bits(steps.runSync(f)));
    // Compared after every run is done: a result in replayed memory would show the last run's values.
    expect(got.map(bits)).toEqual(want);
    const [r] = replay.nativeReplays();
    // Conv, Relu (not fused: the conv's output is a graph output) and Add, then MatMul and Softmax;
    // the Reshape between them is a JS view.
    expect(r).toEqual({ steps: 6, replayedSteps: 5, calls: 2 });
    expect(steps.nativeReplays()).toEqual([]);
  });

  it('an Add on its JS broadcast loop stays a step, pinned for the layers after it; the results keep the bits', async () => {
    const { replay, steps } = await pair(chain({ extra: 'broadcast-add' }));
    for (let i = 0; i < 4; i++) {
      const x = randomInput([1, 3, 6, 6], 30 + i);
      expect(bits(replay.runSync({ x }))).toEqual(bits(steps.runSync({ x })));
    }
    const [r] = replay.nativeReplays();
    // Conv, Relu, Add recorded; the JS Add is a step whose output is copied into the arena, so the
    // MatMul and Softmax after it (through the Reshape's view) are recorded too.
    expect(r).toEqual({ steps: 7, replayedSteps: 5, calls: 2 });
  });

  it('a layer reading what a JS step wrote (Transpose) is recorded on its pinned copy; the results keep the bits', async () => {
    const replay = await replayedLikeSteps(
      chain({ extra: 'transpose' }),
      Array.from({ length: 4 }, (_, i) => ({ x: randomInput([1, 3, 6, 6], 40 + i) })),
    );
    // Conv, Relu, Add | Transpose (JS, pinned) | Conv | Reshape (view) | MatMul, Softmax.
    expect(replay.nativeReplays()[0]).toEqual({ steps: 8, replayedSteps: 6, calls: 3 });
  });

  it('a pinned value whose dims change under the same feed shapes ends the replay mid-run, observing nothing twice', async () => {
    // Slice's end comes from a feed: the same feed signature, another output size. The Conv after it
    // was recorded on the pinned copy; a run with another end must go on step by step from the Slice.
    const m = model(
      [
        makeNode('Conv', ['x', 'w', 'b'], ['c'], { pads: ints([1, 1, 1, 1]) }, 'conv'),
        makeNode('Slice', ['c', 'starts', 'e', 'axes'], ['s'], {}, 'slice'),
        makeNode('Conv', ['s', 'w2'], ['y'], {}, 'conv2'),
      ],
      [
        ['w', f32(values(4 * 3 * 9, 7), [4, 3, 3, 3])],
        ['b', f32(values(4, 8), [4])],
        ['w2', f32(values(4 * 4, 9), [4, 4, 1, 1])],
        ['starts', new Tensor('int64', new BigInt64Array([0n]), [1])],
        ['axes', new Tensor('int64', new BigInt64Array([3n]), [1])],
      ],
      [
        { name: 'x', dims: [1, 3, 6, 6] },
        { name: 'e', dims: [1], dtype: 'int64' as never },
      ],
      ['y'],
    );
    const { replay, steps } = await pair(m);
    const taps = ['c', 's', 'y'];
    const tapped = (sess: InferenceSession, x: Tensor, e: number) => {
      const seen: [string, number[]][] = [];
      const feeds = { x, e: new Tensor('int64', new BigInt64Array([BigInt(e)]), [1]) };
      const out = sess.runTapped(feeds, taps, (name, v) => seen.push([name, Array.from(v.data as Float32Array)]), ['y']);
      return { seen, out: bits(out) };
    };
    const ends = [6, 6, 6, 4, 6, 4];
    for (let i = 0; i < ends.length; i++) {
      const x = randomInput([1, 3, 6, 6], 100 + i);
      const got = tapped(replay, x, ends[i]!);
      expect(got.seen.map(([n]) => n)).toEqual(taps);
      expect(got).toEqual(tapped(steps, x, ends[i]!));
      // Recorded on run 2 (Conv | Slice pinned | Conv), replayed on run 3, dropped on run 4.
      expect(replay.nativeReplays()).toEqual(i === 1 || i === 2 ? [{ steps: 3, replayedSteps: 2, calls: 2 }] : []);
    }
  });

  it('an empty output of a TypeScript step is not pinned, and the steps after it still run', async () => {
    // Slice to zero columns, Relu of nothing, Concat (JS) with x, Relu: run 3 replays what it can.
    const i64 = (v: bigint) => new Tensor('int64', new BigInt64Array([v]), [1]);
    const m = model(
      [
        makeNode('Slice', ['x', 'st', 'st', 'ax'], ['s'], {}, 'slice'),
        makeNode('Relu', ['s'], ['r'], {}, 'relu'),
        makeNode('Concat', ['r', 'x'], ['y'], { axis: { type: 'int', value: 3 } }, 'cat'),
        makeNode('Relu', ['y'], ['z'], {}, 'relu2'),
      ],
      [
        ['st', i64(2n)],
        ['ax', i64(3n)],
      ],
      [{ name: 'x', dims: [1, 3, 6, 6] }],
      ['z'],
    );
    await replayedLikeSteps(
      m,
      Array.from({ length: 4 }, (_, i) => ({ x: randomInput([1, 3, 6, 6], 110 + i) })),
    );
  });

  it('a LayerNormalization whose computed Scale it broadcasts runs in TypeScript: a replay would read the first broadcast', async () => {
    const m = model(
      [
        makeNode('Relu', ['g'], ['gr'], {}, 'relu'),
        makeNode('LayerNormalization', ['x', 'gr'], ['y'], { axis: { type: 'int', value: -1 } }, 'ln'),
      ],
      [],
      [
        { name: 'x', dims: [1, 3, 5, 10] },
        { name: 'g', dims: [1] },
      ],
      ['y'],
      17,
    );
    await replayedLikeSteps(
      m,
      Array.from({ length: 4 }, (_, i) => ({ x: randomInput([1, 3, 5, 10], 130 + i), g: f32([0.5 + i], [1]) })),
    );
  });

  it('ConvTranspose and LayerNormalization are recorded; the results keep the bits', async () => {
    const m = model(
      [
        makeNode('ConvTranspose', ['x', 'w', 'b'], ['t'], { strides: ints([2, 2]), pads: ints([1, 0, 0, 1]) }, 'up'),
        makeNode('LayerNormalization', ['t', 'g', 'beta'], ['y'], { axis: { type: 'int', value: -1 } }, 'ln'),
      ],
      [
        ['w', f32(values(3 * 2 * 9, 11), [3, 2, 3, 3])],
        ['b', f32(values(2, 12), [2])],
        ['g', f32(values(10, 13), [10])],
        ['beta', f32(values(10, 14), [10])],
      ],
      [{ name: 'x', dims: [1, 3, 5, 5] }],
      ['y'],
      17,
    );
    const replay = await replayedLikeSteps(
      m,
      Array.from({ length: 4 }, (_, i) => ({ x: randomInput([1, 3, 5, 5], 120 + i) })),
    );
    expect(replay.nativeReplays()).toEqual([{ steps: 2, replayedSteps: 2, calls: 1 }]);
  });

  it('keys replays by input shape and by fetch list', async () => {
    const m = chain({ dims: [1, 3, 'h', 'w'] });
    // MatMul needs 4*h*w = 144: shapes 6x6, 4x9 and 9x4 all fit.
    const { replay, steps } = await pair(m);
    const shapes = [
      [6, 6],
      [4, 9],
      [9, 4],
    ];
    for (let i = 0; i < 9; i++) {
      const [h, w] = shapes[i % 3]!;
      const x = randomInput([1, 3, h!, w!], 50 + i);
      const fetch = i % 2 ? ['y'] : ['a', 'y'];
      expect(bits(replay.runSync({ x }, fetch))).toEqual(bits(steps.runSync({ x }, fetch)));
    }
    expect(replay.nativeReplays().length).toBeGreaterThanOrEqual(3);
  });

  it('release() frees the replays and later runs fail clearly', async () => {
    const s = await InferenceSession.create(chain(), { runInWorker: false });
    const x = randomInput([1, 3, 6, 6], 60);
    for (let i = 0; i < 3; i++) s.runSync({ x });
    expect(s.nativeReplays().length).toBe(1);
    await s.release();
    expect(s.nativeReplays()).toEqual([]);
    expect(() => s.runSync({ x })).toThrow(/released/);
  });

  it('tapped runs (calibration) replay too and hand over the values of step-by-step runs', async () => {
    const { replay, steps } = await pair(chain());
    const taps = ['x', 'c', 'r', 'a', 'flat', 'mm', 'y'];
    const tapped = (s: InferenceSession, x: Tensor) => {
      const seen = new Map<string, number[]>();
      const out = s.runTapped({ x }, taps, (name, v) => seen.set(name, Array.from(v.data as Float32Array)), ['a']);
      return { seen: Object.fromEntries([...seen].sort()), out: bits(out) };
    };
    for (let i = 0; i < 5; i++) {
      const x = randomInput([1, 3, 6, 6], 70 + i);
      const got = tapped(replay, x);
      expect(Object.keys(got.seen)).toEqual([...taps].sort());
      expect(got).toEqual(tapped(steps, x));
    }
    expect(replay.nativeReplays()).toEqual([{ steps: 6, replayedSteps: 5, calls: 2 }]);
  });
});

describe.runIf(hasNative)('float native replay: TapKernels', () => {
  const scanF32 = getBackend('native').scanF32;
  const taps = ['x', 'c', 'r', 'a', 'flat', 'mm', 'y'];
  let ids = 1000;
  /** An owner of TapKernels: a scan of every tapped value into its own arrays, and the scans onValue read. */
  function owner() {
    const bufs = new Map(taps.map((t) => [t, new Float64Array(4)]));
    const kernels = {
      id: ++ids,
      calls: 0,
      run: (name: string, v: Tensor) => (kernels.calls++, scanF32(v.data as Float32Array, bufs.get(name)!)),
    };
    const tapped = (s: InferenceSession, x: Tensor) => {
      const read: Record<string, number[]> = {};
      const fresh: Record<string, number[]> = {};
      s.runTapped(
        { x },
        taps,
        (name, v) => {
          read[name] = Array.from(bufs.get(name)!);
          const f = new Float64Array(4);
          scanF32(v.data as Float32Array, f);
          fresh[name] = Array.from(f);
        },
        [],
        kernels,
      );
      return { read, fresh };
    };
    return { kernels, tapped };
  }

  it('run after their layer and are recorded: a replay repeats them on each new input', async () => {
    const { replay } = await pair(chain());
    const o = owner();
    const calls: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = o.kernels.calls;
      const { read, fresh } = o.tapped(replay, randomInput([1, 3, 6, 6], 80 + i));
      expect(Object.keys(read).sort()).toEqual([...taps].sort());
      expect(read).toEqual(fresh);
      calls.push(o.kernels.calls - before);
    }
    // Run 1 goes step by step and run 2 records: every value's kernels run in JS. Replays call them
    // only for the feed and the Reshape's view (a TypeScript step); the rest ran inside the replay.
    expect(calls).toEqual([7, 7, 2, 2, 2]);
    expect(replay.nativeReplays()).toEqual([{ steps: 6, replayedSteps: 5, calls: 2 }]);
  });

  it('owners on one session keep replays of their own (their kernels write their own arrays)', async () => {
    const { replay } = await pair(chain());
    const [a, b] = [owner(), owner()];
    for (let i = 0; i < 6; i++) {
      const x = randomInput([1, 3, 6, 6], 90 + i);
      const r = (i % 2 ? a : b).tapped(replay, x);
      expect(r.read).toEqual(r.fresh);
    }
    expect(replay.nativeReplays().length).toBe(2);
  });
});

describe('float native replay options', () => {
  it('nativeReplay must be a boolean', async () => {
    await expect(InferenceSession.create(chain(), { nativeReplay: 'yes' as never })).rejects.toThrow(/nativeReplay must be a boolean/);
  });
});
