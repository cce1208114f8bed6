// Equalization across ReLU6 on a MobileNet-style model built here (the exporters' Conv -> Clip(0, 6)
// form, depthwise layers whose per-channel weight ranges differ 100x, as BN folding leaves them):
// per-tensor int8 loses the small channels, per-channel keeps them, and per-tensor + equalization
// comes within 1 dB of per-channel output SQNR; the equalized float model computes the same function.
// Measured with our float engine on the QDQ model (rounding Q/DQ), with onnxruntime-node on the same file,
// and with our integer executor, which fuses the Relu -> Min into the conv as a per-channel clamp.
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { Graph, makeNode, type Model, type Node } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { cloneModel, InferenceSession } from '../src/runtime/session.js';
import { EqualizationPass } from '../src/passes/equalization.js';
import { quantize } from '../src/ptq/quantize.js';
import { compareOutput, floatReference } from '../src/analysis/analyze.js';
import { modelToBytes } from '../src/onnx/io.js';
import { model, maxRelErr, run } from './passes-helpers.js';
import { loadedBackends, rng } from './backends.js';
import { IntegerSession } from '../src/runtime/integer/index.js';

const r = rng(1515);
const normal = () => {
  const u = Math.max(r(), 1e-12),
    v = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};
const randn = (n: number, s: number) => Float32Array.from({ length: n }, () => normal() * s);

/**
 * x [1,3,16,16] -> conv0 3x3 (16) -> ReLU6 -> dw1 3x3 (16, ranges 1..100x) -> ReLU6 -> pw1 1x1 (24)
 * -> ReLU6 -> dw2 3x3 (24, ranges 1..100x) -> ReLU6 -> pw2 1x1 (32) -> ReLU6 -> GlobalAveragePool
 * -> Flatten -> Gemm (10 logits).
 */
function mobilenetStyle(): Model {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 16, 16] }],
    outputs: [{ name: 'logits', dtype: 'float32' }],
  });
  g.initializers.set('zero', new Tensor('float32', Float32Array.of(0), []));
  g.initializers.set('six', new Tensor('float32', Float32Array.of(6), []));
  const nodes: Node[] = [];
  let v = 'x',
    cin = 3,
    k = 0;
  let gains: number[] | undefined;
  const conv = (cout: number, kernel: number, depthwise: boolean) => {
    const name = `conv${k++}`;
    const per = (depthwise ? 1 : cin) * kernel * kernel;
    // He-like init; depthwise channel c multiplied by 10^(2 u_c) / 10 (u_0 = 0, u_1 = 1: exactly 100x
    // apart); the next pointwise layer reads channel c with weights / gain_c, as BN folding leaves a
    // small-gamma channel that still carries signal.
    const w = randn(cout * per, Math.sqrt(2 / per));
    if (depthwise) {
      gains = Array.from({ length: cout }, (_, c) => 10 ** (2 * (c === 0 ? 0 : c === 1 ? 1 : r())) / 10);
      for (let c = 0; c < cout; c++) for (let j = 0; j < per; j++) w[c * per + j] *= gains[c];
    } else if (gains) {
      for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) w[o * cin + c] /= gains[c];
      gains = undefined;
    }
    g.initializers.set(`${name}_w`, new Tensor('float32', w, [cout, depthwise ? 1 : cin, kernel, kernel]));
    g.initializers.set(`${name}_b`, new Tensor('float32', randn(cout, 0.1), [cout]));
    const attrs = {
      pads: { type: 'ints' as const, value: kernel === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] },
      ...(depthwise ? { group: { type: 'int' as const, value: cout } } : {}),
    };
    nodes.push(makeNode('Conv', [v, `${name}_w`, `${name}_b`], [`${name}_y`], attrs, name));
    nodes.push(makeNode('Clip', [`${name}_y`, 'zero', 'six'], [`${name}_r6`], {}, `${name}_relu6`));
    v = `${name}_r6`;
    cin = cout;
  };
  conv(16, 3, false);
  conv(16, 3, true);
  conv(24, 1, false);
  conv(24, 3, true);
  conv(32, 1, false);
  nodes.push(makeNode('GlobalAveragePool', [v], ['gap'], {}, 'gap'));
  nodes.push(makeNode('Flatten', ['gap'], ['flat'], {}, 'flatten'));
  g.initializers.set('fc_w', new Tensor('float32', randn(10 * 32, Math.sqrt(1 / 32)), [10, 32]));
  g.initializers.set('fc_b', new Tensor('float32', randn(10, 0.1), [10]));
  nodes.push(makeNode('Gemm', ['flat', 'fc_w', 'fc_b'], ['logits'], { transB: { type: 'int', value: 1 } }, 'fc'));
  g.nodes.push(...nodes);
  return model(g);
}

// Smooth random images (a few low-frequency waves plus noise), values about in [-2, 2].
function image(): Record<string, Tensor> {
  const d = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const a = normal(),
      fx = r() * 0.6,
      fy = r() * 0.6,
      ph = r() * 6.28;
    for (let i = 0; i < 256; i++) d[c * 256 + i] = a * Math.sin(fx * (i % 16) + fy * Math.floor(i / 16) + ph) + 0.3 * normal();
  }
  return { x: new Tensor('float32', d, [1, 3, 16, 16]) };
}

