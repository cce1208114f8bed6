// Linear resize with 11-bit integer weights: every backend and variant against the JS reference
// bit for bit on awkward sizes and every coordinate transformation, the taps against onnxruntime's
// coordinate arithmetic, and bad input refused on every backend before memory is touched.
import { describe, expect, it } from 'vitest';
import { makeRequant, REQUANT_MODES } from '../src/quant/requant.js';
import { resizeLinearRef, resizeLinearTaps, RESIZE_ONE, type CoordinateTransform } from '../src/kernels/int8/qlayout-ref.js';
import { OnnxPtqError } from '../src/errors.js';
import { backends, firstDiff, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { makeNode } from '../src/ir/graph.js';
import { modelToBytes, Tensor, type Model, type Node } from '../src/onnx-api.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { loadedBackends } from './backends.js';
import { model, qdq, randomInput, scalarF, u8 } from './integer-models.js';

const MODES: CoordinateTransform[] = [
  'half_pixel',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
  'half_pixel_symmetric',
];

describe.each(targets)('%s', (_label, backend, variant) => {
  for (const signed of [false, true]) {
    it(`resizeLinear ${signed ? 'int8' : 'uint8'}: awkward sizes, every mode and requant mode`, () => {
      const r = rng(signed ? 5 : 6);
      const shapes: number[][] = [
        [1, 1, 2, 2],
        [7, 16, 14, 32],
        [5, 33, 10, 66],
        [3, 17, 9, 51],
        [8, 64, 5, 40],
        [4, 31, 7, 93],
        [1, 5, 1, 11],
        [2, 300, 4, 600],
      ];
      for (const s of SIZES) shapes.push([s, s, 2 * s, 2 * s], [s, s + 2, Math.max(1, s >> 1), s + 1]);
      let i = 0;
      for (const [inH, inW, outH, outW] of shapes) {
        const cm = MODES[i % MODES.length]!,
          mode = REQUANT_MODES[i % REQUANT_MODES.length]!;
        i++;
        const yTaps = resizeLinearTaps(inH, outH, cm),
          xTaps = resizeLinearTaps(inW, outW, cm);
        const nc = 1 + (i % 3) * 2; // 1, 3, 5 planes
        const x = rand8(r, nc * inH * inW, signed);
        const zx = Math.floor(r() * 256) - (signed ? 128 : 0);
        const requant = makeRequant(mode, [(0.5 + r()) / (RESIZE_ONE * RESIZE_ONE)], { zeroPoint: signed ? -3 : 131, signed });
        const want = signed ? new Int8Array(nc * outH * outW) : new Uint8Array(nc * outH * outW);
        const got = signed ? new Int8Array(want.length) : new Uint8Array(want.length);
        const args = { x, nc, inH, inW, outH, outW, yTaps, xTaps, xZeroPoint: zx, requant };
        resizeLinearRef({ ...args, y: want });
        backend.resizeLinear({ ...args, y: got, variant });
        expect(firstDiff(got, want), `${inH}x${inW}->${outH}x${outW} ${cm} ${mode}`).toBe(-1);
      }
    });
  }
  it('resizeLinear: extreme values keep the int32 accumulator exact (zero point at the far end)', () => {
    for (const signed of [false, true]) {
      const inH = 3,
        inW = 5,
        outH = 7,
        outW = 13,
        nc = 2;
      const x = signed ? new Int8Array(nc * inH * inW).fill(-128) : new Uint8Array(nc * inH * inW).fill(255);
      const zx = signed ? 127 : 0;
      const requant = makeRequant('fixed-point', [1 / (RESIZE_ONE * RESIZE_ONE * 2)], { zeroPoint: 0, signed });
      const args = {
        x,
        nc,
        inH,
        inW,
        outH,
        outW,
        yTaps: resizeLinearTaps(inH, outH, 'half_pixel'),
        xTaps: resizeLinearTaps(inW, outW, 'align_corners'),
        xZeroPoint: zx,
        requant,
      };
      const want = signed ? new Int8Array(nc * outH * outW) : new Uint8Array(nc * outH * outW);
      const got = signed ? new Int8Array(want.length) : new Uint8Array(want.length);
      resizeLinearRef({ ...args, y: want });
      backend.resizeLinear({ ...args, y: got, variant });
      expect(firstDiff(got, want)).toBe(-1);
      expect(Array.from(new Set(want))).toEqual([signed ? -128 : 128]); // (x - zx) / 2, rounded
    }
  });
});

describe('resizeLinearTaps', () => {
  it('follows onnxruntime: float32 coordinates, border clamp, 11-bit fractions', () => {
    // half_pixel 2 -> 4: x = -0.25, 0.25, 0.75, 1.25 -> clamp 0 | 0 + 0.25 | 0 + 0.75 | clamp 1
    expect(Array.from(resizeLinearTaps(2, 4, 'half_pixel'))).toEqual([0, 1, 0, 0, 1, 512, 0, 1, 1536, 1, 1, 0]);
    // align_corners 3 -> 5: 0, 0.5, 1, 1.5, 2
    expect(Array.from(resizeLinearTaps(3, 5, 'align_corners'))).toEqual([0, 1, 0, 0, 1, 1024, 1, 2, 0, 1, 2, 1024, 2, 2, 0]);
    // asymmetric 2 -> 4: 0, 0.5, 1, 1.5 -> clamp 1
    expect(Array.from(resizeLinearTaps(2, 4, 'asymmetric'))).toEqual([0, 1, 0, 0, 1, 1024, 1, 1, 0, 1, 1, 0]);
    // pytorch_half_pixel with one output: 0
    expect(Array.from(resizeLinearTaps(4, 1, 'pytorch_half_pixel'))).toEqual([0, 1, 0]);
    // tf_half_pixel_for_nn 2 -> 4: 0.25, 0.75, 1.25 -> clamp, ...
    expect(Array.from(resizeLinearTaps(2, 4, 'tf_half_pixel_for_nn')).slice(0, 6)).toEqual([0, 1, 512, 0, 1, 1536]);
  });
});

describe('resizeLinear bad input', () => {
  const ok = () => ({
    x: new Uint8Array(2 * 3 * 4) as Uint8Array | Int8Array,
    nc: 2,
    inH: 3,
    inW: 4,
    outH: 6,
    outW: 8,
    yTaps: resizeLinearTaps(3, 6, 'half_pixel'),
    xTaps: resizeLinearTaps(4, 8, 'half_pixel'),
    xZeroPoint: 0,
    requant: makeRequant('fixed-point', [1 / (RESIZE_ONE * RESIZE_ONE)], { zeroPoint: 0, signed: false }),
    y: new Uint8Array(2 * 6 * 8) as Uint8Array | Int8Array,
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
        a.y = new Uint8Array(5);
      },
    ],
    [
      'taps count',
      (a) => {
        a.yTaps = a.yTaps.subarray(0, 6);
      },
    ],
    [
      'tap index out of the input',
      (a) => {
        a.xTaps = a.xTaps.slice();
        a.xTaps[3] = 4;
      },
    ],
    [
      'negative tap index',
      (a) => {
        a.yTaps = a.yTaps.slice();
        a.yTaps[0] = -1;
      },
    ],
    [
      'tap weight > 2048',
      (a) => {
        a.xTaps = a.xTaps.slice();
        a.xTaps[2] = 2049;
      },
    ],
    [
      'mixed types',
      (a) => {
        a.y = new Int8Array(2 * 6 * 8);
      },
    ],
    [
      'zero point out of range',
      (a) => {
        a.xZeroPoint = 300;
      },
    ],
    [
      'overflowing sizes',
      (a) => {
        a.nc = 2 ** 20;
        a.outH = 2 ** 12;
        a.outW = 2 ** 12;
        a.yTaps = new Int32Array(3 * 2 ** 12);
        a.xTaps = new Int32Array(3 * 2 ** 12);
      },
    ],
  ];
  for (const b of backends) {
    for (const [name, mutate] of bad) {
      it(`${b.name}: ${name}`, () => {
        const a = ok();
        mutate(a);
        const before = a.y.slice();
        expect(() => b.resizeLinear(a)).toThrow(OnnxPtqError);
        expect(firstDiff(a.y, before)).toBe(-1);
      });
    }
  }
});

