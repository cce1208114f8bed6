// Table lookup, QuantizeLinear and DequantizeLinear: every backend and variant against the JS
// reference bit for bit, the ONNX conformance tests, and bad input on native and wasm.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLut, LUT_FUNCTIONS } from '../src/quant/lut.js';
import { dequantizeLinearRef, lutRef, quantizeLinearRef } from '../src/kernels/int8/qunary-ref.js';
import { qdqLayout } from '../src/backends/kernels-qunary.js';
import { loadModel } from '../src/onnx/io.js';
import { TensorProto } from '../src/onnx/proto.js';
import { tensorFromProto } from '../src/onnx/tensor-proto.js';
import { OnnxPtqError } from '../src/errors.js';
import { fixture } from './fixtures.js';
import { backends, firstDiff, nativeAndWasm, rand8, rng, SIZES, targets } from './int8-ops-helpers.js';

const ALL = [...SIZES, 127, 128, 129, 255, 256, 1000];

function floats(r: () => number, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (r() - 0.5) * 40;
  // Ties, specials and exact halves of the scale land in the data.
  const special = [0.5, -0.5, 1.5, -2.5, 2.5, NaN, Infinity, -Infinity, 1e30, -1e30, 0, -0];
  for (let i = 0; i < Math.min(n, special.length); i++) x[(i * 7) % n] = special[i];
  return x;
}

describe.each(targets)('%s', (_label, backend, variant) => {
  it('lut: every table entry, all sizes, both types', () => {
    const r = rng(5);
    for (const signed of [false, true]) {
      const table = new Uint8Array(256).map(() => Math.floor(r() * 256));
      for (const n of ALL) {
        const x = rand8(r, n, signed);
        const want = signed ? new Int8Array(n) : new Uint8Array(n),
          got = signed ? new Int8Array(n) : new Uint8Array(n);
        lutRef({ x, table, y: want });
        backend.lut({ x, table, y: got, variant });
        expect(firstDiff(got, want), `n=${n}`).toBe(-1);
      }
      const x = signed ? new Int8Array(256).map((_, i) => i - 128) : new Uint8Array(256).map((_, i) => i);
      const y = signed ? new Int8Array(256) : new Uint8Array(256);
      backend.lut({ x, table, y, variant });
      for (let i = 0; i < 256; i++) expect(y[i] & 0xff).toBe(table[x[i] & 0xff]);
    }
  });

  it('quantizeLinear per tensor, per axis and blocked', () => {
    const r = rng(7);
    for (const signed of [false, true]) {
      for (const n of ALL) {
        for (const z of signed ? [-128, 0, 127] : [0, 128, 255]) {
          const x = floats(r, n);
          const args = { x, outer: 1, axisLen: 1, inner: n, scale: new Float32Array([0.5 * (1 + r())]), zeroPoint: new Int32Array([z]) };
          const want = signed ? new Int8Array(n) : new Uint8Array(n),
            got = signed ? new Int8Array(n) : new Uint8Array(n);
          quantizeLinearRef({ ...args, y: want });
          backend.quantizeLinear({ ...args, y: got, variant });
          expect(firstDiff(got, want), `n=${n} z=${z}`).toBe(-1);
        }
      }
      for (const [outer, axisLen, inner, block] of [
        [1, 3, 33, 0],
        [2, 5, 17, 0],
        [3, 7, 1, 0],
        [2, 6, 5, 4],
        [1, 9, 3, 2],
      ]) {
        const n = outer * axisLen * inner,
          x = floats(r, n);
        const pc = block ? outer * Math.ceil(axisLen / block) * inner : axisLen;
        const scale = new Float32Array(pc).map(() => 0.01 + r()),
          zeroPoint = new Int32Array(pc).map(() => Math.floor(r() * 256) - (signed ? 128 : 0));
        const args = { x, outer, axisLen, inner, blockSize: block, scale, zeroPoint };
        const want = signed ? new Int8Array(n) : new Uint8Array(n),
          got = signed ? new Int8Array(n) : new Uint8Array(n);
        quantizeLinearRef({ ...args, y: want });
        backend.quantizeLinear({ ...args, y: got, variant });
        expect(firstDiff(got, want), `${outer}x${axisLen}x${inner}/${block}`).toBe(-1);
      }
    }
  });

  it('dequantizeLinear 8-bit and int32, per tensor and per axis', () => {
    const r = rng(9);
    for (const type of ['u8', 'i8', 'i32'] as const) {
      for (const n of ALL) {
        const x = type === 'i32' ? new Int32Array(n).map(() => Math.floor((r() - 0.5) * 2 ** 32)) : rand8(r, n, type === 'i8');
        for (const z of type === 'i32' ? [0, -7, 2147483647] : type === 'i8' ? [-128, 127] : [0, 255]) {
          const args = { x, outer: 1, axisLen: 1, inner: n, scale: new Float32Array([0.037]), zeroPoint: new Int32Array([z]) };
          const want = new Float32Array(n),
            got = new Float32Array(n);
          dequantizeLinearRef({ ...args, y: want });
          backend.dequantizeLinear({ ...args, y: got, variant });
          expect(firstDiff(got, want), `${type} n=${n} z=${z}`).toBe(-1);
        }
      }
      const x = type === 'i32' ? new Int32Array(2 * 5 * 17).map(() => Math.floor((r() - 0.5) * 1e6)) : rand8(r, 2 * 5 * 17, type === 'i8');
      const scale = new Float32Array(5).map(() => r()),
        zeroPoint = new Int32Array(5).map(() => (type === 'i32' ? 0 : Math.floor(r() * 100)));
      const want = new Float32Array(170),
        got = new Float32Array(170);
      dequantizeLinearRef({ x, outer: 2, axisLen: 5, inner: 17, scale, zeroPoint, y: want });
      backend.dequantizeLinear({ x, outer: 2, axisLen: 5, inner: 17, scale, zeroPoint, y: got, variant });
      expect(firstDiff(got, want)).toBe(-1);
    }
  });
});

