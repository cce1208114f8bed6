// MatMulInteger with a constant B in IntegerSession (src/runtime/integer/lower/matmul-integer.ts): B
// is packed once at lowering, and the dynamic-quantization rescale after it (Cast to float, Mul by
// the run's scale, Add of a constant bias) runs in the same step. Each graph is checked against the
// float session (which runs every op as it stands) bit for bit on every backend, run after run, and
// its lowering report says what fired; the cases where the fusion must not fire (an intermediate
// that is a graph output, a scale of a shape the step does not take) give the same bits unfused.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode } from '../src/ir/graph.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/tensor.js';
import { loadedBackends, randInt, rng } from './backends.js';
import { model } from './passes-helpers.js';

interface Opts {
  /** B's type and zero point per column (else per tensor). */
  bType: 'int8' | 'uint8';
  zbPerColumn: boolean;
  bias: boolean;
  /** Dims of the weights' scale constant (default [N]). */
  wScaleDims?: number[];
  /** Make the Cast's output a graph output too. */
  castIsOutput?: boolean;
  /** K = 600, uint8 weights near 255 with zero point 0 and a positive x: |acc| passes 2^24, so float32(acc) rounds. */
  wide?: boolean;
}

const N = 17;

/** x [2, 5, K] (float) -> DynamicQuantizeLinear -> MatMulInteger(B const) -> Cast -> Mul(x_scale * w_scale) [-> Add bias] -> y. */
function dynamicLinear(o: Opts) {
  const r = rng(o.bType === 'int8' ? 11 : 12);
  const K = kOf(o);
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 5, K] }],
    outputs: [{ name: 'y', dtype: 'float32' }, ...(o.castIsOutput ? [{ name: 'accf', dtype: 'float32' as const }] : [])],
  });
  const signed = o.bType === 'int8';
  const [lo, hi] = signed ? [-127, 127] : o.wide ? [200, 255] : [0, 255];
  const wv = Array.from({ length: K * N }, () => randInt(r, lo!, hi!));
  const w = signed ? Int8Array.from(wv) : Uint8Array.from(wv);
  g.initializers.set('w', new Tensor(o.bType, w, [K, N]));
  const zb = Array.from({ length: o.zbPerColumn ? N : 1 }, () => (signed ? randInt(r, -5, 5) : o.wide ? 0 : randInt(r, 120, 136)));
  g.initializers.set('wz', new Tensor(o.bType, signed ? Int8Array.from(zb) : Uint8Array.from(zb), o.zbPerColumn ? [N] : []));
  const wsDims = o.wScaleDims ?? [N];
  g.initializers.set(
    'ws',
    new Tensor(
      'float32',
      Float32Array.from({ length: N }, () => 0.001 + r() * 0.01),
      wsDims,
    ),
  );
  g.nodes.push(makeNode('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz'], {}, 'dql'));
  g.nodes.push(makeNode('MatMulInteger', ['xq', 'w', 'xz', 'wz'], ['acc'], {}, 'mmi'));
  g.nodes.push(makeNode('Cast', ['acc'], ['accf'], { to: { type: 'int', value: 1 } }, 'cast'));
  g.nodes.push(makeNode('Mul', ['xs', 'ws'], ['scale'], {}, 'scales'));
  g.nodes.push(makeNode('Mul', ['accf', 'scale'], [o.bias ? 'lin' : 'y'], {}, 'rescale'));
  if (o.bias) {
    g.initializers.set(
      'b',
      new Tensor(
        'float32',
        Float32Array.from({ length: N }, () => r() - 0.5),
        [N],
      ),
    );
    g.nodes.push(makeNode('Add', ['lin', 'b'], ['y'], {}, 'bias'));
  }
  return model(g, 13);
}

const kOf = (o: Opts) => (o.wide ? 600 : 33);

function feed(o: Opts, seed: number): Tensor {
  const r = rng(seed);
  const K = kOf(o);
  return new Tensor(
    'float32',
    Float32Array.from({ length: 2 * 5 * K }, () => (o.wide ? 20 + r() * 20 : (r() - 0.3) * 40)),
    [2, 5, K],
  );
}

function bitsEqual(a: Tensor, b: Tensor): string {
  if (a.dims.join() !== b.dims.join()) return `dims ${a.dims} vs ${b.dims}`;
  const x = new Uint32Array((a.data as Float32Array).buffer, (a.data as Float32Array).byteOffset, a.size),
    y = new Uint32Array((b.data as Float32Array).buffer, (b.data as Float32Array).byteOffset, b.size);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `at ${i}: ${(a.data as Float32Array)[i]} vs ${(b.data as Float32Array)[i]}`;
  return 'equal';
}

async function check(o: Opts, expectFused: boolean): Promise<void> {
  const m = dynamicLinear(o);
  const float = InferenceSession.createSync(m, { runInWorker: false });
  for (const be of loadedBackends) {
    const s = await IntegerSession.create(m, { backend: be.name, runInWorker: false });
    const rep = new Map(s.loweringReport().map((e) => [e.node, e]));
    expect(rep.get('mmi')!.kernel, be.name).toBe(expectFused ? 'qgemmI32 (B packed once) + rescale' : 'qgemmI32 (B packed once)');
    for (const n of ['cast', 'scales', 'rescale', ...(o.bias ? ['bias'] : [])])
      expect(rep.get(n)!.execution, `${be.name} ${n}`).toBe(expectFused ? 'fused' : 'float');
    for (let run = 0; run < 3; run++) {
      const x = feed(o, 40 + run);
      const want = float.runSync({ x });
      const got = s.runSync({ x });
      for (const name of Object.keys(want)) expect(bitsEqual(got[name]!, want[name]!), `${be.name} run ${run} ${name}`).toBe('equal');
    }
    s.release();
  }
}

describe('MatMulInteger with a constant B: packed once, the rescale in the same step', () => {
  it('int8 weights, zero points per column, bias: fused, the float ops bits on every backend', async () => {
    await check({ bType: 'int8', zbPerColumn: true, bias: true }, true);
  });

  it('uint8 weights, zero point per tensor, no bias: fused', async () => {
    await check({ bType: 'uint8', zbPerColumn: false, bias: false }, true);
  });

  it('|acc| past 2^24 (float32(acc) rounds before the product), no bias: fused', async () => {
    await check({ bType: 'uint8', zbPerColumn: false, bias: false, wide: true }, true);
  });

  it('a weight scale of rank [1, N]: still one value per column, fused', async () => {
    await check({ bType: 'int8', zbPerColumn: false, bias: true, wScaleDims: [1, N] }, true);
  });

  it('must not fire: the Cast output is a graph output (B still packed, the float ops run)', async () => {
    await check({ bType: 'int8', zbPerColumn: true, bias: true, castIsOutput: true }, false);
  });

  it('a scale whose rank exceeds the output rank: fused, run through the float ops (broadcast grows the rank)', async () => {
    const o: Opts = { bType: 'int8', zbPerColumn: true, bias: false, wScaleDims: [1, 1, 1, N] };
    const m = dynamicLinear(o);
    const x = feed(o, 7);
    const want = InferenceSession.createSync(m, { runInWorker: false }).runSync({ x }).y!;
    expect([...want.dims]).toEqual([1, 2, 5, N]);
    for (const be of loadedBackends) {
      const s = await IntegerSession.create(m, { backend: be.name, runInWorker: false });
      for (let run = 0; run < 2; run++) expect(bitsEqual(s.runSync({ x }).y!, want), `${be.name} run ${run}`).toBe('equal');
      s.release();
    }
  });
});
