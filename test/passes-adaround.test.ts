// AdaRound (src/passes/adaround.ts): learned rounding beats nearest on a layer's output, leaves an
// exact layer alone, reproduces for a seed, and handles bad input with a defined result or an error
// naming the layer or option; no exported tensor is ever NaN.
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Graph, makeNode, type Model } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize, type QuantizeInput } from '../src/ptq/quantize.js';
import { InferenceSession } from '../src/runtime/session.js';
import { OnnxPtqError } from '../src/errors.js';
import { loadModel } from '../src/onnx/io.js';
import { readIdx } from '../src/io/idx.js';
import { main as quantizeMain } from '../src/cli/commands/quantize.js';
import { model as wrap } from './passes-helpers.js';
import { BlockNet, findBlocks } from '../src/passes/adaround.js';
import { getBackend } from '../src/backends/registry.js';
import { rng } from './backends.js';
import { fixture } from './fixtures.js';

const r = rng(16);
const uniform = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());

/** x [rows, 32] -> Gemm(W [16, 32], transB) -> y: a layer with positive, correlated inputs (post-ReLU like). */
function gemmModel(w = uniform(16 * 32, -1, 1)): Model {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [8, 32] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set('W', new Tensor('float32', w, [16, 32]));
  g.initializers.set('b', new Tensor('float32', uniform(16, -0.5, 0.5), [16]));
  g.insertNode(makeNode('Gemm', ['x', 'W', 'b'], ['y'], { transB: { type: 'int', value: 1 } }, 'fc'));
  return wrap(g);
}

/** Inputs with a shared positive component: rounding errors of one output add up unless they cancel. */
function gemmData(n: number, seed: number): Record<string, Tensor>[] {
  const q = rng(seed);
  return Array.from({ length: n }, () => {
    const d = new Float32Array(8 * 32);
    for (let i = 0; i < 8; i++) {
      const common = q();
      for (let k = 0; k < 32; k++) d[i * 32 + k] = 0.6 * common + 0.4 * q() * (1 + (k % 4));
    }
    return { x: new Tensor('float32', d, [8, 32]) };
  });
}

/** x [1, 4, 10, 10] -> Conv 3x3 (8 out, pad 1) -> Relu -> Conv 3x3 (4 out, stride 2) -> y. */
function convModel(): Model {
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 10, 10] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set('W1', new Tensor('float32', uniform(8 * 4 * 9, -1, 1), [8, 4, 3, 3]));
  g.initializers.set('B1', new Tensor('float32', uniform(8, -0.2, 0.2), [8]));
  g.initializers.set('W2', new Tensor('float32', uniform(4 * 8 * 9, -1, 1), [4, 8, 3, 3]));
  const pads = { type: 'ints' as const, value: [1, 1, 1, 1] };
  g.insertNode(makeNode('Conv', ['x', 'W1', 'B1'], ['c1'], { pads }, 'conv1'));
  g.insertNode(makeNode('Relu', ['c1'], ['r1'], {}, 'relu1'));
  g.insertNode(makeNode('Conv', ['r1', 'W2'], ['y'], { strides: { type: 'ints', value: [2, 2] } }, 'conv2'));
  return wrap(g);
}

function convData(n: number, seed: number): Record<string, Tensor>[] {
  const q = rng(seed);
  return Array.from({ length: n }, () => ({
    x: new Tensor(
      'float32',
      Float32Array.from({ length: 400 }, () => q()),
      [1, 4, 10, 10],
    ),
  }));
}

const base: QuantizeInput = { weightBits: 4, weightGranularity: 'per-tensor', biasCorrection: false, weightOnly: true };

/** Every initializer of a model is finite (scales, zero points, integer and float weights, biases). */
function expectFinite(m: Model): void {
  for (const [name, t] of m.graph.initializers) {
    const d = t.data as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`'${name}' holds ${v} at ${i}`);
    }
  }
}