describe('buildLut', () => {
  it('quantizes f of the dequantized input with round-half-even and saturation', () => {
    const inp = { scale: 0.1, zeroPoint: 128, signed: false },
      out = { scale: 1 / 256, zeroPoint: 0, signed: false };
    const t = buildLut(LUT_FUNCTIONS.Sigmoid(), inp, out);
    expect(t[128]).toBe(128); // sigmoid(0) = 0.5 -> 128
    expect(t[255]).toBe(255); // saturates
    const relu = buildLut(LUT_FUNCTIONS.Relu(), { scale: 0.5, zeroPoint: 0, signed: true }, { scale: 0.5, zeroPoint: -128, signed: true });
    expect((relu[0x80] << 24) >> 24).toBe(-128); // x = -64 -> 0 -> zero point
    expect((relu[5] << 24) >> 24).toBe(-123);
    // Ties go to even: x = 1.25 / scale 0.5 = 2.5 -> 2.
    const id = buildLut((x) => x, { scale: 1.25, zeroPoint: 0, signed: false }, { scale: 0.5, zeroPoint: 0, signed: false });
    expect(id[1]).toBe(2);
    for (const name of Object.keys(LUT_FUNCTIONS) as (keyof typeof LUT_FUNCTIONS)[]) {
      expect(buildLut(LUT_FUNCTIONS[name](), inp, { scale: 0.05, zeroPoint: 100, signed: false }).length).toBe(256);
    }
  });
});

// The ONNX node conformance tests for QuantizeLinear/DequantizeLinear, on every backend.
const root = fixture('onnx-node');
// blocked_symmetric quantizes to int16 (output_dtype = INT16).
const UNSUPPORTED = /e4m3fn|e5m2|float4e2m1|int2|uint2|int4|uint4|int16|uint16|blocked_symmetric/;
const cases = root ? readdirSync(root).filter((d) => /^test_(de)?quantizelinear/.test(d)) : [];
const supported = cases.filter((d) => !UNSUPPORTED.test(d));
const skipped = cases.filter((d) => UNSUPPORTED.test(d));

