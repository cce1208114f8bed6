// The float session's fast paths against onnxruntime-node and against itself unoptimized:
// ConvTranspose as GEMM + col2im, nearest Resize as one gather, the layer folds done at creation
// (BatchNormalization, constant Mul/Add, decomposed HardSwish) with a fetched intermediate kept,
// the decomposed layer norm fused into LayerNormalization, and runTapped (calibration's way of
// reading activations without holding them).
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { relErr as relErrOf } from './passes-helpers.js';
import { makeNode } from '../src/ir/graph.js';
import { modelToBytes, Tensor, type Attribute, type Model, type Node } from '../src/onnx-api.js';
import { InferenceSession } from '../src/runtime/session.js';
import { OnnxPtqError } from '../src/errors.js';
import { loadedBackends, rng } from './backends.js';
import { f32, int, ints, model, randomInput, scalarF } from './integer-models.js';

ort.env.logLevel = 'error';

async function ortRun(m: Model, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(modelToBytes(m), { intraOpNumThreads: 1 });
  const r = await s.run(
    Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.data as Float32Array, [...t.dims])])),
  );
  return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, t.data as Float32Array]));
}

function rand(dims: number[], seed: number): Tensor {
  return randomInput(dims, seed, -1, 1);
}

/** max |a - b| / max(1, max |b|). */
const relErr = (a: Float32Array, b: Float32Array) => relErrOf(a, b, 1);

const backends = loadedBackends.map((b) => b.name);

describe('float ConvTranspose (GEMM per group, then col2im) matches onnxruntime-node', () => {
  interface Case {
    name: string;
    cin: number;
    mg: number;
    group: number;
    kernel: number[];
    size: number[];
    attrs: Record<string, Attribute>;
  }
  const cases: Case[] = [
    { name: '2-D k2 s2 (an upsampling head)', cin: 8, mg: 5, group: 1, kernel: [2, 2], size: [9, 7], attrs: { strides: ints([2, 2]) } },
    // Stride = kernel: each output pixel gets one tap (written in place), unless output_padding adds a row.
    {
      name: '3-D k2x3x2 s2x3x2, groups (one tap per pixel)',
      cin: 4,
      mg: 3,
      group: 2,
      kernel: [2, 3, 2],
      size: [3, 2, 4],
      attrs: { strides: ints([2, 3, 2]) },
    },
    { name: '1-D k3 s3 (one tap per pixel)', cin: 3, mg: 2, group: 1, kernel: [3], size: [7], attrs: { strides: ints([3]) } },
    {
      name: '2-D k2 s2 output_padding (a pixel with no tap)',
      cin: 3,
      mg: 2,
      group: 1,
      kernel: [2, 2],
      size: [4, 5],
      attrs: { strides: ints([2, 2]), output_padding: ints([1, 1]) },
    },
    {
      name: '2-D k3 s2 pads output_padding',
      cin: 6,
      mg: 4,
      group: 1,
      kernel: [3, 3],
      size: [5, 6],
      attrs: { strides: ints([2, 2]), pads: ints([1, 0, 1, 1]), output_padding: ints([1, 0]) },
    },
    {
      name: '2-D groups, dilations, strides 3x1',
      cin: 6,
      mg: 3,
      group: 3,
      kernel: [3, 2],
      size: [4, 5],
      attrs: { strides: ints([3, 1]), dilations: ints([2, 1]), pads: ints([2, 0, 0, 1]) },
    },
    {
      name: '1-D stride 2, dilation 2',
      cin: 3,
      mg: 2,
      group: 1,
      kernel: [4],
      size: [11],
      attrs: { strides: ints([2]), dilations: ints([2]) },
    },
    {
      name: '3-D stride 2',
      cin: 2,
      mg: 3,
      group: 1,
      kernel: [2, 3, 2],
      size: [3, 4, 3],
      attrs: { strides: ints([2, 1, 2]), pads: ints([0, 1, 0, 1, 0, 0]) },
    },
    {
      name: 'output_shape (SAME-style)',
      cin: 4,
      mg: 4,
      group: 2,
      kernel: [3, 3],
      size: [5, 5],
      attrs: { strides: ints([2, 2]), output_shape: ints([10, 10]) },
    },
  ];
  it.each(backends.flatMap((b) => cases.map((c) => [b, c.name, c] as const)))('%s: %s', async (backend, _name, c) => {
    const w = rand([c.cin, c.mg, ...c.kernel], 2);
    const b = rand([c.mg * c.group], 3);
    const m = model(
      [makeNode('ConvTranspose', ['x', 'w', 'b'], ['y'], { group: int(c.group), ...c.attrs }, 'ct')],
      [
        ['w', w],
        ['b', b],
      ],
      [{ name: 'x', dims: [2, c.cin, ...c.size] }],
      ['y'],
    );
    const x = rand([2, c.cin, ...c.size], 1);
    const ours = (await InferenceSession.create(m, { backend, runInWorker: false })).runSync({ x }).y!;
    const ref = await ortRun(m, { x });
    expect(relErr(ours.data as Float32Array, ref.y!)).toBeLessThan(1e-5);
  });
});