/** The exported integer weight of a layer (the DequantizeLinear input read as the layer's weight). */
function intWeight(m: Model, layer: string): Int8Array | Uint8Array {
  const g = m.graph;
  const n = g.nodes.find((x) => x.name === layer)!;
  const dq = g.producerOf(n.inputs[1])!;
  expect(dq.opType).toBe('DequantizeLinear');
  return g.initializers.get(dq.inputs[0])!.data as Int8Array;
}

async function outputs(m: Model, data: Record<string, Tensor>[]): Promise<Float32Array[]> {
  const s = await InferenceSession.create(m, { runInWorker: false });
  return data.map((f) => Float32Array.from(s.runSync(f)[s.outputNames[0]].data as Float32Array));
}

function mse(ref: Float32Array[], x: Float32Array[]): number {
  let e = 0,
    n = 0;
  for (let k = 0; k < ref.length; k++)
    for (let i = 0; i < ref[k].length; i++) {
      e += (ref[k][i] - x[k][i]) ** 2;
      n++;
    }
  return e / n;
}

describe('adaround', () => {
  it('learned rounding has a lower output MSE than nearest rounding (Gemm, int4 per tensor), on held-out data too', async () => {
    const m = gemmModel();
    const calib = gemmData(32, 1),
      held = gemmData(32, 2);
    const near = await quantize(m, { ...base, calibration: calib });
    const ada = await quantize(m, { ...base, calibration: calib, passes: ['adaround'], passOptions: { adaround: { iterations: 1500 } } });
    const ref = await outputs(m, held);
    const eNear = mse(ref, await outputs(near.model, held)),
      eAda = mse(ref, await outputs(ada.model, held));
    expect(eAda).toBeLessThan(0.7 * eNear);
    // The same scale as the observer chose: only the integers moved, each by at most one step.
    const qn = intWeight(near.model, 'fc'),
      qa = intWeight(ada.model, 'fc');
    let moved = 0;
    for (let i = 0; i < qn.length; i++) {
      expect(Math.abs(qa[i] - qn[i])).toBeLessThanOrEqual(1);
      if (qa[i] !== qn[i]) moved++;
    }
    expect(moved).toBeGreaterThan(0);
    const rep = ada.report.passes.find((p) => p.pass === 'adaround')!;
    expect(rep.changed).toBe(1);
    expect(rep.details[0]).toMatch(/^Gemm node 'fc': output MSE .* \(nearest\) -> .* \(adaround\)/);
    expectFinite(ada.model);
  }, 20000);

  it('two convolutions (padding, stride, per channel): each layer output MSE goes down, the integer executor runs it', async () => {
    const m = convModel();
    const calib = convData(8, 3);
    const { model, report } = await quantize(m, {
      weightBits: 4,
      calibration: calib,
      passes: ['adaround'],
      passOptions: { adaround: { iterations: 600 } },
    });
    const rep = report.passes.find((p) => p.pass === 'adaround')!;
    expect(rep.changed).toBe(2);
    for (const d of rep.details) {
      const [, a, b] = /output MSE (\S+) \(nearest\) -> (\S+) \(adaround\)/.exec(d)!;
      expect(Number(b)).toBeLessThan(Number(a));
    }
    expectFinite(model);
    const { IntegerSession } = await import('../src/runtime/integer/index.js');
    const s = await IntegerSession.create(model, { runInWorker: false });
    expect((s.runSync(calib[0])[s.outputNames[0]].data as Float32Array).every(Number.isFinite)).toBe(true);
    await s.release();
  }, 20000);

  it('changes nothing on layers whose weights are already on the grid', async () => {
    // W = 0.125 * q with integers q in [-7, 7] and both bounds present: the int4 symmetric scale is
    // exactly 0.125, W / s is exact, and the layers (and so their inputs) reproduce the float model.
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [8, 32] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    const grid = (n: number) => {
      const w = Float32Array.from({ length: n }, () => 0.125 * (Math.floor(r() * 15) - 7));
      w[0] = 0.875;
      w[1] = -0.875;
      return w;
    };
    g.initializers.set('W1', new Tensor('float32', grid(24 * 32), [24, 32]));
    g.initializers.set('W2', new Tensor('float32', grid(16 * 24), [16, 24]));
    const tb = { transB: { type: 'int' as const, value: 1 } };
    g.insertNode(makeNode('Gemm', ['x', 'W1'], ['h'], tb, 'fc1'));
    g.insertNode(makeNode('Relu', ['h'], ['hr'], {}, 'relu'));
    g.insertNode(makeNode('Gemm', ['hr', 'W2'], ['y'], tb, 'fc2'));
    const m = wrap(g);
    const calib = gemmData(16, 4);
    const near = await quantize(m, { ...base, calibration: calib });
    const ada = await quantize(m, { ...base, calibration: calib, passes: ['adaround'], passOptions: { adaround: { iterations: 500 } } });
    for (const l of ['fc1', 'fc2']) {
      const qa = intWeight(ada.model, l);
      expect([...qa]).toEqual([...intWeight(near.model, l)]);
      const w = g.initializers.get(l === 'fc1' ? 'W1' : 'W2')!.data as Float32Array;
      expect([...qa]).toEqual([...w].map((v) => v / 0.125));
    }
    const rep = ada.report.passes.find((p) => p.pass === 'adaround')!;
    for (const d of rep.details) expect(d).toMatch(/ 0 of \d+ weights rounded the other way/);
  }, 20000);

  it('is deterministic for a seed (minibatches drawn from more rows than a batch)', async () => {
    const m = convModel();
    const calib = convData(4, 5);
    const run = async (seed: number) =>
      (
        await quantize(m, {
          ...base,
          calibration: calib,
          passes: ['adaround'],
          passOptions: { adaround: { iterations: 300, batch_size: 16, seed } },
        })
      ).model;
    const a = await run(7),
      b = await run(7);
    for (const l of ['conv1', 'conv2']) expect([...intWeight(a, l)]).toEqual([...intWeight(b, l)]);
    expectFinite(a);
  }, 20000);

  it('a layer no calibration data reaches keeps nearest rounding and is named in skipped', async () => {
    // x in [0, 1) -> Sub(1000) -> Relu: fc2's input is zero in every sample.
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [8, 32] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    g.initializers.set('W1', new Tensor('float32', uniform(32 * 32, -1, 1), [32, 32]));
    g.initializers.set('off', new Tensor('float32', Float32Array.of(1000), []));
    g.initializers.set('W2', new Tensor('float32', uniform(16 * 32, -1, 1), [16, 32]));
    const tb = { transB: { type: 'int' as const, value: 1 } };
    g.insertNode(makeNode('Gemm', ['x', 'W1'], ['h'], tb, 'fc1'));
    g.insertNode(makeNode('Sub', ['h', 'off'], ['hs'], {}, 'sub'));
    g.insertNode(makeNode('Relu', ['hs'], ['hr'], {}, 'relu'));
    g.insertNode(makeNode('Gemm', ['hr', 'W2'], ['y'], tb, 'fc2'));
    const m = wrap(g);
    const calib = gemmData(8, 6);
    const near = await quantize(m, { ...base, calibration: calib });
    const ada = await quantize(m, { ...base, calibration: calib, passes: ['adaround'], passOptions: { adaround: { iterations: 200 } } });
    const rep = ada.report.passes.find((p) => p.pass === 'adaround')!;
    expect(rep.skipped).toEqual([expect.stringMatching(/^Gemm node 'fc2': no calibration data reaches it .*nearest rounding kept$/)]);
    expect(rep.changed).toBe(1);
    expect([...intWeight(ada.model, 'fc2')]).toEqual([...intWeight(near.model, 'fc2')]);
    expectFinite(ada.model);
  }, 20000);

  it('zero iterations keep nearest rounding; a batch larger than the data uses every row', async () => {
    const m = gemmModel();
    const calib = gemmData(4, 8); // 32 rows
    const near = await quantize(m, { ...base, calibration: calib });
    const zero = await quantize(m, { ...base, calibration: calib, passes: ['adaround'], passOptions: { adaround: { iterations: 0 } } });
    const z = zero.report.passes.find((p) => p.pass === 'adaround')!;
    expect(z.changed).toBe(0);
    expect(z.skipped).toEqual(["Gemm node 'fc': option 'iterations' is 0; nearest rounding kept"]);
    expect([...intWeight(zero.model, 'fc')]).toEqual([...intWeight(near.model, 'fc')]);
    const big = await quantize(m, {
      ...base,
      calibration: calib,
      passes: ['adaround'],
      passOptions: { adaround: { iterations: 200, batch_size: 100000 } },
    });
    const b = big.report.passes.find((p) => p.pass === 'adaround')!;
    expect(b.details[0]).toMatch(/batch_size 100000 >= 32 rows: every step used all rows/);
    expectFinite(big.model);
    expectFinite(zero.model);
  }, 20000);

  it('refuses bad options and data with an OnnxPtqError naming the option', async () => {
    const m = gemmModel();
    const calib = gemmData(2, 9);
    const fails = async (input: QuantizeInput, code: string, re: RegExp) => {
      const e = await quantize(m, { ...base, calibration: calib, passes: ['adaround'], ...input }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OnnxPtqError);
      expect((e as OnnxPtqError).code).toBe(code);
      expect((e as Error).message).toMatch(re);
    };
    await fails({ passOptions: { adaround: { iterations: -1 } } }, 'PASS_ERROR', /adaround: option 'iterations' must be an integer >= 0/);
    await fails({ passOptions: { adaround: { batch_size: 0 } } }, 'PASS_ERROR', /option 'batch_size'/);
    await fails({ passOptions: { adaround: { warm_up: 1 } } }, 'PASS_ERROR', /option 'warm_up'/);
    await fails({ passOptions: { adaround: { lambda: Number.NaN } } }, 'PASS_ERROR', /option 'lambda'/);
    await fails({ passOptions: { adaround: { iters: 5 } } }, 'INVALID_OPTION', /unknown option 'iters'/);
    await fails({ passOptions: { adaround: { mode: 'net' } } }, 'PASS_ERROR', /option 'mode' must be 'layer' or 'block'/);
    await fails({ passOptions: { adaround: { interested_layers: ['nope'] } } }, 'PASS_ERROR', /'nope', which is not a quantized layer/);
    await fails({ noRounding: true }, 'PASS_ERROR', /adaround: .*'noRounding'/);
    await fails({ calibration: calib.values() }, 'PASS_ERROR', /adaround: reads the calibration data again/);
    await fails({ passes: ['adaround', 'sign-map'], weightOnly: false }, 'INVALID_OPTION', /'sign-map' cannot run after 'adaround'/);
    const e = await quantize(m, { ...base, passes: ['adaround'] }).catch((x: unknown) => x);
    expect((e as OnnxPtqError).message).toMatch(/adaround: needs calibration data/);
  });
});

