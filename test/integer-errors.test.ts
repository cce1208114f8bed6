// Bad input to the integer executor raises OnnxPtqError with a stable code and a useful message.
import { describe, expect, it } from 'vitest';
import { OnnxPtqError } from '../src/errors.js';
import { Tensor } from '../src/onnx-api.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { convModel, randomInput } from './integer-models.js';

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxPtqError);
    return `${(e as OnnxPtqError).code}: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('IntegerSession: bad input', () => {
  it('rejects wrong feed names, shapes and dtypes', async () => {
    const s = await IntegerSession.create(convModel(), { backend: 'js' });
    expect(await code(s.run({ y: randomInput([1, 3, 8, 8], 1) }))).toMatch(/^INVALID_INPUT: unknown input 'y'/);
    expect(await code(s.run({}))).toMatch(/^INVALID_INPUT: missing input 'x'/);
    expect(await code(s.run({ x: randomInput([1, 3, 8, 9], 1) }))).toMatch(/^INVALID_INPUT: .*dims/);
    expect(await code(s.run({ x: randomInput([3, 8, 8], 1) }))).toMatch(/^INVALID_INPUT: .*rank 4/);
    expect(await code(s.run({ x: new Tensor('uint8', new Uint8Array(192), [1, 3, 8, 8]) }))).toMatch(/^INVALID_INPUT: .*must be float32/);
    expect(await code(s.run({ x: new Float32Array(5) }))).toMatch(/^INVALID_INPUT: .*bare array/);
    expect(await code(s.run(null as never))).toMatch(/^INVALID_INPUT/);
  });

  it('rejects bad options and a bad requant mode in the metadata', async () => {
    expect(await code(IntegerSession.create(convModel(), { requantMode: 'round' as never }))).toMatch(/^INVALID_OPTION: requantMode/);
    expect(await code(IntegerSession.create(convModel(), { backend: 'gpu' as never }))).toMatch(/^INVALID_OPTION: backend/);
    // onnxruntime's name for it is a likely slip: the message lists the options there are.
    expect(await code(IntegerSession.create(convModel(), { intraOpNumThreads: 2 } as never))).toMatch(
      /^INVALID_OPTION: unknown IntegerSession option 'intraOpNumThreads' \(.*threads/,
    );
    const m = convModel();
    m.metadata.set('onnx_ptq.requant_mode', 'bogus');
    expect(await code(IntegerSession.create(m))).toMatch(/^INVALID_OPTION: metadata_props 'onnx_ptq.requant_mode'/);
    m.metadata.set('onnx_ptq.requant_mode', 'shift');
    expect((await IntegerSession.create(m)).requantMode).toBe('shift');
    expect((await IntegerSession.create(m, { requantMode: 'float' })).requantMode).toBe('float');
    expect((await IntegerSession.create(convModel())).requantMode).toBe('fixed-point');
  });

  it('rejects a QDQ model with inconsistent scales', async () => {
    // Bias scale that is not Sx * Sw.
    const m1 = convModel();
    const bs = m1.graph.initializers.get('b_s')!;
    const d = Float32Array.from(bs.data as Float32Array);
    d[1] *= 2;
    m1.graph.initializers.set('b_s', new Tensor('float32', d, bs.dims));
    expect(await code(IntegerSession.create(m1))).toMatch(/^INVALID_MODEL: Conv .*bias scale .* channel 1 is inconsistent/);
    // A non-positive scale.
    const m2 = convModel();
    m2.graph.initializers.set('y_s', new Tensor('float32', new Float32Array([-0.5]), []));
    expect(await code(IntegerSession.create(m2))).toMatch(/^INVALID_MODEL: .*scale 0 must be finite and > 0/);
    // Zero point and scale of different sizes.
    const m3 = convModel();
    m3.graph.initializers.set('w_z', new Tensor('int8', new Int8Array(3), [3]));
    expect(await code(IntegerSession.create(m3))).toMatch(/^INVALID_MODEL: .*zero point has 3 elements but the scale has 4/);
  });

  it('rejects truncated model bytes', async () => {
    expect(await code(IntegerSession.create(new Uint8Array([8, 1, 18, 200, 1])))).toMatch(/^INVALID_MODEL/);
  });
});
