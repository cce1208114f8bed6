// SmoothQuantPass in TVM's style: before graph, expected graph (constants checked against
// s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)), the float function preserved, the cases where it must
// not fire (with the reason), and an end-to-end quantize() whose int8 SQNR it improves.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Model } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { InferenceSession, cloneModel } from '../src/runtime/session.js';
import { SmoothQuantPass } from '../src/passes/smooth-quant.js';
import { OnnxPtqError } from '../src/errors.js';
import { calibrate, quantize } from '../src/ptq/quantize.js';
import { checkPassList } from '../src/passes/pipeline.js';
import { maxRelErr, model, r, rand, sqnr } from './passes-helpers.js';

const T = 6,
  K = 8;
const int = (value: number) => ({ type: 'int' as const, value });
const f32 = (g: Graph, name: string, data: Float32Array, dims: number[]) => g.initializers.set(name, new Tensor('float32', data, dims));
const xFeed = (shape = [1, T, K]) => ({
  x: new Tensor(
    'float32',
    rand(
      shape.reduce((a, b) => a * b, 1),
      2,
    ),
    shape,
  ),
});

async function runAll(m: Model, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const s = await InferenceSession.create(m);
  const out = s.runSync(feeds);
  return Object.fromEntries(s.outputNames.map((n) => [n, out[n].data as Float32Array]));
}

/** max |value| per last-axis channel of `act` over `feeds` (the model with `act` exposed as an output). */
async function actRanges(m: Model, act: string, feeds: Record<string, Tensor>[]): Promise<Map<string, Float32Array>> {
  const c = cloneModel(m);
  c.graph.outputs.push({ name: act, dtype: 'float32' });
  const s = await InferenceSession.create(c);
  let out: Float32Array | undefined;
  for (const f of feeds) {
    const v = s.runSync(f)[act];
    const k = v.dims[v.dims.length - 1];
    out ??= new Float32Array(k);
    (v.data as Float32Array).forEach((x, i) => {
      out![i % k] = Math.max(out![i % k], Math.abs(x));
    });
  }
  return new Map([[act, out!]]);
}

const init = (m: Model, name: string) => m.graph.initializers.get(name)!;
const inputOf = (m: Model, node: string, i: number) => init(m, m.graph.nodes.find((n) => n.name === node)!.inputs[i]);

/** s_j from the formula, max|W_j| over row j of every reader weight ([K, N], or [N, K] when transposed). */
function scales(xmax: Float32Array, weights: { w: Tensor; trans?: boolean }[], alpha = 0.5): Float64Array {
  const wmax = new Float64Array(xmax.length);
  for (const { w, trans } of weights) {
    const d = w.data as Float32Array,
      b = w.dims[1];
    for (let i = 0; i < d.length; i++) {
      const j = trans ? i % b : Math.floor(i / b);
      wmax[j] = Math.max(wmax[j], Math.abs(d[i]));
    }
  }
  return Float64Array.from(xmax, (x, j) => (x > 0 && wmax[j] > 0 ? Math.max(x ** alpha / wmax[j] ** (1 - alpha), 1e-5) : 1));
}

function expectClose(got: Tensor, want: (i: number) => number): void {
  const d = got.data as Float32Array;
  for (let i = 0; i < d.length; i++) expect(d[i]).toBeCloseTo(want(i), 4);
}

async function expectSameFunction(before: Model, after: Model, shape = [1, T, K]): Promise<void> {
  for (let t = 0; t < 3; t++) {
    const x = xFeed(shape);
    const a = await runAll(before, x),
      b = await runAll(after, x);
    for (const k of Object.keys(a)) expect(maxRelErr(a[k], b[k])).toBeLessThan(1e-5);
  }
}

/**
 * x [1, T, K] -> LayerNormalization(gamma, beta) -> h -> MatMul(s) -> y... Channel 2 of gamma is 50x:
 * the outlier channel of h. `readers` MatMuls read h (q, k, v: the shared-scale case); `residual`
 * adds h to the first MatMul's output as well (post-LN BERT); `twin` adds a second LayerNorm sharing
 * gamma, whose output is a graph output.
 */