describe('float nearest Resize (one gather) matches onnxruntime-node', () => {
  const str = (v: string): Attribute => ({ type: 'string', value: v }) as Attribute;
  const cases: [string, number[], number[], Record<string, Attribute>][] = [
    ['x2 asymmetric floor', [1, 3, 5, 7], [1, 1, 2, 2], { coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }],
    ['x1.5 half_pixel round_prefer_floor', [2, 2, 6, 4], [1, 1, 1.5, 1.5], {}],
    ['x0.5 down, round_prefer_ceil', [1, 2, 9, 8], [1, 1, 0.5, 0.5], { nearest_mode: str('round_prefer_ceil') }],
    ['x3 on all axes, align_corners', [2, 2, 3, 2], [2, 1, 3, 3], { coordinate_transformation_mode: str('align_corners') }],
    ['x8 rank 3', [2, 4, 5], [1, 1, 8], { coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }],
    [
      'tf_crop_and_resize with extrapolation (general path)',
      [1, 1, 4, 4],
      [1, 1, 2, 2],
      { coordinate_transformation_mode: str('tf_crop_and_resize'), extrapolation_value: { type: 'float', value: 7 } as Attribute },
    ],
  ];
  it.each(cases)('%s', async (_name, dims, scales, attrs) => {
    const crop = attrs.coordinate_transformation_mode?.value === 'tf_crop_and_resize';
    const roi = crop ? f32([0, 0, -0.4, 0.2, 1, 1, 1.2, 0.8], [8]) : new Tensor('float32', new Float32Array(0), [0]);
    const m = model(
      [makeNode('Resize', ['x', 'roi', 'scales'], ['y'], { mode: str('nearest'), ...attrs }, 'r')],
      [
        ['roi', roi],
        ['scales', f32(scales, [scales.length])],
      ],
      [{ name: 'x', dims }],
      ['y'],
      13,
    );
    const x = rand(dims, 4);
    const ours = (await InferenceSession.create(m, { runInWorker: false })).runSync({ x }).y!;
    const ref = await ortRun(m, { x });
    // Nearest copies input values: equal bits.
    expect([...(ours.data as Float32Array)]).toEqual([...ref.y!]);
    if (crop) expect([...(ours.data as Float32Array)]).toContain(7);
  });
});

/**
 * x -> Conv(3x3, pads 1) -> BatchNormalization -> Mul(scalar) -> Add(scalar) -> decomposed HardSwish
 * (Add 3, Clip 0..6, Mul, Div 6) -> Conv(1x1) -> y.
 */
