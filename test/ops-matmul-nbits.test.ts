// com.microsoft MatMulNBits on the float session against onnxruntime-node (which runs it on CPU), at
// awkward sizes (K not a multiple of block_size, N = 1, batched A), with packed and float zero
// points, bias and 8 bits; the pack helpers' layout; and the refusals of malformed nodes.
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { afterAll, describe, expect, it } from 'vitest';
import { OnnxPtqError } from '../src/errors.js';
import { Graph, makeNode, type Attribute, type Model } from '../src/ir/graph.js';
import { modelToBytes } from '../src/onnx/io.js';
import { packMatMulNBits, packZeroPoints4 } from '../src/ops/matmul-nbits.js';
import { InferenceSession } from '../src/runtime/session.js';
import { Tensor } from '../src/tensor.js';
import { rng } from './backends.js';
import { model, relErr } from './passes-helpers.js';

ort.env.logLevel = 'error';

const int = (value: number): Attribute => ({ type: 'int', value });

interface Case {
  K: number;
  N: number;
  blockSize: number;
  aDims: number[];
  bits?: 4 | 8;
  zp?: 'none' | 'packed' | 'float';
  bias?: boolean;
  /** scales as [N * kBlocks] instead of [N, kBlocks]. */
  flatScales?: boolean;
}

interface Built {
  m: Model;
  x: Tensor;
  /** The formula in float64, independent of both engines. */
  ref: Float64Array;
}

function build(c: Case, seed: number): Built {
  const r = rng(seed);
  const { K, N, blockSize } = c;
  const bits = c.bits ?? 4;
  const qmax = (1 << bits) - 1;
  const kBlocks = Math.ceil(K / blockSize);
  const q = Uint8Array.from({ length: N * K }, () => Math.floor(r() * (qmax + 1)));
  const scale = Float32Array.from({ length: N * kBlocks }, () => 0.01 + r() * 0.1);
  let zpInt: Uint8Array | undefined;
  let zpFloat: Float32Array | undefined;
  if (c.zp === 'packed') zpInt = Uint8Array.from({ length: N * kBlocks }, () => Math.floor(r() * (qmax + 1)));
  if (c.zp === 'float') zpFloat = Float32Array.from({ length: N * kBlocks }, () => Math.floor(r() * (qmax + 1)));
  const bias = c.bias ? Float32Array.from({ length: N }, () => r() * 2 - 1) : undefined;
  const M = c.aDims.slice(0, -1).reduce((p, d) => p * d, 1);
  const x = new Tensor(
    'float32',
    Float32Array.from({ length: M * K }, () => r() * 2 - 1),
    c.aDims,
  );

  let B: Uint8Array;
  let zpPacked: Uint8Array | undefined;
  const blob = (blockSize * bits) / 8;
  if (bits === 4) {
    B = packMatMulNBits(q, N, K, blockSize);
    if (zpInt) zpPacked = packZeroPoints4(zpInt, N, kBlocks);
  } else {
    B = new Uint8Array(N * kBlocks * blockSize);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) B[n * kBlocks * blockSize + k] = q[n * K + k]!;
    zpPacked = zpInt;
  }

  const xd = x.data as Float32Array;
  const ref = new Float64Array(M * N);
  const mid = 1 << (bits - 1);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n]! : 0;
      for (let k = 0; k < K; k++) {
        const j = Math.floor(k / blockSize);
        const z = zpInt ? zpInt[n * kBlocks + j]! : zpFloat ? zpFloat[n * kBlocks + j]! : mid;
        s += xd[m * K + k]! * (q[n * K + k]! - z) * scale[n * kBlocks + j]!;
      }
      ref[m * N + n] = s;
    }
  }

  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: c.aDims }],
    outputs: [{ name: 'y', dtype: 'float32' }],
  });
  g.initializers.set('B', new Tensor('uint8', B, [N, kBlocks, blob]));
  g.initializers.set('scales', new Tensor('float32', scale, c.flatScales ? [N * kBlocks] : [N, kBlocks]));
  const inputs = ['x', 'B', 'scales'];
  if (zpPacked) {
    const stride = Math.ceil((kBlocks * bits) / 8);
    g.initializers.set('zp', new Tensor('uint8', zpPacked, [N, stride]));
    inputs.push('zp');
  } else if (zpFloat) {
    g.initializers.set('zp', new Tensor('float32', zpFloat, [N, kBlocks]));
    inputs.push('zp');
  }
  if (bias) {
    while (inputs.length < 5) inputs.push('');
    g.initializers.set('bias', new Tensor('float32', bias, [N]));
    inputs.push('bias');
  }
  g.nodes.push(
    makeNode('MatMulNBits', inputs, ['y'], { K: int(K), N: int(N), bits: int(bits), block_size: int(blockSize) }, 'mmnb', 'com.microsoft'),
  );
  return { m: withMs(model(g, 17)), x, ref };
}

