// The quantizer places Q/DQ so that a linear Resize (passed through with its input's parameters)
// and a spatial ReduceMean between quantized layers lower integer-only: 0 float nodes, and the
// integer executor stays close to the QDQ model run in float.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../src/ir/graph.js';
import { Tensor, type Node } from '../src/onnx-api.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { loadedBackends, rng } from './backends.js';
import { f32, int, ints, model, randomInput } from './integer-models.js';

function conv(nodes: Node[], inits: [string, Tensor][], name: string, x: string, cin: number, cout: number, seed: number): string {
  const r = rng(seed);
  inits.push(
    [
      `${name}_w`,
      f32(
        Array.from({ length: cout * cin * 9 }, () => r() - 0.5),
        [cout, cin, 3, 3],
      ),
    ],
    [
      `${name}_b`,
      f32(
        Array.from({ length: cout }, () => r() - 0.5),
        [cout],
      ),
    ],
  );
  nodes.push(
    makeNode('Conv', [x, `${name}_w`, `${name}_b`], [`${name}_y`], { pads: ints([1, 1, 1, 1]), kernel_shape: ints([3, 3]) }, name),
  );
  return `${name}_y`;
}

function floatModel() {
  const nodes: Node[] = [],
    inits: [string, Tensor][] = [];
  const a = conv(nodes, inits, 'c1', 'x', 3, 4, 1);
  inits.push(['roi', new Tensor('float32', new Float32Array(0), [0])], ['scales', f32([1, 1, 2, 2], [4])]);
  nodes.push(
    makeNode(
      'Resize',
      [a, 'roi', 'scales'],
      ['up'],
      { mode: { type: 'string', value: 'linear' }, coordinate_transformation_mode: { type: 'string', value: 'half_pixel' } },
      'resize',
    ),
  );
  const b = conv(nodes, inits, 'c2', 'up', 4, 4, 2);
  nodes.push(makeNode('ReduceMean', [b], ['mean'], { axes: ints([2, 3]), keepdims: int(1) }, 'mean'));
  const c = conv(nodes, inits, 'c3', 'mean', 4, 5, 3);
  nodes.push(makeNode('Add', [c, 'c3_y'], ['y']));
  const m = model(nodes, inits, [{ name: 'x', dims: [1, 3, 9, 11] }], ['y'], 13);
  return m;
}

describe('quantizer placement for linear Resize and ReduceMean', () => {
  it('lowers with no float node and stays close to the QDQ model', async () => {
    const m = floatModel();
    const calib = Array.from({ length: 4 }, (_, i) => ({ x: randomInput([1, 3, 9, 11], 100 + i) }));
    const { model: q } = await quantize(m, { calibration: calib });
    const x = randomInput([1, 3, 9, 11], 7);
    // The QDQ model run in float (dequantize, float op, quantize) is what the integer executor mirrors.
    const want = (await (await InferenceSession.create(q)).run({ x })).y!.data as Float32Array;
    let ref: Float32Array | undefined;
    for (const b of loadedBackends) {
      const s = await IntegerSession.create(q, { backend: b.name, runInWorker: false });
      const rep = s.loweringReport();
      expect(rep.filter((e) => e.execution === 'float').map((e) => `${e.opType}: ${e.reason}`)).toEqual([]);
      expect(rep.find((e) => e.opType === 'Resize')!.kernel).toBe('resizeLinear');
      expect(rep.find((e) => e.opType === 'ReduceMean')!.kernel).toBe('reduceMean');
      const got = s.runSync({ x }).y!.data as Float32Array;
      if (!ref) ref = got;
      else expect(Array.from(got)).toEqual(Array.from(ref));
      let num = 0,
        den = 0;
      for (let i = 0; i < got.length; i++) {
        num += (got[i]! - want[i]!) ** 2;
        den += want[i]! ** 2;
      }
      expect(10 * Math.log10(den / num), `SQNR on ${b.name}`).toBeGreaterThan(30);
    }
  });
});