function foldModel(opts: { bnOutputIsGraphOutput?: boolean } = {}): Model {
  const r = rng(5);
  const c = 4;
  const v = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  const nodes: Node[] = [
    makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: ints([1, 1, 1, 1]) }, 'conv1'),
    makeNode('BatchNormalization', ['c1', 'g', 'beta', 'mean', 'var'], ['bn'], {}, 'bn'),
    makeNode('Mul', ['s', 'bn'], ['m'], {}, 'mul'),
    makeNode('Add', ['m', 't'], ['a'], {}, 'add'),
    makeNode('Add', ['a', 'three'], ['a3'], {}, 'hs_add'),
    makeNode('Clip', ['a3', 'zero', 'six'], ['cl'], {}, 'hs_clip'),
    makeNode('Mul', ['a', 'cl'], ['mm'], {}, 'hs_mul'),
    makeNode('Div', ['mm', 'six'], ['h'], {}, 'hs_div'),
    makeNode('Conv', ['h', 'w2'], ['y'], {}, 'conv2'),
  ];
  const inits: [string, Tensor][] = [
    ['w1', f32(v(c * 3 * 9), [c, 3, 3, 3])],
    ['b1', f32(v(c), [c])],
    ['g', f32(v(c, 0.5, 2), [c])],
    ['beta', f32(v(c), [c])],
    ['mean', f32(v(c), [c])],
    ['var', f32(v(c, 0.1, 2), [c])],
    ['s', f32([1.7], [1])],
    ['t', f32([-0.3], [1])],
    ['three', scalarF(3)],
    ['zero', scalarF(0)],
    ['six', scalarF(6)],
    ['w2', f32(v(2 * c), [2, c, 1, 1])],
  ];
  return model(nodes, inits, [{ name: 'x', dims: [1, 3, 6, 5] }], opts.bnOutputIsGraphOutput ? ['y', 'c1'] : ['y']);
}

describe('float session layer folds at creation', () => {
  it.each(backends)('%s: BatchNormalization, Mul/Add and HardSwish fold; outputs agree with the unfolded graph', async (backend) => {
    const m = foldModel();
    const s = await InferenceSession.create(m, { backend, runInWorker: false });
    const plain = await InferenceSession.create(m, { backend, runInWorker: false, optimize: false });
    const ops = s.graph.nodes.map((n) => n.opType);
    expect(ops).toEqual(['Conv', 'HardSwish', 'Conv']);
    expect(plain.graph.nodes.length).toBe(9);
    const x = rand([1, 3, 6, 5], 7);
    expect(relErr(s.runSync({ x }).y!.data as Float32Array, plain.runSync({ x }).y!.data as Float32Array)).toBeLessThan(1e-5);
    const ref = await ortRun(m, { x });
    expect(relErr(s.runSync({ x }).y!.data as Float32Array, ref.y!)).toBeLessThan(1e-5);
  });

  it('a fetched intermediate is kept (its own plan), and equals the unfolded value', async () => {
    const m = foldModel();
    const s = await InferenceSession.create(m, { runInWorker: false });
    const plain = await InferenceSession.create(m, { runInWorker: false, optimize: false });
    const x = rand([1, 3, 6, 5], 8);
    const got = s.runSync({ x }, ['bn', 'cl', 'y']);
    const want = plain.runSync({ x }, ['bn', 'cl', 'y']);
    for (const k of ['bn', 'cl', 'y']) expect(relErr(got[k]!.data as Float32Array, want[k]!.data as Float32Array)).toBeLessThan(1e-5);
    // The base plan is still the folded one.
    expect(s.graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
  });

  it('does not fold a layer whose output is a graph output', async () => {
    const s = await InferenceSession.create(foldModel({ bnOutputIsGraphOutput: true }), { runInWorker: false });
    const ops = s.graph.nodes.map((n) => n.opType);
    expect(ops).toContain('BatchNormalization');
    expect(ops).toContain('HardSwish');
  });
});

describe('Conv + Relu/Clip fused into FusedConv (com.microsoft)', () => {
  /** x -> Conv -> Relu -> Conv -> Clip(lo, hi) -> y; `dynamicMax` makes the Clip bound an input. */
  function actModel(dynamicMax = false): Model {
    const r = rng(11);
    const v = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
    const nodes = [
      makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], { pads: ints([1, 1, 1, 1]) }, 'conv1'),
      makeNode('Relu', ['c1'], ['r1'], {}, 'relu'),
      makeNode('Conv', ['r1', 'w2'], ['c2'], {}, 'conv2'),
      makeNode('Clip', ['c2', 'lo', dynamicMax ? 'hi_in' : 'hi'], ['y'], {}, 'clip'),
    ];
    const inits: [string, Tensor][] = [
      ['w1', f32(v(4 * 3 * 9), [4, 3, 3, 3])],
      ['b1', f32(v(4), [4])],
      ['w2', f32(v(8), [2, 4, 1, 1])],
      ['lo', scalarF(-0.25)],
      ['hi', scalarF(0.5)],
    ];
    const inputs = [{ name: 'x', dims: [1, 3, 7, 6] }, ...(dynamicMax ? [{ name: 'hi_in', dims: [] }] : [])];
    return model(nodes, inits, inputs, ['y']);
  }

  it.each(backends)('%s: both sites fuse; outputs equal the unfused graph and onnxruntime', async (backend) => {
    const m = actModel();
    const s = await InferenceSession.create(m, { backend, runInWorker: false });
    expect(s.graph.nodes.map((n) => `${n.domain}::${n.opType}`)).toEqual(['com.microsoft::FusedConv', 'com.microsoft::FusedConv']);
    const plain = await InferenceSession.create(m, { backend, runInWorker: false, optimize: false });
    const x = rand([1, 3, 7, 6], 12);
    const y = s.runSync({ x }).y!.data as Float32Array;
    expect([...y]).toEqual([...(plain.runSync({ x }).y!.data as Float32Array)]);
    expect(Math.min(...y)).toBe(-0.25);
    expect(Math.max(...y)).toBe(0.5);
    expect(relErr(y, (await ortRun(m, { x })).y!)).toBeLessThan(1e-5);
    // The pre-activation value, fetched, comes from a plan that keeps it.
    const c1 = s.runSync({ x }, ['c1']).c1!.data as Float32Array;
    expect(Math.min(...c1)).toBeLessThan(0);
  });

  it('does not fuse a Clip whose bound is not a constant', async () => {
    const s = await InferenceSession.create(actModel(true), { runInWorker: false });
    expect(s.graph.nodes.map((n) => n.opType)).toEqual(['FusedConv', 'Conv', 'Clip']);
  });
});