function withMs(m: Model): Model {
  return { ...m, opsetImports: [...m.opsetImports, { domain: 'com.microsoft', version: 1 }] };
}

async function ours(m: Model, x: Tensor): Promise<Tensor> {
  const s = await InferenceSession.create(m, { runInWorker: false });
  return s.runSync({ x }).y!;
}

async function theirs(m: Model, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const s = await ort.InferenceSession.create(modelToBytes(ortExactModel(m)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
  const y = (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) })).y!;
  return { data: y.data as Float32Array, dims: y.dims };
}

let worstOrt = 0;
afterAll(() => console.log(`MatMulNBits: max relative difference vs onnxruntime ${worstOrt.toExponential(2)}`));

const cases: [string, Case][] = [
  ['K=33 bs=16 N=5, packed zp (odd block count)', { K: 33, N: 5, blockSize: 16, aDims: [3, 33], zp: 'packed' }],
  ['K=70 bs=32 N=17, batched A [2,3,K], bias, default zp', { K: 70, N: 17, blockSize: 32, aDims: [2, 3, 70], bias: true }],
  [
    'K=64 bs=16 N=1, packed zp, bias, flat scales',
    { K: 64, N: 1, blockSize: 16, aDims: [1, 64], zp: 'packed', bias: true, flatScales: true },
  ],
  ['K=33 bs=16 N=17, batched A, packed zp, bias', { K: 33, N: 17, blockSize: 16, aDims: [2, 3, 33], zp: 'packed', bias: true }],
  ['K=70 bs=32 N=5, float zp', { K: 70, N: 5, blockSize: 32, aDims: [4, 70], zp: 'float' }],
  ['K=200 bs=128 N=17, 1-D A', { K: 200, N: 17, blockSize: 128, aDims: [200], zp: 'packed' }],
  ['8 bits: K=40 bs=16 N=5, zp, bias', { K: 40, N: 5, blockSize: 16, aDims: [2, 40], bits: 8, zp: 'packed', bias: true }],
  ['8 bits: K=70 bs=32 N=1, default zp', { K: 70, N: 1, blockSize: 32, aDims: [2, 3, 70], bits: 8 }],
];

describe('MatMulNBits against onnxruntime-node', () => {
  it.each(cases)('%s', async (_, c) => {
    const { m, x, ref } = build(c, c.K * 31 + c.N);
    const y = await ours(m, x);
    const o = await theirs(m, x);
    expect([...y.dims]).toEqual([...o.dims]);
    expect(y.dims).toEqual([...c.aDims.slice(0, -1), c.N]);
    const e = relErr(y.data as Float32Array, o.data);
    worstOrt = Math.max(worstOrt, e);
    expect(e).toBeLessThan(1e-4);
    expect(relErr(y.data as Float32Array, ref)).toBeLessThan(1e-6);
  });

  it('infers the output type [..., N]', async () => {
    const { m } = build({ K: 33, N: 5, blockSize: 16, aDims: [2, 3, 33] }, 1);
    const s = await InferenceSession.create(m, { runInWorker: false });
    expect(s.valueTypes.get('y')).toEqual({ dtype: 'float32', shape: [2, 3, 5] });
  });
});