describe('equalization across ReLU6 on a MobileNet-style model', () => {
  let float: Model;
  const calib = Array.from({ length: 32 }, image),
    evaluation = Array.from({ length: 48 }, image);
  let ref: Float32Array[];
  beforeAll(async () => {
    float = mobilenetStyle();
    ref = await floatReference(float, evaluation);
  });

  it('the pass crosses every Clip(0, 6) between layers and keeps the float function (1e-5 relative)', async () => {
    const eq = cloneModel(float);
    const rep = new EqualizationPass().apply(eq);
    expect(rep.changed).toBe(4); // conv0-dw1, dw1-pw1, pw1-dw2, dw2-pw2 (pw2 -> pool -> Gemm needs optimize_level 2)
    expect(rep.skipped).toEqual([]);
    expect(eq.graph.nodes.filter((n) => n.opType === 'Min')).toHaveLength(4);
    expect(eq.graph.nodes.filter((n) => n.opType === 'Clip')).toHaveLength(1);
    for (const x of evaluation.slice(0, 8)) expect(maxRelErr(await run(float, x), await run(eq, x))).toBeLessThan(1e-5);
    // The bounds bite: some channels of the float model do reach 6 on these images.
    const probe = cloneModel(float);
    probe.graph.outputs.push({ name: 'conv1_y', dtype: 'float32' });
    const s = await InferenceSession.create(probe);
    const y = s.runSync(evaluation[0], { outputs: ['conv1_y'] }).conv1_y.data as Float32Array;
    expect(y.some((t) => t > 6)).toBe(true);
  });

  it('per-tensor int8 + equalization is within 1 dB of per-channel output SQNR (per-tensor alone 3 dB or more below), in our engine and onnxruntime', async () => {
    ort.env.logLevel = 'error';
    const variants = {
      'per-channel': { weightGranularity: 'per-channel' as const },
      'per-tensor': { weightGranularity: 'per-tensor' as const },
      'per-tensor + equalization': { weightGranularity: 'per-tensor' as const, passes: ['equalization'] },
    };
    const res: Record<string, { ours: number; ort: number; agreement: number }> = {};
    const integer: Record<string, number> = {};
    for (const [name, o] of Object.entries(variants)) {
      const { model: q } = await quantize(float, { calibration: calib, ...o });
      if (name.includes('equalization')) {
        // Relu -> Min sits between the conv and one QuantizeLinear: the Min has no Q/DQ of its own.
        for (const m of q.graph.nodes.filter((n) => n.opType === 'Min')) {
          const relu = q.graph.nodes.find((n) => n.outputs[0] === m.inputs[0])!;
          expect(relu.opType).toBe('Relu');
          expect(q.graph.nodes.find((n) => n.outputs[0] === relu.inputs[0])!.opType).toBe('Conv');
          const readers = q.graph.consumersOf(m.outputs[0]);
          expect(readers.map((n) => n.opType)).toEqual(['QuantizeLinear']);
        }
      }
      // Our integer executor on the same file: Relu -> Min fuses into the conv as a per-channel
      // clamp (no float node), and every backend gives the same bits.
      const runs = (name.includes('equalization') ? loadedBackends : loadedBackends.slice(0, 1)).map((b) =>
        IntegerSession.createSync(q, { backend: b.name, runInWorker: false }),
      );
      if (name.includes('equalization')) {
        const rep = runs[0]!.loweringReport();
        expect(rep.filter((e) => e.execution === 'float')).toEqual([]);
        expect(rep.filter((e) => e.opType === 'Min').map((e) => e.execution)).toEqual(['fused', 'fused', 'fused', 'fused']);
        expect(rep.filter((e) => /per-channel clamp/.test(e.reason ?? ''))).toHaveLength(4);
      }
      let isig = 0,
        inoise = 0;
      evaluation.forEach((x, i) => {
        const outs = runs.map((r) => r.runSync(x).logits!.data as Float32Array);
        for (const o of outs.slice(1)) expect(Array.from(o)).toEqual(Array.from(outs[0]!));
        for (let j = 0; j < outs[0]!.length; j++) {
          isig += ref[i]![j]! ** 2;
          inoise += (ref[i]![j]! - outs[0]![j]!) ** 2;
        }
      });
      integer[name] = 10 * Math.log10(isig / inoise);
      const { sqnrDb: ours, agreement } = await compareOutput(q, evaluation, ref);
      const s = await ort.InferenceSession.create(modelToBytes(ortExactModel(q)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
      let sig = 0,
        noise = 0;
      for (let i = 0; i < evaluation.length; i++) {
        const x = evaluation[i].x;
        const y = (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) }))[s.outputNames[0]]
          .data as Float32Array;
        for (let j = 0; j < y.length; j++) {
          sig += ref[i][j] ** 2;
          noise += (ref[i][j] - y[j]) ** 2;
        }
      }
      res[name] = { ours, agreement, ort: 10 * Math.log10(sig / noise) };
    }
    console.log(
      `MobileNet-style (ReLU6, depthwise ranges 100x), output SQNR dB (our float engine on QDQ / onnxruntime): ${Object.entries(res)
        .map(([k, v]) => `${k} ${v.ours.toFixed(2)} / ${v.ort.toFixed(2)} (top-1 agreement ${(100 * v.agreement).toFixed(1)}%)`)
        .join('; ')}; integer executor: ${Object.entries(integer)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}`,
    );
    expect(integer['per-tensor']).toBeLessThan(integer['per-channel']! - 3);
    expect(integer['per-tensor + equalization']).toBeGreaterThan(integer['per-channel']! - 1);
    for (const k of ['ours', 'ort'] as const) {
      expect(res['per-tensor'][k], k).toBeLessThan(res['per-channel'][k] - 3);
      expect(res['per-tensor + equalization'][k], k).toBeGreaterThan(res['per-channel'][k] - 1);
    }
  });
});
