// Issue 17, non-finite data: an all-NaN calibration sample made quantize succeed with NaN biases
// (an integer model that outputs zeros), and `run` on an all-NaN input printed garbage and exited 0.
// Both are refused now, naming the tensor (and sample), unless allowNonFinite is set; a quantized
// model with a non-finite parameter is never returned.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { quantize } from '../src/ptq/quantize.js';
import { InferenceSession, Tensor } from '../src/onnx-api.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { main as runMain } from '../src/cli/commands/run.js';
import { writeNpy } from '../src/io/npy.js';
import { OnnxPtqError } from '../src/errors.js';
import { firstNonFinite } from '../src/util/finite.js';
import { fixture } from './fixtures.js';

const mnist = fixture('models', 'mnist-8', 'model.onnx');
const image = (v?: number) =>
  new Tensor(
    'float32',
    Float32Array.from({ length: 784 }, (_, i) => v ?? (i * 37) % 255),
    [1, 1, 28, 28],
  );

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof OnnxPtqError ? `${e.code}: ${e.message}` : `RAW ${String(e)}`;
  }
}

afterEach(() => vi.restoreAllMocks());

describe('firstNonFinite', () => {
  it('finds NaN and both infinities, and nothing in finite or integer data', () => {
    expect(firstNonFinite(Float32Array.from([1, -0, 3.4e38, NaN]))).toBe(3);
    expect(firstNonFinite(Float64Array.from([0, Infinity]))).toBe(1);
    expect(firstNonFinite(Float32Array.from([-Infinity]))).toBe(0);
    expect(firstNonFinite(Float32Array.from([1, 2, -3e38]))).toBe(-1);
    expect(firstNonFinite(Int32Array.from([1, 2]))).toBe(-1);
  });
});

describe.skipIf(!mnist)('non-finite data', () => {
  const samples = () => [image(), image(1), image(NaN), image(2)].map((t) => ({ Input3: t }));

  it('quantize refuses an all-NaN calibration sample, naming the input and the sample', async () => {
    expect(await codeOf(quantize(mnist!, { calibration: samples() }))).toMatch(
      /^INVALID_DATA: calibration: input 'Input3' in sample 2 has a non-finite value \(NaN at index 0\)/,
    );
    // An infinity is refused too.
    const inf = image(1);
    (inf.data as Float32Array)[100] = -Infinity;
    expect(await codeOf(quantize(mnist!, { calibration: [image(), inf].map((t) => ({ Input3: t })) }))).toMatch(
      /^INVALID_DATA: .*sample 1 .*-Infinity at index 100/,
    );
  });

  it('a sample that is not a feeds object is refused naming it, with workers too (no hang, no TypeError)', async () => {
    for (const workers of [1, 2])
      for (const bad of [null, 5, {}])
        expect(await codeOf(quantize(mnist!, { calibration: [{ Input3: image() }, bad as never, { Input3: image(1) }], workers }))).toMatch(
          /^INVALID_DATA: calibration: (sample 1 is not a feeds object|tensor 'Input3' is not float32 in sample 1|input 'Input3' of sample 1 is not a Tensor)/,
        );
  });

  it('with allowNonFinite, quantize still never returns a model with a non-finite parameter', async () => {
    // Either a stage refuses with a code, or the observers and bias correction skipped the NaN
    // values: never a model with NaN scales or biases.
    const r = await quantize(mnist!, { calibration: samples(), allowNonFinite: true }).catch((e: unknown) => e);
    if (r instanceof Error) expect(`${(r as { code?: string }).code}: ${r.message}`).toMatch(/^INVALID_DATA: /);
    else
      for (const [name, t] of (r as Awaited<ReturnType<typeof quantize>>).model.graph.initializers)
        expect(firstNonFinite(t.data), name).toBe(-1);
    // And with finite data the option changes nothing.
    const ok = await quantize(mnist!, { calibration: [{ Input3: image() }, { Input3: image(1) }], allowNonFinite: true });
    for (const [name, t] of ok.model.graph.initializers) expect(firstNonFinite(t.data), name).toBe(-1);
  });

  it('both sessions refuse a NaN feed with INVALID_INPUT naming the input; the float session accepts it on request', async () => {
    const f = await InferenceSession.create(mnist!);
    expect(await codeOf(f.run({ Input3: image(NaN) }))).toMatch(/^INVALID_INPUT: input 'Input3' has a non-finite value \(NaN at index 0\)/);
    const allowed = await InferenceSession.create(mnist!, { allowNonFinite: true });
    expect(await codeOf(allowed.run({ Input3: image(NaN) }))).toBe('ok');
    const q = (await quantize(mnist!, { calibration: [{ Input3: image() }, { Input3: image(1) }] })).model;
    const s = await IntegerSession.create(q, { backend: 'js' });
    expect(await codeOf(s.run({ Input3: image(Infinity) }))).toMatch(
      /^INVALID_INPUT: input 'Input3' has a non-finite value \(Infinity at index 0\)/,
    );
  });

  it('the run command refuses an all-NaN input and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-nan-'));
    const input = join(dir, 'x.npy');
    writeNpy(input, image(NaN));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const out = join(dir, 'out');
    expect(await codeOf(runMain([mnist!, '--input', `Input3=${input}`, '--output-dir', out, '--json']))).toMatch(
      /^INVALID_INPUT: input 'Input3' has a non-finite value/,
    );
    expect(readdirSync(dir)).toEqual(['x.npy']);
    expect(await runMain([mnist!, '--input', `Input3=${input}`, '--output-dir', out, '--json', '--allow-non-finite'])).toBe(0);
  });
});