describe('decomposed layer norm fused into LayerNormalization', () => {
  type Form = { square: 'pow' | 'mul'; root: 'sqrt' | 'pow'; affine: boolean; axes: number[]; dims: number[] };
  /** x -> ReduceMean -> Sub -> square -> ReduceMean -> Add eps -> root -> Div [-> Mul gamma -> Add beta] -> y */
  function lnModel(f: Form): Model {
    const r = rng(21);
    const norm = f.dims.slice(f.dims.length - f.axes.length);
    const size = norm.reduce((a, b) => a * b, 1);
    const nodes = [
      makeNode('ReduceMean', ['x'], ['m'], { axes: ints(f.axes) }, 'mean'),
      makeNode('Sub', ['x', 'm'], ['d'], {}, 'sub'),
      f.square === 'pow' ? makeNode('Pow', ['d', 'two'], ['d2'], {}, 'sq') : makeNode('Mul', ['d', 'd'], ['d2'], {}, 'sq'),
      makeNode('ReduceMean', ['d2'], ['v'], { axes: ints(f.axes) }, 'var'),
      makeNode('Add', ['v', 'eps'], ['ve'], {}, 'add_eps'),
      f.root === 'sqrt' ? makeNode('Sqrt', ['ve'], ['s'], {}, 'sqrt') : makeNode('Pow', ['ve', 'half'], ['s'], {}, 'sqrt'),
      makeNode('Div', ['d', 's'], [f.affine ? 'n' : 'y'], {}, 'div'),
      ...(f.affine ? [makeNode('Mul', ['n', 'gamma'], ['ng'], {}, 'scale'), makeNode('Add', ['ng', 'beta'], ['y'], {}, 'shift')] : []),
    ];
    const inits: [string, Tensor][] = [
      ['two', scalarF(2)],
      ['half', scalarF(0.5)],
      ['eps', scalarF(1e-5)],
      [
        'gamma',
        f32(
          Float32Array.from({ length: size }, () => r() + 0.5),
          [1, ...norm],
        ),
      ],
      [
        'beta',
        f32(
          Float32Array.from({ length: size }, () => r() - 0.5),
          norm,
        ),
      ],
    ];
    return model(nodes, inits, [{ name: 'x', dims: f.dims }], ['y'], 13);
  }
  const ops = (s: InferenceSession) => s.graph.nodes.map((n) => n.opType);

  it.each([
    { square: 'pow', root: 'sqrt', affine: true, axes: [-1], dims: [2, 5, 12] },
    { square: 'mul', root: 'pow', affine: false, axes: [1, 2], dims: [3, 4, 6] },
  ] as Form[])('fuses $square/$root affine=$affine axes $axes; equal to the unfused graph and onnxruntime', async (f) => {
    const m = lnModel(f);
    const s = await InferenceSession.create(m, { runInWorker: false });
    expect(ops(s)).toEqual(['LayerNormalization']);
    const plain = await InferenceSession.create(m, { runInWorker: false, optimize: false });
    const x = rand(f.dims, 22);
    const y = s.runSync({ x }).y!.data as Float32Array;
    expect(relErr(y, plain.runSync({ x }).y!.data as Float32Array)).toBeLessThan(1e-5);
    expect(relErr(y, (await ortRun(m, { x })).y!)).toBeLessThan(1e-5);
    // A fetched intermediate comes from a plan that keeps the pattern unfused.
    const d = s.runSync({ x }, ['d', 'y']);
    expect(relErr(d.y!.data as Float32Array, y)).toBeLessThan(1e-5);
    expect([...(d.d!.data as Float32Array)]).toEqual([...(plain.runSync({ x }, ['d']).d!.data as Float32Array)]);
  });

  it('does not fuse over leading axes', async () => {
    const s = await InferenceSession.create(lnModel({ square: 'pow', root: 'sqrt', affine: true, axes: [1], dims: [2, 5, 12] }), {
      runInWorker: false,
    });
    expect(ops(s)).not.toContain('LayerNormalization');
  });
});

