// The QOperator ops through the integer executor against the ONNX node conformance tests.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareTensors } from '../src/conformance/runner.js';
import { loadModel, loadTensorProto, type Tensor } from '../src/onnx-api.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { REQUANT_MODES } from '../src/quant/requant.js';
import { loadedBackends } from './backends.js';
import { fixture } from './fixtures.js';

const dir = fixture('onnx-node');

const TESTS = [
  'test_qlinearconv',
  'test_qlinearmatmul_2D_int8_float32',
  'test_qlinearmatmul_2D_uint8_float32',
  'test_qlinearmatmul_3D_int8_float32',
  'test_qlinearmatmul_3D_uint8_float32',
  'test_qlinearmatmul_2D_int8_float16',
  'test_qlinearmatmul_2D_uint8_float16',
  'test_qlinearmatmul_3D_int8_float16',
  'test_qlinearmatmul_3D_uint8_float16',
  'test_convinteger_with_padding',
  'test_convinteger_without_padding',
  'test_matmulinteger',
  'test_quantizelinear',
  'test_quantizelinear_axis',
  'test_dequantizelinear',
  'test_dequantizelinear_axis',
];
/** Not run, with the reason. */
export const SKIPPED: Record<string, string> = {
  'test_quantizelinear_int2 / _uint2 / float8 / float4 (and the dequantizelinear ones)':
    'int2 and float8/float4 element types are not supported by the tensor layer',
  'test_quantizelinear_int4 / _uint4 (and the dequantizelinear ones)':
    'int4/uint4 run in the float engine and through the CLI (test/integer-qdq.test.ts, test/cli-run-quantized.test.ts); the integer steps take 8- and 16-bit activations',
  'test_quantizelinear_blocked_* / test_dequantizelinear_blocked':
    'blocked parameters run in the float engine (test/integer-qdq.test.ts), not as integer steps',
};

function pbs(d: string, prefix: string): string[] {
  return readdirSync(d)
    .filter((f) => f.startsWith(prefix))
    .sort((a, b) => parseInt(a.slice(prefix.length), 10) - parseInt(b.slice(prefix.length), 10))
    .map((f) => join(d, f));
}

describe.skipIf(!dir)('QOperator conformance through IntegerSession', () => {
  for (const name of TESTS) {
    it(name, async () => {
      const t = join(dir!, name);
      const model = loadModel(join(t, 'model.onnx'));
      const data = join(t, 'test_data_set_0');
      const ins = pbs(data, 'input_').map((p) => loadTensorProto(p));
      const outs = pbs(data, 'output_').map((p) => loadTensorProto(p));
      // The reference computes in float (numpy), so float mode must match; fixed-point may round differently by one step.
      for (const mode of REQUANT_MODES) {
        let first: Tensor | undefined;
        for (const b of loadedBackends) {
          const s = await IntegerSession.create(model, { backend: b.name, requantMode: mode });
          const feeds: Record<string, Tensor> = {};
          ins.forEach((x, i) => (feeds[x.name || s.inputNames[i]!] = x.tensor));
          const got = s.runSync(feeds)[s.outputNames[0]!]!;
          if (first)
            expect(Array.from(got.data as ArrayLike<number>), `${b.name} ${mode}`).toEqual(Array.from(first.data as ArrayLike<number>));
          else first = got;
          const want = outs[0]!.tensor;
          if (mode === 'float') expect(compareTensors(got, want) ?? 'ok', `${name} on ${b.name}`).toBe('ok');
          else if (mode === 'fixed-point') {
            const g = got.data as ArrayLike<number>,
              w = want.data as ArrayLike<number>;
            let m = 0;
            for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(Number(g[i]) - Number(w[i])));
            expect(m, `${name} fixed-point`).toBeLessThanOrEqual(1);
          }
        }
      }
    });
  }
});