// The lowering: DQ -> Resize(linear) -> Q runs integer and agrees with onnxruntime-node's output
// of the same QDQ node within 1 LSB. onnxruntime interpolates the dequantized values with float32
// weights and quantizes once; we use 11-bit weights (within 2^-12 of its weights, so within
// 2 * 2^-12 * 255 < 0.13 input steps before the single rounding): an output whose float value lies
// that close to a rounding boundary can come out 1 LSB apart. The test prints how many do.
// With the same scale and zero point in and out, onnxruntime drops the Q/DQ pair and interpolates
// the 8-bit data in float32 directly: at 2x half_pixel the weights (k/16) are exact in 11 bits, so
// our value is the exact one; every difference measured there (25 of 756) sits on an exact .5 tie,
// which we round half to even and onnxruntime's float32 sum of products lands on either side of.
const resizeCases: {
  name: string;
  dims: number[];
  coord: CoordinateTransform;
  scales?: number[];
  sizes?: number[];
  ys?: number;
  yz?: number;
  opset?: number;
}[] = [
  { name: 'bilinear 2x half_pixel, same scale', dims: [1, 3, 7, 9], coord: 'half_pixel', scales: [1, 1, 2, 2], ys: 0.025, yz: 128 },
  { name: 'bilinear 2x half_pixel, rescaled', dims: [1, 3, 7, 9], coord: 'half_pixel', scales: [1, 1, 2, 2] },
  { name: 'bilinear align_corners sizes 17x33', dims: [2, 2, 5, 8], coord: 'align_corners', sizes: [2, 2, 17, 33] },
  { name: 'bilinear asymmetric 1.5x', dims: [1, 4, 6, 10], coord: 'asymmetric', scales: [1, 1, 1.5, 1.5] },
  { name: 'bilinear pytorch_half_pixel downscale', dims: [1, 3, 16, 31], coord: 'pytorch_half_pixel', sizes: [1, 3, 5, 1] },
  { name: 'bilinear tf_half_pixel_for_nn 3x', dims: [1, 2, 4, 5], coord: 'tf_half_pixel_for_nn', scales: [1, 1, 3, 3] },
  {
    name: 'bilinear half_pixel_symmetric, opset 19',
    dims: [1, 2, 6, 7],
    coord: 'half_pixel_symmetric',
    scales: [1, 1, 1.7, 2.3],
    opset: 19,
  },
  { name: '1-D linear half_pixel', dims: [2, 3, 13], coord: 'half_pixel', scales: [1, 1, 2.5] },
];

