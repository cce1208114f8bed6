// QuantizeLinear / DequantizeLinear in the float engine: ONNX conformance tests, ONNX Runtime's
// rounding, and the "PTQ without rounding" registry.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOne } from '../src/conformance/runner.js';
import { InferenceSession, Tensor, type Model } from '../src/onnx-api.js';
import { Graph, makeNode } from '../src/tools.js';
import { createQdqRegistry } from '../src/runtime/integer/index.js';
import { fixture } from './fixtures.js';

const dir = fixture('onnx-node');

/** Conformance tests of the two ops and why the others are skipped. */
const QDQ_TESTS = [
  'test_quantizelinear',
  'test_quantizelinear_axis',
  'test_quantizelinear_blocked_asymmetric',
  'test_quantizelinear_blocked_symmetric',
  'test_quantizelinear_int16',
  'test_quantizelinear_uint16',
  'test_quantizelinear_int4',
  'test_quantizelinear_uint4',
  'test_dequantizelinear',
  'test_dequantizelinear_axis',
  'test_dequantizelinear_blocked',
  'test_dequantizelinear_int16',
  'test_dequantizelinear_uint16',
  'test_dequantizelinear_int4',
  'test_dequantizelinear_uint4',
];
const SKIPPED: [RegExp, string][] = [
  [/_(e4m3fn|e5m2|float4e2m1|int2|uint2)/, 'float8, float4 and int2 element types are not supported by the tensor layer'],
];

describe.skipIf(!dir)('QDQ ops: ONNX conformance', () => {
  for (const name of QDQ_TESTS) {
    it(name, async () => {
      const r = await runOne(join(dir!, name), name);
      expect(r.reason ?? '').toBe('');
      expect(r.outcome).toBe('passed');
    });
  }
  it('the low-precision variants are the documented skips', async () => {
    for (const name of ['test_dequantizelinear_e4m3fn', 'test_quantizelinear_uint2', 'test_dequantizelinear_float4e2m1']) {
      const r = await runOne(join(dir!, name), name);
      expect(r.outcome).toBe('skipped');
      expect(SKIPPED.some(([re]) => re.test(name))).toBe(true);
    }
  });
});

function qdqModel(scale: number, zp: number, signed: boolean): Model {
  const g = new Graph({
    nodes: [makeNode('QuantizeLinear', ['x', 's', 'z'], ['q']), makeNode('DequantizeLinear', ['q', 's', 'z'], ['y'])],
    initializers: new Map([
      ['s', new Tensor('float32', new Float32Array([scale]), [])],
      ['z', signed ? new Tensor('int8', new Int8Array([zp]), []) : new Tensor('uint8', new Uint8Array([zp]), [])],
    ]),
    inputs: [{ name: 'x', dtype: 'float32', shape: [8] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [8] }],
  });
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: 't',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: g,
  };
}

describe('QDQ ops: arithmetic', () => {
  it('rounds half to even, adds the zero point and saturates', async () => {
    const s = await InferenceSession.create(qdqModel(0.5, 10, false));
    const x = new Float32Array([0.25, 0.75, -0.25, 1.25, -100, 200, -5.25, 0]);
    const { y } = await s.run({ x: new Tensor('float32', x, [8]) });
    // x/S = 0.5, 1.5, -0.5, 2.5, -10.5 -> 0, 2, 0, 2, -10 (half to even); -200 clamps to q=0, 400 to q=255.
    expect(Array.from(y!.data as Float32Array)).toEqual([0, 1, 0, 1, -5, 122.5, -5, 0]);
  });

  it('without rounding keeps x/S + Z and clamps only', async () => {
    const reg = createQdqRegistry({ rounding: false });
    const s = await InferenceSession.create(qdqModel(0.5, 10, true), { registry: reg });
    const x = new Float32Array([0.3, 0.75, -0.2, 1.1, -100, 200, -5.3, 0]);
    const { y } = await s.run({ x: new Tensor('float32', x, [8]) });
    const want = [0.3, 0.75, -0.2, 1.1, -69, 58.5, -5.3, 0];
    (y!.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    expect(() => createQdqRegistry({} as never)).toThrow(/rounding/);
  });
});
