// ReduceMean on 8-bit data: the kernel on every backend and variant against the JS reference bit
// for bit (any axes set, awkward sizes), the lowering (keepdims both ways, axes as attribute or
// input), GlobalMaxPool/GlobalAveragePool still integer, agreement with onnxruntime-node within
// 1 LSB, and bad input refused before memory is touched.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { describe, expect, it } from 'vitest';
import { makeNode } from '../src/ir/graph.js';
import { modelToBytes, Tensor, type Model, type Node } from '../src/onnx-api.js';
import { makeRequant, REQUANT_MODES } from '../src/quant/requant.js';
import { reduceMeanRef } from '../src/kernels/int8/qreduce-ref.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { OnnxPtqError } from '../src/errors.js';
import { backends, firstDiff, rand8, rng, targets } from './int8-ops-helpers.js';
import { loadedBackends } from './backends.js';
import { int, ints, model, qdq, randomInput, scalarF, u8 } from './integer-models.js';

describe.each(targets)('%s', (_label, backend, variant) => {
  for (const signed of [false, true]) {
    it(`reduceMean ${signed ? 'int8' : 'uint8'}: any axes, awkward sizes`, () => {
      const r = rng(signed ? 31 : 32);
      const cases: [number[], number[]][] = [
        [
          [2, 3, 5, 7],
          [2, 3],
        ],
        [[2, 3, 5, 7], [1]],
        [
          [2, 3, 5, 7],
          [0, 2],
        ],
        [
          [2, 3, 5, 7],
          [1, 3],
        ],
        [
          [2, 3, 5, 7],
          [0, 1, 2, 3],
        ],
        [[1, 17, 33], [2]],
        [[1, 17, 33], [1]],
        [
          [3, 65, 1, 31],
          [1, 3],
        ],
        [[3, 1, 64, 63], [2]],
        [[4, 1], [1]],
        [[4, 1], [0]],
        [[9], [0]],
        [[9], []],
        [
          [1, 1, 1],
          [0, 1, 2],
        ],
        [
          [2, 1, 3, 1, 5],
          [1, 3],
        ],
        [[1, 2, 2100], [1]],
        [[1, 2100, 3], [1]],
        [
          [2, 2, 2, 2, 2, 2, 2, 3],
          [0, 2, 4, 6],
        ],
      ];
      for (const s of [1, 2, 3, 5, 8, 13, 16, 17, 31, 32, 33, 63, 64, 65])
        cases.push(
          [[3, s, s + 2], [2]],
          [[3, s, s + 2], [1]],
          [
            [s, 5, 3],
            [0, 2],
          ],
        );
      let i = 0;
      for (const [dims, axes] of cases) {
        const mode = REQUANT_MODES[i++ % REQUANT_MODES.length]!;
        const n = dims.reduce((p, d) => p * d, 1);
        const count = axes.reduce((p, a) => p * dims[a]!, 1);
        const x = rand8(r, n, signed);
        const zx = Math.floor(r() * 256) - (signed ? 128 : 0);
        const requant = makeRequant(mode, [(0.5 + r()) / count], { zeroPoint: signed ? 5 : 120, signed });
        const want = signed ? new Int8Array(n / count) : new Uint8Array(n / count);
        const got = signed ? new Int8Array(want.length) : new Uint8Array(want.length);
        reduceMeanRef({ x, dims, axes, xZeroPoint: zx, requant, y: want });
        backend.reduceMean({ x, dims, axes, xZeroPoint: zx, requant, y: got, variant });
        expect(firstDiff(got, want), `[${dims}] axes [${axes}] ${mode}`).toBe(-1);
      }
    });
  }
  it('reduceMean: the mean of a constant is that constant (exact, one rounding)', () => {
    const dims = [2, 40, 3],
      x = new Uint8Array(240).fill(201);
    const requant = makeRequant('fixed-point', [1 / 40], { zeroPoint: 7, signed: false });
    const y = new Uint8Array(6);
    backend.reduceMean({ x, dims, axes: [1], xZeroPoint: 7, requant, y, variant });
    expect(Array.from(y)).toEqual([201, 201, 201, 201, 201, 201]);
  });
});

describe('reduceMean bad input', () => {
  const ok = () => ({
    x: new Uint8Array(2 * 3 * 4) as Uint8Array | Int8Array,
    dims: [2, 3, 4] as number[],
    axes: [1] as number[],
    xZeroPoint: 0,
    requant: makeRequant('fixed-point', [1 / 3], { zeroPoint: 0, signed: false }),
    y: new Uint8Array(8) as Uint8Array | Int8Array,
  });
  const bad: [string, (a: ReturnType<typeof ok>) => void][] = [
    [
      'short x',
      (a) => {
        a.x = new Uint8Array(5);
      },
    ],
    [
      'short y',
      (a) => {
        a.y = new Uint8Array(7);
      },
    ],
    [
      'axis out of range',
      (a) => {
        a.axes = [3];
      },
    ],
    [
      'rank > 8',
      (a) => {
        a.dims = [1, 1, 1, 1, 1, 1, 1, 1, 24];
        a.axes = [8];
      },
    ],
    [
      'mixed types',
      (a) => {
        a.y = new Int8Array(8);
      },
    ],
    [
      'zero point out of range',
      (a) => {
        a.xZeroPoint = -1;
      },
    ],
    [
      'overflowing sizes',
      (a) => {
        a.dims = [2 ** 20, 2 ** 12, 4];
      },
    ],
    [
      'more than 2^23 reduced',
      (a) => {
        a.dims = [1, 2 ** 24, 1];
      },
    ],
    [
      'empty reduced axis',
      (a) => {
        a.dims = [2, 0, 4];
      },
    ],
  ];
  for (const b of backends) {
    for (const [name, mutate] of bad) {
      it(`${b.name}: ${name}`, () => {
        const a = ok();
        mutate(a);
        const before = a.y.slice();
        expect(() => b.reduceMean(a)).toThrow(OnnxPtqError);
        expect(firstDiff(a.y, before)).toBe(-1);
      });
    }
  }
});