describe('float MatMul batches', () => {
  it.each(backends)(
    '%s: [2,3,5,4] x [4,6] (one GEMM of 30 rows), [3,4] x [2,4,6] and [2,1,5,4] x [3,4,6] equal onnxruntime',
    async (backend) => {
      for (const [ad, bd] of [
        [
          [2, 3, 5, 4],
          [4, 6],
        ],
        [
          [3, 4],
          [2, 4, 6],
        ],
        [
          [2, 1, 5, 4],
          [3, 4, 6],
        ],
      ]) {
        const m = model(
          [makeNode('MatMul', ['a', 'b'], ['y'], {}, 'mm')],
          [],
          [
            { name: 'a', dims: ad! },
            { name: 'b', dims: bd! },
          ],
          ['y'],
        );
        const s = await InferenceSession.create(m, { backend, runInWorker: false });
        const feeds = { a: rand(ad!, 31), b: rand(bd!, 32) };
        expect(relErr(s.runSync(feeds).y!.data as Float32Array, (await ortRun(m, feeds)).y!), JSON.stringify([ad, bd])).toBeLessThan(1e-5);
      }
    },
  );
});

describe('runTapped', () => {
  it('hands each tapped value over as it is computed, equal to the fetched one, and returns only the fetches', async () => {
    const m = foldModel();
    const s = await InferenceSession.create(m, { runInWorker: false });
    const x = rand([1, 3, 6, 5], 9);
    const fetched = s.runSync({ x }, ['c1', 'a', 'h', 'y', 'x', 'w2']);
    const seen: string[] = [];
    const copies = new Map<string, Float32Array>();
    const out = s.runTapped(
      { x },
      ['c1', 'a', 'h', 'y', 'x', 'w2'],
      (name, v) => {
        seen.push(name);
        copies.set(name, Float32Array.from(v.data as Float32Array));
      },
      ['y'],
    );
    expect(Object.keys(out)).toEqual(['y']);
    // Inputs and constants first, then in the order the run computes them.
    expect(seen).toEqual(['x', 'w2', 'c1', 'a', 'h', 'y']);
    for (const k of seen) expect([...copies.get(k)!]).toEqual([...(fetched[k]!.data as Float32Array)]);
  });

  it('refuses an unknown value by name', async () => {
    const s = await InferenceSession.create(foldModel(), { runInWorker: false });
    const x = rand([1, 3, 6, 5], 9);
    expect(() => s.runTapped({ x }, ['nope'], () => {})).toThrow(OnnxPtqError);
    expect(() => s.runTapped({ x }, ['nope'], () => {})).toThrow(/unknown output 'nope'/);
  });
});
