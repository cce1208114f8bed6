// Agreement with onnxruntime-node on the same QDQ files, our executor in `float` mode. onnxruntime
// fuses DQ -> Conv/Gemm/MatMul -> Q into integer kernels whose arithmetic is exact for u8 activations
// and s8 weights in [-64, 63]; with full-range weights some of its x86 kernels (u8 x s8 through
// vpmaddubsw) can saturate int16 pair sums, so there the test measures the difference instead.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { describe, expect, it } from 'vitest';
import { modelToBytes, type Tensor, type Model } from '../src/onnx-api.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { loadedBackends } from './backends.js';
import { patternModels, randomInput } from './integer-models.js';

async function ortRun(m: Model, x: Tensor): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(modelToBytes(ortExactModel(m)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
  const r = await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) });
  return r.y!.data as Float32Array;
}

function maxLsb(a: Float32Array, b: Float32Array, scale: number): { max: number; differing: number } {
  let max = 0,
    differing = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.round(Math.abs(a[i]! - b[i]!) / scale);
    if (d) differing++;
    max = Math.max(max, d);
  }
  return { max, differing };
}

/** Patterns whose onnxruntime arithmetic is exact (integer conv/gemm with weights in [-64, 63], data movement, max pool, Resize nearest). */
const EXACT = /^(conv\+relu|conv per-tensor|depthwise|gemm|matmul|maxpool|resize|flatten)/;

describe('IntegerSession vs onnxruntime-node (float requant mode)', () => {
  const measured: Record<string, string> = {};
  for (const p of patternModels()) {
    it(p.name, async () => {
      const x = randomInput(p.dims, 21);
      const ys = p.model.graph.initializers.get('y_s')!.data[0] as number;
      const want = await ortRun(p.model, x);
      for (const b of loadedBackends) {
        // On the calling thread: a worker per session (never released) made this file take minutes.
        const s = await IntegerSession.create(p.model, { backend: b.name, requantMode: 'float', runInWorker: false });
        const got = (await s.run({ x })).y!.data as Float32Array;
        const d = maxLsb(got, want, ys);
        measured[`${p.name} [${b.name}]`] = `max ${d.max} LSB, ${d.differing}/${got.length} elements differ`;
        if (EXACT.test(p.name)) expect(Array.from(got), `${p.name} on ${b.name}`).toEqual(Array.from(want));
        // Full-range s8 weights: exact where onnxruntime uses VNNI (vpdpbusd) or its u8u8 path,
        // possibly not on AVX2 without VNNI (vpmaddubsw saturates). Only measured.
        else if (/full-range/.test(p.name)) expect(d.max).toBeGreaterThanOrEqual(0);
        // Not exact in onnxruntime (its QLinearAdd/Mul/pool/LUT kernels, or u8 x s8 saturation):
        // measured, and bounded by one output step.
        else expect(d.max, `${p.name} on ${b.name}`).toBeLessThanOrEqual(1);
      }
    });
  }
  it('prints the measured differences', () => {
    console.log(
      `integer executor (float mode) vs onnxruntime-node, in output LSBs:\n${Object.entries(measured)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`,
    );
  });
});