/**
 * A residual block: x [1, C, S, S] -> conv1 3x3 (pad 1, stride `stride`) -> relu -> conv2 3x3 (pad 1)
 * -> Add(skip) -> relu -> y; the skip is x itself (stride 1) or conv3 1x1 stride 2 of x.
 */
function residual(C: number, S: number, stride: 1 | 2, seed: number): Model {
  const q = rng(seed);
  const u = (n: number, a: number) => Float32Array.from({ length: n }, () => (q() * 2 - 1) * a);
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, C, S, S] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  g.initializers.set('W1', new Tensor('float32', u(C * C * 9, 0.3), [C, C, 3, 3]));
  g.initializers.set('B1', new Tensor('float32', u(C, 0.1), [C]));
  g.initializers.set('W2', new Tensor('float32', u(C * C * 9, 0.3), [C, C, 3, 3]));
  const pads = { type: 'ints' as const, value: [1, 1, 1, 1] };
  const st = { type: 'ints' as const, value: [stride, stride] };
  g.insertNode(makeNode('Conv', ['x', 'W1', 'B1'], ['c1'], { pads, strides: st }, 'conv1'));
  g.insertNode(makeNode('Relu', ['c1'], ['r1'], {}, 'relu1'));
  g.insertNode(makeNode('Conv', ['r1', 'W2'], ['c2'], { pads }, 'conv2'));
  let skip = 'x';
  if (stride === 2) {
    g.initializers.set('W3', new Tensor('float32', u(C * C, 0.5), [C, C, 1, 1]));
    g.insertNode(makeNode('Conv', ['x', 'W3'], ['c3'], { strides: st }, 'conv3'));
    skip = 'c3';
  }
  g.insertNode(makeNode('Add', ['c2', skip], ['s'], {}, 'add'));
  g.insertNode(makeNode('Relu', ['s'], ['y'], {}, 'relu2'));
  return wrap(g);
}