function lnModel(readers = 1, opts: { residual?: boolean; twin?: boolean } = {}): Model {
  const names = ['q', 'k', 'v'].slice(0, readers);
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, T, K] }],
    outputs: [
      ...names.map((n) => ({ name: `y_${n}`, dtype: 'float32' as const })),
      ...(opts.twin ? [{ name: 'z', dtype: 'float32' as const }] : []),
    ],
  });
  const gamma = rand(K, 0.5, 1);
  gamma[2] *= 50;
  f32(g, 'gamma', gamma, [K]);
  f32(g, 'beta', rand(K, 0.2), [K]);
  g.nodes.push(makeNode('LayerNormalization', ['x', 'gamma', 'beta'], ['h'], { axis: int(-1) }, 'ln'));
  names.forEach((n, i) => {
    // With the residual, q projects back to K channels so that the Add can read h too.
    const cols = opts.residual && i === 0 ? K : 4;
    const w = rand(K * cols, 1);
    // Each reader's largest row is another one, so the shared max matters.
    for (let c = 0; c < cols; c++) w[(i + 4) * cols + c] *= 6;
    f32(g, `w_${n}`, w, [K, cols]);
    const out = opts.residual && i === 0 ? 'p' : `y_${n}`;
    g.nodes.push(makeNode('MatMul', ['h', `w_${n}`], [out], {}, `mm_${n}`));
  });
  if (opts.residual) g.nodes.push(makeNode('Add', ['p', 'h'], ['y_q'], {}, 'residual'));
  if (opts.twin) g.nodes.push(makeNode('LayerNormalization', ['x', 'gamma'], ['z'], { axis: int(-1) }, 'ln2'));
  return model(g, 17);
}

const calib = (n = 6, shape = [1, T, K]) => Array.from({ length: n }, () => xFeed(shape));

