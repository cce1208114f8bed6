// Bias-correction probes summed from the layer input (src/ptq/bias-correction.ts): the per-channel
// sums of layer(x, delta) over output positions, without running layer(x, delta). Expected values
// come from running that layer in the float session and summing its output.
import { describe, expect, it } from 'vitest';
import { addBiasProbes, inputProbeSums } from '../src/ptq/bias-correction.js';
import { setStatsKernels } from '../src/backends/stats-kernels.js';
import { Graph, makeNode, type Node } from '../src/ir/graph.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/tensor.js';
import { model } from './passes-helpers.js';

type Attrs = Record<string, number | number[] | string>;

function attrsOf(a: Attrs): Record<string, { type: string; value: unknown }> {
  return Object.fromEntries(
    Object.entries(a).map(([k, v]) => [
      k,
      typeof v === 'string'
        ? { type: 'string', value: v }
        : Array.isArray(v)
          ? { type: 'ints', value: v }
          : Number.isInteger(v)
            ? { type: 'int', value: v }
            : { type: 'float', value: v },
    ]),
  );
}

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * (1 + (i % 5)));

/** Per-channel sums (axis) of the layer run on x with weight delta, in float64. */
async function reference(op: string, attrs: Attrs, x: Tensor, delta: Tensor, axis: number): Promise<{ sums: number[]; count: number }> {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [...x.dims] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set('d', delta);
  g.nodes.push(makeNode(op, ['x', 'd'], ['y'], attrsOf(attrs) as never, 'layer'));
  const s = await InferenceSession.create(model(g, 13), { runInWorker: false });
  const y = s.runSync({ x }).y!;
  const ax = axis < 0 ? y.rank + axis : axis;
  const ch = y.dims[ax]!;
  const inner = y.dims.slice(ax + 1).reduce((a, b) => a * b, 1);
  const sums = new Array<number>(ch).fill(0);
  const d = y.data as Float32Array;
  for (let i = 0; i < d.length; i++) sums[Math.floor(i / inner) % ch] += d[i]!;
  return { sums, count: d.length / ch };
}

function probeNode(op: 'Conv' | 'Gemm', attrs: Attrs): Node {
  return makeNode(op, ['x', 'w'], ['y'], attrsOf(attrs) as never, 'layer');
}