/**
 * A MobileNetV3 inverted residual: x [1, C, S, S] -> expand 1x1 (2C) -> HardSwish -> depthwise 3x3 ->
 * HardSwish -> squeeze-excitation (GlobalAveragePool -> 1x1 -> Relu -> 1x1 -> HardSigmoid -> Mul)
 * -> project 1x1 (C) -> Add(x).
 */
function invertedResidual(C: number, S: number, seed: number): Model {
  const q = rng(seed);
  const u = (n: number, a: number) => Float32Array.from({ length: n }, () => (q() * 2 - 1) * a);
  const E = 2 * C;
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, C, S, S] }], outputs: [{ name: 's', dtype: 'float32' }] });
  const w = (name: string, dims: number[], a: number) =>
    g.initializers.set(
      name,
      new Tensor(
        'float32',
        u(
          dims.reduce((x, y) => x * y, 1),
          a,
        ),
        dims,
      ),
    );
  w('We', [E, C, 1, 1], 1);
  w('Be', [E], 0.5);
  w('Wd', [E, 1, 3, 3], 1);
  w('W1', [2, E, 1, 1], 1);
  w('W2', [E, 2, 1, 1], 1);
  w('B2', [E], 0.5);
  w('Wp', [C, E, 1, 1], 0.5);
  const pads = { type: 'ints' as const, value: [1, 1, 1, 1] };
  g.insertNode(makeNode('Conv', ['x', 'We', 'Be'], ['e'], {}, 'expand'));
  g.insertNode(makeNode('HardSwish', ['e'], ['eh'], {}, 'hs1'));
  g.insertNode(makeNode('Conv', ['eh', 'Wd'], ['dw'], { pads, group: { type: 'int', value: E } }, 'depthwise'));
  g.insertNode(makeNode('HardSwish', ['dw'], ['dh'], {}, 'hs2'));
  g.insertNode(makeNode('GlobalAveragePool', ['dh'], ['gp'], {}, 'gap'));
  g.insertNode(makeNode('Conv', ['gp', 'W1'], ['s1'], {}, 'se1'));
  g.insertNode(makeNode('Relu', ['s1'], ['s1r'], {}, 'serelu'));
  g.insertNode(makeNode('Conv', ['s1r', 'W2', 'B2'], ['s2'], {}, 'se2'));
  g.insertNode(makeNode('HardSigmoid', ['s2'], ['gate'], { alpha: { type: 'float', value: 1 / 6 } }, 'hsig'));
  g.insertNode(makeNode('Mul', ['dh', 'gate'], ['m'], {}, 'scale'));
  g.insertNode(makeNode('Conv', ['m', 'Wp'], ['p'], {}, 'project'));
  g.insertNode(makeNode('Add', ['p', 'x'], ['s'], {}, 'add'));
  return wrap(g);
}