describe('SmoothQuantPass', () => {
  it('LayerNormalization -> MatMul: gamma and beta divided by s, W rows multiplied, float function kept', async () => {
    const before = lnModel(1, { twin: true });
    const ranges = await actRanges(before, 'h', calib());
    const pass = new SmoothQuantPass({ verbose: true }, ranges);
    expect(pass.findSites(before).map((s) => [s.act, s.kind, s.readers.map((d) => d.name)])).toEqual([['h', 'layernorm', ['mm_q']]]);
    const after = cloneModel(before);
    const rep = pass.apply(after);
    expect(rep.changed).toBe(1);
    expect(rep.details[0]).toMatch(/'h' \(LayerNormalization node 'ln' -> MatMul node 'mm_q'\): 8 channels/);
    // expected graph: same nodes, new constants
    expect(after.graph.nodes.map((n) => n.opType)).toEqual(['LayerNormalization', 'MatMul', 'LayerNormalization']);
    const s = scales(ranges.get('h')!, [{ w: init(before, 'w_q') }]);
    expectClose(inputOf(after, 'ln', 1), (i) => (init(before, 'gamma').data as Float32Array)[i] / s[i]);
    expectClose(inputOf(after, 'ln', 2), (i) => (init(before, 'beta').data as Float32Array)[i] / s[i]);
    expectClose(inputOf(after, 'mm_q', 1), (i) => (init(before, 'w_q').data as Float32Array)[i] * s[Math.floor(i / 4)]);
    // the outlier channel gets the largest scale, and the balanced ranges come out equal (alpha 0.5)
    expect(s.indexOf(Math.max(...s))).toBe(2);
    // gamma is shared with ln2 (a graph output): copied, not edited in place
    expect(after.graph.nodes[2].inputs[1]).toBe('gamma');
    expect(init(after, 'gamma').data).toEqual(init(before, 'gamma').data);
    expect(after.graph.nodes[0].inputs[1]).not.toBe('gamma');
    // the unshared originals are gone
    expect(after.graph.initializers.has('beta')).toBe(false);
    expect(after.graph.initializers.has('w_q')).toBe(false);
    await expectSameFunction(before, after);
  });

  it('shared scale: one LayerNorm output feeding three MatMuls (Q/K/V), max|W_j| over all of them', async () => {
    const before = lnModel(3);
    const ranges = await actRanges(before, 'h', calib());
    const after = cloneModel(before);
    const rep = new SmoothQuantPass({}, ranges).apply(after);
    expect(rep.changed).toBe(1);
    expect(rep.skipped).toEqual([]);
    const s = scales(
      ranges.get('h')!,
      ['q', 'k', 'v'].map((n) => ({ w: init(before, `w_${n}`) })),
    );
    // rows 4, 5, 6 are each the largest in one reader only: the shared max sees them
    const single = scales(ranges.get('h')!, [{ w: init(before, 'w_q') }]);
    expect(s[5]).toBeLessThan(single[5] * 0.9);
    for (const n of ['q', 'k', 'v'])
      expectClose(inputOf(after, `mm_${n}`, 1), (i) => (init(before, `w_${n}`).data as Float32Array)[i] * s[Math.floor(i / 4)]);
    expectClose(inputOf(after, 'ln', 1), (i) => (init(before, 'gamma').data as Float32Array)[i] / s[i]);
    await expectSameFunction(before, after);
  });

  it('Mul + Add affine (scalar shift expanded to [K]) -> Gemm(transB=1) + MatMul on a 2-D activation', async () => {
    const g = new Graph({
      inputs: [{ name: 'x', dtype: 'float32', shape: [5, K] }],
      outputs: [
        { name: 'y1', dtype: 'float32' },
        { name: 'y2', dtype: 'float32' },
      ],
    });
    const c = rand(K, 0.5, 1);
    c[3] = 40;
    f32(g, 'c', c, [1, K]);
    f32(g, 'b', Float32Array.of(0.3), []);
    f32(g, 'wt', rand(3 * K, 1), [3, K]);
    f32(g, 'cb', rand(3, 0.1), [3]);
    f32(g, 'w2', rand(K * 2, 1), [K, 2]);
    g.nodes.push(
      makeNode('Tanh', ['x'], ['a'], {}, 'tanh'),
      makeNode('Mul', ['a', 'c'], ['m'], {}, 'scale'),
      makeNode('Add', ['b', 'm'], ['h'], {}, 'shift'),
      makeNode('Gemm', ['h', 'wt', 'cb'], ['y1'], { transB: int(1) }, 'fc1'),
      makeNode('MatMul', ['h', 'w2'], ['y2'], {}, 'fc2'),
    );
    const before = model(g, 13);
    const ranges = await actRanges(before, 'h', calib(6, [5, K]));
    const after = cloneModel(before);
    const rep = new SmoothQuantPass({ alpha: 0.7 }, ranges).apply(after);
    expect(rep.changed).toBe(1);
    const s = scales(ranges.get('h')!, [{ w: init(before, 'wt'), trans: true }, { w: init(before, 'w2') }], 0.7);
    expectClose(inputOf(after, 'scale', 1), (i) => c[i] / s[i]);
    const shift = inputOf(after, 'shift', 0);
    expect(shift.dims).toEqual([K]);
    expectClose(shift, (i) => 0.3 / s[i]);
    expectClose(inputOf(after, 'fc1', 1), (i) => (init(before, 'wt').data as Float32Array)[i] * s[i % K]);
    expectClose(inputOf(after, 'fc2', 1), (i) => (init(before, 'w2').data as Float32Array)[i] * s[Math.floor(i / 2)]);
    // Gemm's C is not touched by the reader side
    expect(inputOf(after, 'fc1', 2).data).toEqual(init(before, 'cb').data);
    await expectSameFunction(before, after, [5, K]);
    // a lone Mul by a constant absorbs it too
    const lone = cloneModel(before);
    lone.graph.nodes.splice(2, 1);
    for (const n of lone.graph.nodes) n.inputs = n.inputs.map((v) => (v === 'h' ? 'm' : v));
    const lr = await actRanges(lone, 'm', calib(6, [5, K]));
    const loneAfter = cloneModel(lone);
    expect(new SmoothQuantPass({}, lr).findSites(lone).map((x) => x.kind)).toEqual(['affine']);
    expect(new SmoothQuantPass({}, lr).apply(loneAfter).changed).toBe(1);
    await expectSameFunction(lone, loneAfter, [5, K]);
  });

  it('MatMul + bias Add producer: output columns and bias divided; a Gemm producer with C likewise', async () => {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, T, K] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    const w0 = rand(K * K, 1);
    for (let i = 0; i < K; i++) w0[i * K + 6] *= 30; // output column 6 is the outlier
    f32(g, 'w0', w0, [K, K]);
    f32(g, 'b0', rand(K, 0.5), [K]);
    f32(g, 'w1', rand(K * 3, 1), [K, 3]);
    g.nodes.push(
      makeNode('MatMul', ['x', 'w0'], ['m'], {}, 'proj'),
      makeNode('Add', ['m', 'b0'], ['h'], {}, 'bias'),
      makeNode('MatMul', ['h', 'w1'], ['y'], {}, 'out'),
    );
    const before = model(g, 13);
    const ranges = await actRanges(before, 'h', calib());
    const after = cloneModel(before);
    const sq = new SmoothQuantPass({}, ranges);
    expect(sq.findSites(before)[0].kind).toBe('linear');
    const rep = sq.apply(after);
    expect(rep.changed).toBe(1);
    // x (a graph input) feeds 'proj': reported, not smoothed
    expect(rep.skipped).toEqual([expect.stringMatching(/'x' \(read by MatMul node 'proj'\): not smoothed: it is a graph input/)]);
    const s = scales(ranges.get('h')!, [{ w: init(before, 'w1') }]);
    expectClose(inputOf(after, 'proj', 1), (i) => w0[i] / s[i % K]);
    expectClose(inputOf(after, 'bias', 1), (i) => (init(before, 'b0').data as Float32Array)[i] / s[i]);
    expectClose(inputOf(after, 'out', 1), (i) => (init(before, 'w1').data as Float32Array)[i] * s[Math.floor(i / 3)]);
    await expectSameFunction(before, after);

    // Gemm(transB = 1) producer with a one-value C (expanded), on a 2-D activation
    const g2 = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [4, K] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    f32(g2, 'w0', w0, [K, K]);
    f32(g2, 'c0', Float32Array.of(0.25), [1]);
    f32(g2, 'w1', rand(K * 3, 1), [K, 3]);
    g2.nodes.push(makeNode('Gemm', ['x', 'w0', 'c0'], ['h'], { transB: int(1) }, 'proj'), makeNode('Gemm', ['h', 'w1'], ['y'], {}, 'out'));
    const b2 = model(g2, 13);
    const r2 = await actRanges(b2, 'h', calib(6, [4, K]));
    const a2 = cloneModel(b2);
    expect(new SmoothQuantPass({}, r2).apply(a2).changed).toBe(1);
    const s2 = scales(r2.get('h')!, [{ w: init(b2, 'w1') }]);
    expectClose(inputOf(a2, 'proj', 1), (i) => w0[i] / s2[Math.floor(i / K)]);
    expect(inputOf(a2, 'proj', 2).dims).toEqual([K]);
    expectClose(inputOf(a2, 'proj', 2), (i) => 0.25 / s2[i]);
    await expectSameFunction(b2, a2, [4, K]);
  });

  it('does not fire when X is also read by a residual Add, is a graph input, or has no ranges; says why', async () => {
    // post-LN BERT: the LayerNorm output also feeds the residual
    const res = lnModel(1, { residual: true });
    const ranges = await actRanges(res, 'h', calib());
    const resAfter = cloneModel(res);
    const rep = new SmoothQuantPass({}, ranges).apply(resAfter);
    expect(rep.changed).toBe(0);
    expect(rep.skipped).toEqual([
      expect.stringMatching(/'h' \(read by MatMul node 'mm_q', Add node 'residual'\): not smoothed: Add node 'residual' also reads it/),
    ]);
    expect([...resAfter.graph.initializers.keys()].sort()).toEqual([...res.graph.initializers.keys()].sort());
    expect(inputOf(resAfter, 'ln', 1).data).toEqual(init(res, 'gamma').data);

    // X a graph input
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, T, K] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    f32(g, 'w', rand(K * 2), [K, 2]);
    g.nodes.push(makeNode('MatMul', ['x', 'w'], ['y'], {}, 'mm'));
    const inp = new SmoothQuantPass({}, new Map([['x', new Float32Array(K).fill(1)]])).apply(model(g));
    expect(inp.changed).toBe(0);
    expect(inp.skipped![0]).toMatch(/'x' \(read by MatMul node 'mm'\): not smoothed: it is a graph input: no node produces it/);

    // ranges missing: none at all, or none for h
    for (const rg of [undefined, new Map([['other', new Float32Array(K)]])]) {
      const m = lnModel(1);
      const rp = new SmoothQuantPass({}, rg).apply(m);
      expect(rp.changed).toBe(0);
      expect(rp.skipped).toEqual([
        expect.stringMatching(/'h' \(LayerNormalization node 'ln' -> MatMul node 'mm_q'\): not smoothed: no calibrated ranges/),
      ]);
      expect(m.graph.nodes[0].inputs[1]).toBe('gamma');
    }

    // X produced by a Relu, by a residual sum, or read as a graph output
    for (const [op, why] of [
      ['Relu', /Relu node 'act' cannot absorb 1\/s/],
      ['Add', /Add node 'act' adds two activations \(a residual sum\)/],
    ] as const) {
      const g3 = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, T, K] }], outputs: [{ name: 'y', dtype: 'float32' }] });
      f32(g3, 'w', rand(K * 2), [K, 2]);
      g3.nodes.push(makeNode(op, op === 'Add' ? ['x', 'x'] : ['x'], ['h'], {}, 'act'), makeNode('MatMul', ['h', 'w'], ['y'], {}, 'mm'));
      const rp = new SmoothQuantPass({}, new Map([['h', new Float32Array(K).fill(1)]])).apply(model(g3));
      expect(rp.changed).toBe(0);
      expect(rp.skipped![0]).toMatch(why);
    }
    const out = lnModel(1);
    out.graph.outputs.push({ name: 'h', dtype: 'float32' });
    const rp = new SmoothQuantPass({}, ranges).apply(out);
    expect(rp.changed).toBe(0);
    expect(rp.skipped![0]).toMatch(/not smoothed: it is a graph output/);
  });

  it('refuses bad options before touching the graph', () => {
    const m = lnModel(1);
    for (const [o, re] of [
      [{ alpha: 1.5 }, /smooth-quant: option 'alpha' must be a number in \[0, 1\], got 1.5/],
      [{ alpha: -0.1 }, /option 'alpha'/],
      [{ minScale: 0 }, /option 'minScale' must be a finite number > 0/],
      [{ verbose: 'yes' }, /option 'verbose'/],
      [{ beta: 1 }, /unknown option 'beta'/],
    ] as const) {
      let e: unknown;
      try {
        new SmoothQuantPass(o as never).apply(m);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(OnnxPtqError);
      expect((e as OnnxPtqError).code).toBe('INVALID_OPTION');
      expect(String((e as Error).message)).toMatch(re);
    }
    expect(m.graph.nodes[0].inputs[1]).toBe('gamma');
  });
});