describe('bias probes summed from the layer input', () => {
  const convCases: { name: string; x: number[]; w: number[]; attrs: Attrs }[] = [
    { name: '1x1', x: [1, 3, 5, 7], w: [4, 3, 1, 1], attrs: {} },
    {
      name: '3x3 stride 2, uneven pads, dilation 2, batch 2',
      x: [2, 4, 9, 11],
      w: [6, 4, 3, 3],
      attrs: { strides: [2, 2], pads: [1, 0, 2, 1], dilations: [2, 2] },
    },
    { name: 'groups', x: [1, 6, 7, 7], w: [4, 3, 3, 2], attrs: { group: 2, pads: [1, 1, 1, 1] } },
    { name: 'depthwise stride 2', x: [1, 5, 8, 9], w: [5, 1, 3, 3], attrs: { group: 5, strides: [2, 2], pads: [1, 1, 1, 1] } },
    { name: 'SAME_UPPER', x: [1, 2, 6, 5], w: [3, 2, 4, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 1] } },
    { name: 'SAME_LOWER', x: [1, 2, 6, 5], w: [3, 2, 4, 3], attrs: { auto_pad: 'SAME_LOWER', strides: [1, 2] } },
    { name: 'VALID', x: [1, 2, 6, 5], w: [3, 2, 2, 2], attrs: { auto_pad: 'VALID' } },
    { name: '1-D', x: [2, 3, 17], w: [2, 3, 5], attrs: { strides: [3], pads: [2, 4] } },
    { name: '3-D', x: [1, 2, 5, 6, 4], w: [3, 2, 3, 2, 3], attrs: { pads: [1, 0, 1, 1, 1, 0], strides: [2, 1, 1] } },
  ];
  for (const c of convCases)
    it(`Conv ${c.name}: equal to summing Conv(x, delta)`, async () => {
      const x = new Tensor(
        'float32',
        values(
          c.x.reduce((a, b) => a * b, 1),
          1,
        ),
        c.x,
      );
      const delta = new Tensor(
        'float32',
        values(
          c.w.reduce((a, b) => a * b, 1),
          2,
        ).map((v) => v * 1e-3),
        c.w,
      );
      const want = await reference('Conv', c.attrs, x, delta, 1);
      const got = inputProbeSums(
        { op: 'Conv', input: 'x', node: probeNode('Conv', c.attrs), delta: delta.data as Float32Array, deltaDims: c.w },
        x,
      );
      expect(got.count).toBe(want.count);
      expect(got.sums.length).toBe(want.sums.length);
      const scale = Math.max(...want.sums.map(Math.abs));
      for (let i = 0; i < want.sums.length; i++) expect(Math.abs(got.sums[i]! - want.sums[i]!), `channel ${i}`).toBeLessThan(1e-5 * scale);
    });

  for (const [transA, transB] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ] as const)
    it(`Gemm transA ${transA} transB ${transB} alpha 0.5: equal to summing Gemm(x, delta)`, async () => {
      const [M, K, N] = [5, 7, 3];
      const x = new Tensor('float32', values(M * K, 3), transA ? [K, M] : [M, K]);
      const delta = new Tensor('float32', values(K * N, 4), transB ? [N, K] : [K, N]);
      const attrs = { transA, transB, alpha: 0.5 };
      const want = await reference('Gemm', attrs, x, delta, -1);
      const got = inputProbeSums(
        { op: 'Gemm', input: 'x', node: probeNode('Gemm', attrs), delta: delta.data as Float32Array, deltaDims: [...delta.dims] },
        x,
      );
      expect(got.count).toBe(M);
      for (let i = 0; i < N; i++) expect(got.sums[i]!).toBeCloseTo(want.sums[i]!, 4);
    });

  it('refuses an input whose channels do not match, naming the layer', () => {
    const x = new Tensor('float32', values(2 * 4 * 4, 1), [1, 2, 4, 4]);
    expect(() =>
      inputProbeSums({ op: 'Conv', input: 'x', node: probeNode('Conv', {}), delta: new Float32Array(3 * 3), deltaDims: [1, 3, 1, 3] }, x),
    ).toThrow(/layer.*input 'x' has 2 channels/);
  });

  it("refuses a delta of the wrong length with the kernel's words, naming the layer, on the kernel and on the JS definition", () => {
    const x = new Tensor('float32', values(2 * 4 * 4, 1), [1, 2, 4, 4]);
    const probe = {
      op: 'Conv' as const,
      input: 'x',
      node: probeNode('Conv', {}),
      delta: new Float32Array(3 * 2 - 1),
      deltaDims: [3, 2, 1, 1],
    };
    for (const kernels of [undefined, null]) {
      const prev = setStatsKernels(kernels);
      try {
        expect(() => inputProbeSums(probe, x)).toThrow(/Conv node 'layer'.*bias probe: conv_probe_sums_f32: buffer delta must have/);
      } finally {
        setStatsKernels(prev);
      }
    }
  });

  it('adds no node for Conv and Gemm, and keeps a probe node for ConvTranspose', () => {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] }], outputs: [{ name: 'z', dtype: 'float32' }] });
    g.initializers.set('w', new Tensor('float32', values(8, 1), [4, 2, 1, 1]));
    g.initializers.set('wt', new Tensor('float32', values(32, 2), [4, 2, 2, 2]));
    g.nodes.push(makeNode('Conv', ['x', 'w'], ['y'], {}, 'conv'));
    g.nodes.push(makeNode('ConvTranspose', ['y', 'wt'], ['z'], { strides: { type: 'ints', value: [2, 2] } }, 'convt'));
    const [conv, convt] = g.nodes as [Node, Node];
    const fq = new Map([
      [conv, values(8, 1).map((v) => Math.round(v * 8) / 8)],
      [convt, values(32, 2).map((v) => Math.round(v * 8) / 8)],
    ]);
    const probes = addBiasProbes(g, [conv, convt], fq);
    expect(probes.map((p) => [p.fromInput?.input, p.channels, p.axis])).toEqual([
      ['x', 4, 1],
      [undefined, 2, 1],
    ]);
    expect(g.nodes.map((n) => n.opType)).toEqual(['Conv', 'ConvTranspose', 'ConvTranspose']);
    expect(g.nodes[2]!.outputs[0]).toBe(probes[1]!.output);
    expect(probes[0]!.output).not.toBe(probes[1]!.output);
  });
});