/** Central differences against BlockNet's gradients, for every 3rd weight of every layer of the block. */
function checkGradients(g: Graph, dims: number[], seed: number): number {
  const [b] = findBlocks(
    g,
    g.nodes.filter((n) => n.opType === 'Conv'),
  );
  const net = new BlockNet(b, g.initializers, dims, getBackend('js'));
  const q = rng(seed);
  const x = Float32Array.from({ length: dims[0] * dims[1] * dims[2] }, () => q() * 2 - 1);
  const t = Float32Array.from({ length: net.outSize }, () => q() * 2 - 1);
  const wt = new Map(b.layers.map((l) => [l, Float32Array.from(g.initializers.get(l.inputs[1])!.data as Float32Array)] as const));
  const vals = new Map<string, Float32Array>();
  const loss = () => net.forward(x, wt, vals).reduce((e, v, i) => e + (v - t[i]) ** 2, 0);
  const y = net.forward(x, wt, vals);
  const grads = new Map(b.layers.map((l) => [l, new Float32Array(wt.get(l)!.length)] as const));
  net.backward(
    y.map((v, i) => 2 * (v - t[i])),
    wt,
    vals,
    grads,
  );
  let checked = 0;
  for (const l of b.layers)
    for (let i = 0; i < wt.get(l)!.length; i += 3) {
      const w = wt.get(l)!,
        o = w[i],
        h = 1e-3;
      w[i] = o + h;
      const lp = loss();
      w[i] = o - h;
      const lm = loss();
      w[i] = o;
      // Central differences of a piecewise smooth loss: agree unless the step crosses a kink (h small enough here).
      const fd = (lp - lm) / (2 * h),
        an = grads.get(l)![i];
      expect(Math.abs(an - fd), `${l.name} w[${i}]: ${an} vs ${fd}`).toBeLessThan(2e-2 * (1 + Math.abs(an)));
      checked++;
    }
  return checked;
}