/**
 * A transformer-like MLP block: x [1, 16, 32] -> LayerNorm (gamma's channel 5 is 50x: the outlier
 * channel of h, as in LLM activations) -> MatMul(W1) + b1 -> Relu -> MatMul(W2) -> y. W1's row 5 is
 * 50x smaller, as a trained model's would be, so every channel of h matters at the output.
 */
function mlpBlock(): Model {
  const D = 32,
    H = 64;
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, D] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  const gamma = rand(D, 0.3, 1);
  gamma[5] *= 50;
  f32(g, 'gamma', gamma, [D]);
  f32(g, 'beta', rand(D, 0.1), [D]);
  const w1 = rand(D * H, 0.3);
  for (let c = 0; c < H; c++) w1[5 * H + c] /= 50;
  f32(g, 'w1', w1, [D, H]);
  f32(g, 'b1', rand(H, 0.1), [H]);
  f32(g, 'w2', rand(H * D, 0.3), [H, D]);
  g.nodes.push(
    makeNode('LayerNormalization', ['x', 'gamma', 'beta'], ['h'], { axis: int(-1) }, 'ln'),
    makeNode('MatMul', ['h', 'w1'], ['m1'], {}, 'fc1'),
    makeNode('Add', ['m1', 'b1'], ['a1'], {}, 'fc1_bias'),
    makeNode('Relu', ['a1'], ['r1'], {}, 'act'),
    makeNode('MatMul', ['r1', 'w2'], ['y'], {}, 'fc2'),
  );
  return model(g, 17);
}