describe('pack helpers', () => {
  it('packMatMulNBits: element k of column n at nibble k % bs of block k / bs, low first, padded with 0', () => {
    const K = 18,
      bs = 16;
    const q = Uint8Array.from({ length: 2 * K }, (_, i) => i % 16);
    const b = packMatMulNBits(q, 2, K, bs);
    expect(b.length).toBe(2 * 2 * 8);
    expect(b[0]).toBe(0x10); // q[0,0] = 0 low, q[0,1] = 1 high
    expect(b[7]).toBe(0xfe); // k = 14, 15
    expect(b[8]).toBe(0x10); // block 1: k = 16 (0), 17 (1)
    expect([...b.subarray(9, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(b[16]).toBe(((q[K + 1]! << 4) | q[K]!) & 0xff);
  });

  it('packZeroPoints4: [N, ceil(kBlocks / 2)], low nibble first', () => {
    expect([...packZeroPoints4(Uint8Array.of(1, 2, 3, 4, 5, 6), 2, 3)]).toEqual([0x21, 0x03, 0x54, 0x06]);
  });

  it('refuses codes above 15 and bad sizes', () => {
    expect(() => packMatMulNBits(Uint8Array.of(16, ...new Array(15).fill(0)), 1, 16, 16)).toThrow(OnnxPtqError);
    expect(() => packMatMulNBits(new Uint8Array(15), 1, 16, 16)).toThrow(/N \* K = 16/);
    expect(() => packMatMulNBits(new Uint8Array(16), 1, 16, 24)).toThrow(/power of 2/);
    expect(() => packZeroPoints4(new Uint8Array(3), 2, 2)).toThrow(OnnxPtqError);
  });
});

describe('MatMulNBits refusals name the node', () => {
  async function failure(m: Model, x: Tensor): Promise<OnnxPtqError> {
    const e = await (async () => {
      const s = await InferenceSession.create(m, { runInWorker: false });
      s.runSync({ x });
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(OnnxPtqError);
    expect((e as Error).message).toContain("MatMulNBits node 'mmnb'");
    return e as OnnxPtqError;
  }
  const base: Case = { K: 33, N: 5, blockSize: 16, aDims: [3, 33], zp: 'packed', bias: true };
  const node = (m: Model) => m.graph.nodes[0]!;

  it('K disagreeing with the last dim of A', async () => {
    const { m } = build(base, 2);
    const x = new Tensor('float32', new Float32Array(3 * 32), [3, 32]);
    m.graph.inputs[0]!.shape = [3, 32];
    const e = await failure(m, x);
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toMatch(/last dim must be K = 33/);
  });

  it('K or N disagreeing with the shape of B', async () => {
    for (const [attr, v] of [
      ['N', 4],
      ['K', 49],
    ] as const) {
      const { m, x } = build(base, 3);
      node(m).attributes.set(attr, int(v));
      if (attr === 'K') {
        m.graph.inputs[0]!.shape = [3, 49];
        const e = await failure(m, new Tensor('float32', new Float32Array(3 * 49), [3, 49]));
        expect(e.message).toMatch(/B has dims \[5, 3, 8\]/);
      } else {
        const e = await failure(m, x);
        expect(e.message).toMatch(/B has dims \[5, 3, 8\]; .* need \[4, 3, 8\]/);
      }
    }
  });

  it('block_size not a power of 2 >= 16', async () => {
    for (const bs of [24, 8]) {
      const { m, x } = build(base, 4);
      node(m).attributes.set('block_size', int(bs));
      const e = await failure(m, x);
      expect(e.code).toBe('INVALID_MODEL');
      expect(e.message).toContain(`block_size ${bs} must be a power of 2 >= 16`);
    }
  });

  it('bits other than 4 and 8', async () => {
    const { m, x } = build(base, 5);
    node(m).attributes.set('bits', int(3));
    const e = await failure(m, x);
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toContain('bits 3 is not supported');
  });

  it('B not uint8', async () => {
    const { m, x } = build(base, 6);
    const b = m.graph.initializers.get('B')!;
    m.graph.initializers.set('B', new Tensor('int8', new Int8Array(b.size), b.dims));
    const e = await failure(m, x);
    expect(e.message).toContain('B is int8; it must be uint8');
  });

  it('scales and zero points of the wrong size', async () => {
    const { m, x } = build(base, 7);
    m.graph.initializers.set('scales', new Tensor('float32', new Float32Array(5 * 2), [5, 2]));
    expect((await failure(m, x)).message).toContain('scales have dims [5, 2]; expected [15] or [5, 3]');
    const b = build(base, 7);
    b.m.graph.initializers.set('zp', new Tensor('uint8', new Uint8Array(5), [5, 1]));
    expect((await failure(b.m, b.x)).message).toContain('uint8 zero_points have dims [5, 1]; expected [10] or [5, 2]');
  });

  it('g_idx present', async () => {
    const { m, x } = build(base, 8);
    m.graph.initializers.set('g_idx', new Tensor('int32', new Int32Array(33), [33]));
    node(m).inputs[4] = 'g_idx';
    const e = await failure(m, x);
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toContain('g_idx');
  });

  it('missing K, N or block_size', async () => {
    const { m, x } = build(base, 9);
    node(m).attributes.delete('block_size');
    const e = await failure(m, x);
    expect(e.code).toBe('INVALID_MODEL');
  });
});