describe('adaround, block reconstruction (BRECQ)', () => {
  it('finds residual blocks (identity and conv shortcut), not when an inner value is read outside', () => {
    const id = residual(4, 6, 1, 1).graph;
    const [b] = findBlocks(
      id,
      id.nodes.filter((n) => n.opType === 'Conv'),
    );
    expect(b.input).toBe('x');
    expect(b.nodes.map((n) => n.name)).toEqual(['conv1', 'relu1', 'conv2']);
    const sc = residual(4, 6, 2, 1).graph;
    const blocks = findBlocks(
      sc,
      sc.nodes.filter((n) => n.opType === 'Conv'),
    );
    expect(blocks.map((x) => x.layers.map((n) => n.name).sort())).toEqual([['conv1', 'conv2', 'conv3']]);
    id.outputs.push({ name: 'r1', dtype: 'float32' });
    expect(
      findBlocks(
        id,
        id.nodes.filter((n) => n.opType === 'Conv'),
      ),
    ).toEqual([]);
  });

  it('backpropagates through the block exactly (gradients match finite differences)', () => {
    expect(checkGradients(residual(3, 5, 1, 2).graph, [3, 5, 5], 3)).toBeGreaterThan(50);
    expect(checkGradients(residual(3, 5, 2, 2).graph, [3, 5, 5], 3)).toBeGreaterThan(50);
    // Depthwise, HardSwish, squeeze-excitation (GlobalAveragePool, HardSigmoid, a broadcast Mul).
    const ir = invertedResidual(3, 5, 6).graph;
    const [b] = findBlocks(
      ir,
      ir.nodes.filter((n) => n.opType === 'Conv'),
    );
    expect(b.layers.map((n) => n.name)).toEqual(['expand', 'depthwise', 'se1', 'se2', 'project']);
    expect(b.input).toBe('x');
    expect(checkGradients(ir, [3, 5, 5], 7)).toBeGreaterThan(20);
  });

  it("mode 'block' lowers the block output MSE (held-out data) below nearest rounding, deterministically", async () => {
    const m = residual(8, 8, 1, 4);
    const q = rng(5);
    const data = (n: number) =>
      Array.from({ length: n }, () => ({
        x: new Tensor(
          'float32',
          Float32Array.from({ length: 8 * 64 }, () => q()),
          [1, 8, 8, 8],
        ),
      }));
    const calib = data(16),
      held = data(16);
    const f = await InferenceSession.create(m, { runInWorker: false });
    const ref = held.map((x) => Float32Array.from(f.runSync(x, { outputs: ['s'] }).s.data as Float32Array));
    const blockMse = async (mm: Model) => {
      const s = await InferenceSession.create(mm, { runInWorker: false });
      return mse(
        ref,
        held.map((x) => Float32Array.from(s.runSync(x, { outputs: ['s'] }).s.data as Float32Array)),
      );
    };
    const near = await quantize(m, { ...base, calibration: calib });
    const opts = { ...base, calibration: calib, passes: ['adaround'], passOptions: { adaround: { mode: 'block', iterations: 800 } } };
    const blk = await quantize(m, opts);
    const rep = blk.report.passes.find((p) => p.pass === 'adaround')!;
    expect(rep.changed).toBe(2);
    expect(rep.details).toEqual([
      expect.stringMatching(
        /^block Conv node 'conv1' \+ Conv node 'conv2' -> Add node 'add': block output MSE .* \(nearest\) -> .* \(adaround\) on 16 images/,
      ),
    ]);
    expect(await blockMse(blk.model)).toBeLessThan(0.75 * (await blockMse(near.model)));
    const again = await quantize(m, opts);
    for (const l of ['conv1', 'conv2']) expect([...intWeight(again.model, l)]).toEqual([...intWeight(blk.model, l)]);
    expectFinite(blk.model);
    const zero = await quantize(m, { ...opts, passOptions: { adaround: { mode: 'block', iterations: 0 } } });
    expect(zero.report.passes.find((p) => p.pass === 'adaround')!.skipped).toEqual([
      "block Conv node 'conv1' + Conv node 'conv2' -> Add node 'add': option 'iterations' is 0; nearest rounding kept",
    ]);
  }, 20000);
});