/** x -> Q/DQ -> op -> Q/DQ -> y. */
function qdqModel(
  build: (nodes: Node[], inits: [string, Tensor][], x: string) => string,
  dims: number[],
  opset: number,
  ys = 0.011,
  yz = 128,
): Model {
  const nodes: Node[] = [],
    inits: [string, Tensor][] = [];
  const x = qdq(nodes, inits, 'x', 0.025, 128);
  const v = build(nodes, inits, x);
  inits.push(['y_s', scalarF(ys)], ['y_z', u8(yz)]);
  nodes.push(makeNode('QuantizeLinear', [v, 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
  return model(nodes, inits, [{ name: 'x', dims }], ['y'], opset);
}

const reduceCases: { name: string; dims: number[]; opset: number; axes?: number[]; keepdims?: number; noop?: number }[] = [
  { name: 'spatial, keepdims', dims: [1, 5, 7, 9], opset: 13, axes: [2, 3] },
  { name: 'channels, no keepdims', dims: [2, 6, 5, 3], opset: 13, axes: [1], keepdims: 0 },
  { name: 'last axis (layer-norm mean)', dims: [1, 40, 120], opset: 13, axes: [-1] },
  { name: 'axes [0, 2] as input, opset 18', dims: [3, 4, 17], opset: 18, axes: [0, 2] },
  { name: 'all axes (none given)', dims: [2, 3, 11], opset: 13, keepdims: 0 },
  { name: 'opset 18 noop_with_empty_axes', dims: [2, 3, 11], opset: 18, noop: 1 },
];

function reduceModel(c: (typeof reduceCases)[number]): Model {
  return qdqModel(
    (nodes, inits, x) => {
      const attrs: Record<string, ReturnType<typeof int>> = {};
      if (c.keepdims !== undefined) attrs.keepdims = int(c.keepdims);
      if (c.noop !== undefined) attrs.noop_with_empty_axes = int(c.noop);
      const inputs = [x];
      if (c.axes && c.opset >= 18) {
        inits.push(['axes', new Tensor('int64', BigInt64Array.from(c.axes.map(BigInt)), [c.axes.length])]);
        inputs.push('axes');
      } else if (c.axes) attrs.axes = ints(c.axes);
      nodes.push(makeNode('ReduceMean', inputs, ['m'], attrs));
      return 'm';
    },
    c.dims,
    c.opset,
  );
}

async function ortRun(m: Model, x: Tensor): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(modelToBytes(ortExactModel(m)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
  return (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) })).y!;
}

describe('ReduceMean lowering vs onnxruntime-node', () => {
  for (const c of reduceCases) {
    it(c.name, async () => {
      const m = reduceModel(c);
      const x = randomInput(c.dims, 3);
      const want = await ortRun(m, x);
      for (const b of loadedBackends) {
        for (const mode of REQUANT_MODES) {
          const s = await IntegerSession.create(m, { backend: b.name, requantMode: mode, runInWorker: false });
          const e = s.loweringReport().find((r) => r.opType === 'ReduceMean')!;
          expect(e.execution, e.reason).toBe('integer');
          const got = s.runSync({ x }).y!;
          expect([...got.dims]).toEqual([...want.dims]);
          const g = got.data as Float32Array,
            w = want.data as Float32Array;
          let max = 0;
          for (let i = 0; i < g.length; i++) max = Math.max(max, Math.round(Math.abs(g[i]! - w[i]!) / 0.011));
          // One rounding against onnxruntime's float mean then QuantizeLinear: at most 1 LSB
          // (the float32 multiplier, or the fixed-point/shift mode's rounding, at a tie).
          // shift mode forces M to a power of two: only the float and fixed-point modes are compared.
          if (mode !== 'shift') expect(max, `${b.name} ${mode}`).toBeLessThanOrEqual(1);
        }
      }
    });
  }
  it('GlobalMaxPool and GlobalAveragePool run integer', async () => {
    for (const op of ['GlobalMaxPool', 'GlobalAveragePool']) {
      const m = qdqModel(
        (nodes, _inits, x) => {
          nodes.push(makeNode(op, [x], ['p']));
          return 'p';
        },
        [1, 7, 5, 9],
        13,
        op === 'GlobalMaxPool' ? 0.025 : 0.011,
      );
      const x = randomInput([1, 7, 5, 9], 4);
      const want = (await ortRun(m, x)).data as Float32Array;
      for (const b of loadedBackends) {
        const s = await IntegerSession.create(m, { backend: b.name, requantMode: 'float', runInWorker: false });
        expect(s.loweringReport().find((r) => r.opType === op)!.execution).toBe('integer');
        const got = s.runSync({ x }).y!.data as Float32Array;
        for (let i = 0; i < got.length; i++)
          expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual((op === 'GlobalMaxPool' ? 0.025 : 0.011) * 1.01);
      }
    }
  });
  it('a bad axes set raises OnnxPtqError naming the node at creation', async () => {
    const m = reduceModel({ name: 'bad', dims: [1, 4, 6], opset: 13, axes: [3] });
    m.graph.nodes.find((n) => n.opType === 'ReduceMean')!.name = 'my_reduce';
    await expect(IntegerSession.create(m, { backend: 'js', runInWorker: false })).rejects.toThrow(/my_reduce/);
  });
});