describe.skipIf(!root)(
  'ONNX conformance (skipped for unsupported types: float8, float4, int2/4, int16/uint16 incl. blocked_symmetric)',
  () => {
    it('lists what is skipped', () => {
      expect(skipped.sort()).toEqual(cases.filter((d) => UNSUPPORTED.test(d)).sort());
      expect(supported.length).toBeGreaterThanOrEqual(6);
    });
    const load = (d: string, f: string) => tensorFromProto(TensorProto.decode(readFileSync(join(root!, d, 'test_data_set_0', f))) as never);
    describe.each(backends.map((b) => [b.name, b] as const))('%s', (_n, backend) => {
      it.each(supported)('%s', (d) => {
        const node = loadModel(join(root!, d, 'model.onnx'), { validate: false }).graph.nodes[0];
        const files = readdirSync(join(root!, d, 'test_data_set_0'));
        const x = load(d, 'input_0.pb'),
          scale = load(d, 'input_1.pb');
        const zpT = files.includes('input_2.pb') ? load(d, 'input_2.pb') : undefined;
        const expected = load(d, 'output_0.pb');
        const axisAttr = node.attributes.get('axis'),
          blockAttr = node.attributes.get('block_size');
        const axis = axisAttr?.type === 'int' ? axisAttr.value : 1;
        const block = blockAttr?.type === 'int' ? blockAttr.value : 0;
        const sc = Float32Array.from(scale.data as Float32Array);
        const perTensor = sc.length === 1 && block === 0;
        const lay = perTensor ? { outer: 1, axisLen: 1, inner: x.data.length } : qdqLayout(x.dims, axis);
        const zp = Int32Array.from((zpT?.data ?? new Array(sc.length).fill(0)) as ArrayLike<number>);
        if (node.opType === 'QuantizeLinear') {
          const y = expected.dtype === 'int8' ? new Int8Array(expected.data.length) : new Uint8Array(expected.data.length);
          backend.quantizeLinear({ x: x.data as Float32Array, ...lay, blockSize: block, scale: sc, zeroPoint: zp, y });
          expect(Array.from(y)).toEqual(Array.from(expected.data as ArrayLike<number>));
        } else {
          const y = new Float32Array(expected.data.length);
          backend.dequantizeLinear({ x: x.data as Uint8Array, ...lay, blockSize: block, scale: sc, zeroPoint: zp, y });
          expect(Array.from(y)).toEqual(Array.from(expected.data as ArrayLike<number>));
        }
      });
    });
  },
);

describe.each(nativeAndWasm.map((b) => [b.name, b] as const))('%s bad input', (_n, backend) => {
  const f = (n: number) => new Float32Array(n),
    u = (n: number) => new Uint8Array(n);
  const s1 = new Float32Array([1]),
    z1 = new Int32Array([0]);
  const cases: [string, () => void, RegExp][] = [
    ['lut short table', () => backend.lut({ x: u(4), table: u(255), y: u(4) }), /256/],
    ['lut short y', () => backend.lut({ x: u(4), table: u(256), y: u(3) }), /buffer Y/],
    [
      'quantize short x',
      () => backend.quantizeLinear({ x: f(3), outer: 1, axisLen: 1, inner: 4, scale: s1, zeroPoint: z1, y: u(4) }),
      /buffer X/,
    ],
    [
      'quantize zero scale',
      () => backend.quantizeLinear({ x: f(4), outer: 1, axisLen: 1, inner: 4, scale: new Float32Array([0]), zeroPoint: z1, y: u(4) }),
      /scale/,
    ],
    [
      'quantize zp range',
      () => backend.quantizeLinear({ x: f(4), outer: 1, axisLen: 1, inner: 4, scale: s1, zeroPoint: new Int32Array([256]), y: u(4) }),
      /zero_point/,
    ],
    [
      'quantize param count',
      () =>
        backend.quantizeLinear({
          x: f(6),
          outer: 1,
          axisLen: 3,
          inner: 2,
          scale: new Float32Array(2).fill(1),
          zeroPoint: new Int32Array(2),
          y: u(6),
        }),
      /param_count/,
    ],
    [
      'quantize x type',
      () => backend.quantizeLinear({ x: u(4) as never, outer: 1, axisLen: 1, inner: 4, scale: s1, zeroPoint: z1, y: u(4) }),
      /x must be a Float32Array/,
    ],
    [
      'dequantize short y',
      () => backend.dequantizeLinear({ x: u(4), outer: 1, axisLen: 1, inner: 4, scale: s1, zeroPoint: z1, y: f(3) }),
      /buffer Y/,
    ],
    [
      'dequantize x type',
      () => backend.dequantizeLinear({ x: f(4) as never, outer: 1, axisLen: 1, inner: 4, scale: s1, zeroPoint: z1, y: f(4) }),
      /x must be/,
    ],
  ];
  it.each(cases)('%s', (_c, fn, re) => {
    expect(fn).toThrow(OnnxPtqError);
    try {
      fn();
    } catch (e) {
      expect((e as OnnxPtqError).code).toBe('KERNEL_ARGUMENT');
      expect((e as Error).message).toMatch(re);
    }
  });
});