describe('smooth-quant in quantize()', () => {
  const feed = () => ({
    x: new Tensor(
      'float32',
      Float32Array.from({ length: 16 * 32 }, () => (r() * 2 - 1) * 3),
      [1, 16, 32],
    ),
  });

  it('improves the int8 output SQNR of a block with an outlier activation channel', async () => {
    const float = mlpBlock();
    const calibration = Array.from({ length: 16 }, feed);
    const evalSet = Array.from({ length: 8 }, feed);
    const measure = async (passes: string[]) => {
      const { model: q, report } = await quantize(float, { calibration, passes });
      let db = 0;
      for (const x of evalSet) db += sqnr((await runAll(float, x)).y, (await runAll(q, x)).y) / evalSet.length;
      return { db, report };
    };
    const base = await measure([]);
    const smooth = await measure(['smooth-quant']);
    const rep = smooth.report.passes.find((p) => p.pass === 'smooth-quant')!;
    expect(rep.changed).toBe(1);
    // the Relu output feeding fc2 is reported, not smoothed
    expect(rep.skipped).toEqual([expect.stringMatching(/'r1' \(read by MatMul node 'fc2'\): not smoothed: Relu node 'act' cannot absorb/)]);
    console.log(
      `outlier-channel MLP block, int8 QDQ output SQNR: ${base.db.toFixed(2)} dB without SmoothQuant, ${smooth.db.toFixed(2)} dB with`,
    );
    expect(smooth.db).toBeGreaterThan(base.db + 10);
  });

  it('runs in phase 0, in any order with layer-split and equalization', () => {
    expect(checkPassList(['equalization', 'smooth-quant', 'layer-split', 'bias-correction'])).toHaveLength(4);
    expect(checkPassList(['smooth-quant', 'equalization'])).toHaveLength(2);
    expect(() => checkPassList(['bias-correction', 'smooth-quant'])).toThrow(/pass 'smooth-quant' cannot run after 'bias-correction'/);
  });

  it('refuses without re-readable data, and with statistics (shards)', async () => {
    const float = mlpBlock();
    const e1 = await quantize(float, { weightOnly: true, passes: ['smooth-quant'] }).catch((x) => x);
    expect(e1).toBeInstanceOf(OnnxPtqError);
    expect(String(e1.message)).toMatch(/smooth-quant: needs calibration data/);
    const it = (function* () {
      yield* Array.from({ length: 4 }, feed);
    })();
    const e2 = await quantize(float, { calibration: it, passes: ['smooth-quant'] }).catch((x) => x);
    expect(String(e2.message)).toMatch(/^smooth-quant reads the calibration data twice/);
    const e3 = await calibrate(float, { calibration: Array.from({ length: 4 }, feed), passes: ['smooth-quant'] }).catch((x) => x);
    expect(e3.code).toBe('PASS_ERROR');
    expect(String(e3.message)).toMatch(/smooth-quant: .* cannot be sharded or taken from statistics/);
    const e4 = await quantize(float, {
      calibration: [feed()],
      passes: ['smooth-quant'],
      passOptions: { 'smooth-quant': { alpha: 2 } },
    }).catch((x) => x);
    expect(e4.code).toBe('INVALID_OPTION');
    expect(String(e4.message)).toMatch(/smooth-quant: option 'alpha'/);
  });
});