const mnist = fixture('models', 'mnist-8', 'model.onnx');
const images = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');

describe.skipIf(!(mnist && images))('adaround on mnist-8', () => {
  it('--adaround on the CLI: int4 per-channel, every layer optimised, options from flags over --config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-adaround-'));
    const out = join(dir, 'q.onnx'),
      rep = join(dir, 'r.json');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const args = [mnist!, '-o', out, '--calib', images!, '--samples', '30', '--weight-bits', '4', '--report', rep, '--quiet'];
      expect(await quantizeMain([...args, '--adaround', '--adaround-iters', '200', '--adaround-seed', '3'])).toBe(0);
      await expect(quantizeMain([...args, '--adaround-iters', '5'])).rejects.toThrow(/need --adaround/);
    } finally {
      log.mockRestore();
    }
    const { readFileSync } = await import('node:fs');
    const report = JSON.parse(readFileSync(rep, 'utf8'));
    expect(report.options.passes).toEqual(['adaround']);
    expect(report.options.passOptions.adaround).toEqual({ iterations: 200, seed: 3 });
    const p = report.passes.find((x: { pass: string }) => x.pass === 'adaround');
    expect(p.changed).toBe(3);
    const q = loadModel(out);
    expectFinite(q);
    expect(JSON.parse(q.metadata.get('onnx_ptq.passes')!)).toContain('adaround');
    expect(readIdx(images!).dims[0]).toBe(10000);
  }, 30000);
});