function resizeModel(c: (typeof resizeCases)[number]): Model {
  const nodes: Node[] = [],
    inits: [string, Tensor][] = [];
  const x = qdq(nodes, inits, 'x', 0.025, 128);
  inits.push(['roi', new Tensor('float32', new Float32Array(0), [0])]);
  const ins = [x, 'roi'];
  if (c.scales) {
    inits.push(['scales', new Tensor('float32', Float32Array.from(c.scales), [c.scales.length])]);
    ins.push('scales');
  } else {
    inits.push(['sizes', new Tensor('int64', BigInt64Array.from(c.sizes!.map(BigInt)), [c.sizes!.length])]);
    ins.push('', 'sizes');
  }
  nodes.push(
    makeNode(
      'Resize',
      ins,
      ['r'],
      { mode: { type: 'string', value: 'linear' }, coordinate_transformation_mode: { type: 'string', value: c.coord } },
      'my_resize',
    ),
  );
  inits.push(['y_s', scalarF(c.ys ?? 0.0173)], ['y_z', u8(c.yz ?? 121)]);
  nodes.push(makeNode('QuantizeLinear', ['r', 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
  return model(nodes, inits, [{ name: 'x', dims: c.dims }], ['y'], c.opset ?? 13);
}

describe('Resize linear lowering vs onnxruntime-node', () => {
  const measured: string[] = [];
  for (const c of resizeCases) {
    it(c.name, async () => {
      const m = resizeModel(c);
      const x = randomInput(c.dims, 11);
      const s0 = await ort.InferenceSession.create(modelToBytes(ortExactModel(m)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
      const want = (await s0.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) })).y!;
      const ys = c.ys ?? 0.0173;
      let ref: Float32Array | undefined;
      for (const b of loadedBackends) {
        for (const mode of ['float', 'fixed-point'] as const) {
          const s = await IntegerSession.create(m, { backend: b.name, requantMode: mode, runInWorker: false });
          const e = s.loweringReport().find((r) => r.opType === 'Resize')!;
          expect(e.execution, e.reason).toBe('integer');
          expect(e.kernel).toBe('resizeLinear');
          const got = s.runSync({ x }).y!;
          expect([...got.dims]).toEqual([...want.dims]);
          const g = got.data as Float32Array,
            w = want.data as Float32Array;
          let max = 0,
            differing = 0;
          for (let i = 0; i < g.length; i++) {
            const d = Math.round(Math.abs(g[i]! - w[i]!) / ys);
            if (d) differing++;
            max = Math.max(max, d);
          }
          expect(max, `${b.name} ${mode}`).toBeLessThanOrEqual(1);
          if (mode === 'float') {
            if (!ref) ref = g;
            else expect(firstDiff(g, ref), `${b.name} vs the first backend`).toBe(-1);
            if (b.name === 'js') measured.push(`${c.name}: ${differing}/${g.length} outputs 1 LSB from onnxruntime`);
          }
        }
      }
    });
  }
  it('prints the measured differences', () => {
    console.log(`integer linear Resize vs onnxruntime-node (float mode):\n  ${measured.join('\n  ')}`);
  });
  it('scales that do not match the input rank raise OnnxPtqError naming the node', async () => {
    const m = resizeModel({ name: 'bad', dims: [1, 3, 4, 4], coord: 'half_pixel', scales: [1, 1, 2, 2] });
    // A 3-D input against the 4 scales: only known when the plan binds the input shape.
    m.graph.inputs[0]!.shape = [1, 3, 'w'];
    let err: unknown;
    try {
      const s = await IntegerSession.create(m, { backend: 'js', runInWorker: false });
      s.runSync({ x: randomInput([1, 3, 4], 1) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect(String((err as Error).message)).toMatch(/my_resize/);
  });
});

describe('Resize with sizes computed from shapes', () => {
  it('reads the sizes at run time and stays integer (nearest and linear), within 1 LSB of onnxruntime', async () => {
    for (const mode of ['linear', 'nearest']) {
      const nodes: Node[] = [],
        inits: [string, Tensor][] = [];
      const x = qdq(nodes, inits, 'x', 0.025, 128);
      inits.push(['roi', new Tensor('float32', new Float32Array(0), [0])]);
      // sizes = Shape(ref): the output takes another tensor's dims (FPN/U-Net style upsampling).
      nodes.push(makeNode('Shape', ['ref'], ['ref_shape']));
      nodes.push(makeNode('Resize', [x, 'roi', '', 'ref_shape'], ['r'], { mode: { type: 'string', value: mode } }, 'my_resize'));
      inits.push(['y_s', scalarF(0.025)], ['y_z', u8(128)]);
      nodes.push(makeNode('QuantizeLinear', ['r', 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
      const m = model(
        nodes,
        inits,
        [
          { name: 'x', dims: [1, 3, 5, 7] },
          { name: 'ref', dims: [1, 3, 'h', 'w'] as unknown as number[] },
        ],
        ['y'],
        13,
      );
      const s0 = await ort.InferenceSession.create(modelToBytes(ortExactModel(m)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
      for (const [h, w] of [
        [9, 13],
        [10, 14],
      ]) {
        const xin = randomInput([1, 3, 5, 7], 2),
          ref = randomInput([1, 3, h, w], 3);
        const want = (
          await s0.run({
            x: new ort.Tensor('float32', xin.data as Float32Array, [1, 3, 5, 7]),
            ref: new ort.Tensor('float32', ref.data as Float32Array, [1, 3, h, w]),
          })
        ).y!;
        for (const b of loadedBackends) {
          const s = await IntegerSession.create(m, { backend: b.name, requantMode: 'float', runInWorker: false });
          const e = s.loweringReport().find((r) => r.opType === 'Resize')!;
          expect(e.execution, e.reason).toBe('integer');
          const got = s.runSync({ x: xin, ref }).y!;
          expect([...got.dims]).toEqual([1, 3, h, w]);
          const g = got.data as Float32Array,
            wv = want.data as Float32Array;
          for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - wv[i]!), `${mode} ${b.name} ${i}`).toBeLessThanOrEqual(0.025 * 1.01);
        }
      }
    }
  });
});

describe('Resize lowering bad input', () => {
  it('an output of more than 2^31 - 1 elements raises OnnxPtqError naming the node before anything is allocated', async () => {
    for (const mode of ['linear', 'nearest']) {
      const m = resizeModel({ name: 'huge', dims: [1, 3, 4, 4], coord: 'half_pixel', sizes: [1, 3, 65536, 65536] });
      m.graph.nodes.find((n) => n.opType === 'Resize')!.attributes.set('mode', { type: 'string', value: mode });
      let err: unknown;
      try {
        const s = await IntegerSession.create(m, { backend: 'js', runInWorker: false });
        s.runSync({ x: randomInput([1, 3, 4, 4], 1) });
      } catch (e) {
        err = e;
      }
      expect(err, mode).toBeInstanceOf(OnnxPtqError);
      expect(String((err as Error).message)).toMatch(/my_resize.*2\^31/);
    }
  });
  it('constant scales on the batch or channel axis leave the node in float, with the reason', async () => {
    const m = resizeModel({ name: 'nc', dims: [1, 3, 4, 4], coord: 'half_pixel', scales: [1, 2, 2, 2] });
    const s = await IntegerSession.create(m, { backend: 'js', runInWorker: false });
    const e = s.loweringReport().find((r) => r.opType === 'Resize')!;
    expect(e.execution).toBe('float');
    expect(e.reason).toMatch(/batch or channel/);
  });
});
