// A BERT-style encoder (test/bert-model.ts: embedding Gather, 2 post-LN layers, 4 heads, LayerNorm,
// erf GELU; seeded random weights) quantized with defaults runs integer-only: no float node on any
// backend, the same bits on every backend, close to float and to onnxruntime on the same QDQ file
// (issue 13). Both export styles: decomposed LayerNorm (opset 13) and LayerNormalization (opset 17).
import * as ort from 'onnxruntime-node';
import { ORT_EXACT_INTEGER, ortExactModel } from '../src/ptq/ort-options.js';
import { describe, expect, it } from 'vitest';
import { Graph, makeNode } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { InferenceSession } from '../src/runtime/session.js';
import { modelToBytes } from '../src/onnx/io.js';
import { loadedBackends } from './backends.js';
import { bertEncoder, bertFeeds, SMALL_BERT } from './bert-model.js';
import { model, sqnr } from './passes-helpers.js';

const calibration = Array.from({ length: 16 }, (_, i) => bertFeeds(i));

describe('BERT-style encoder, integer-only', () => {
  for (const style of ['opset13', 'opset17'] as const) {
    it(`${style}: 0 float nodes on every backend, one set of bits, close to float and to onnxruntime`, async () => {
      const { model: q } = await quantize(bertEncoder(style), { calibration });
      const held = [100, 101, 102].map((i) => bertFeeds(i));
      const outs: Float32Array[][] = [];
      for (const b of loadedBackends) {
        // strictInteger: a float fallback would be an error naming the node.
        const s = await IntegerSession.create(q, { backend: b.name, runInWorker: false, strictInteger: true });
        const kernels = new Set(s.loweringReport().map((e) => e.kernel));
        for (const k of ['qgemm', 'layernorm']) expect(kernels.has(k), k).toBe(true);
        outs.push(held.map((f) => Float32Array.from(s.runSync(f).last_hidden_state!.data as Float32Array)));
        s.release();
      }
      for (let k = 1; k < outs.length; k++) expect(outs[k], loadedBackends[k]!.name).toEqual(outs[0]);
      const f = await InferenceSession.create(bertEncoder(style));
      const o = await ort.InferenceSession.create(modelToBytes(ortExactModel(q)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER });
      let oursDb = 0,
        ortDb = 0;
      for (let i = 0; i < held.length; i++) {
        const want = (await f.run(held[i]!)).last_hidden_state!.data as Float32Array;
        // Measured 28.7 dB for both styles (one graph after the LayerNorm and GELU fusions); 26.9 and 28.2 dB unfused.
        expect(sqnr(want, outs[0]![i]!), `sample ${i}`).toBeGreaterThan(24);
        const ids = held[i]!.input_ids;
        const r = (await o.run({ input_ids: new ort.Tensor('int64', ids.data as BigInt64Array, [...ids.dims]) })).last_hidden_state!
          .data as Float32Array;
        // onnxruntime runs the float ops between DQ and Q in float: its roundings differ from ours at
        // every step, so the two sit apart by about as much as each sits from float; ours must be no
        // further from float than onnxruntime's run of the same file, on average over the samples (less 1 dB).
        expect(sqnr(r, outs[0]![i]!), `sample ${i} vs onnxruntime`).toBeGreaterThan(24);
        oursDb += sqnr(want, outs[0]![i]!) / held.length;
        ortDb += sqnr(want, r) / held.length;
      }
      expect(oursDb).toBeGreaterThan(ortDb - 1);
    });
  }

  it('the embedding table is quantized with the Gather output parameters and covers rows calibration never saw', async () => {
    // Calibration uses token ids below 8 only; row 50 holds the table's largest value.
    const m = bertEncoder('opset17', { ...SMALL_BERT, layers: 0 });
    const table = m.graph.initializers.get(m.graph.nodes.find((n) => n.opType === 'Gather')!.inputs[0]!)!;
    (table.data as Float32Array)[50 * SMALL_BERT.hidden + 3] = 4;
    const low = (i: number) => ({
      input_ids: new Tensor(
        'int64',
        BigInt64Array.from({ length: SMALL_BERT.seq }, (_, j) => BigInt((i + j) % 8)),
        [1, SMALL_BERT.seq],
      ),
    });
    const { model: q } = await quantize(m, { calibration: [0, 1, 2, 3].map(low) });
    const gather = q.graph.nodes.find((n) => n.opType === 'Gather')!;
    const dq = q.graph.producerOf(gather.inputs[0]!)!;
    expect(dq.opType).toBe('DequantizeLinear');
    const outQ = q.graph.consumersOf(gather.outputs[0]!)[0]!;
    expect(outQ.opType).toBe('QuantizeLinear');
    // One set of parameters on both sides: the Gather moves bytes.
    for (const k of [1, 2])
      expect(Array.from(q.graph.initializers.get(dq.inputs[k]!)!.data as ArrayLike<number>)).toEqual(
        Array.from(q.graph.initializers.get(outQ.inputs[k]!)!.data as ArrayLike<number>),
      );
    const scale = (q.graph.initializers.get(dq.inputs[1]!)!.data as Float32Array)[0]!;
    const zp = (q.graph.initializers.get(dq.inputs[2]!)!.data as Int8Array)[0]!;
    const qmax = q.graph.initializers.get(dq.inputs[2]!)!.dtype === 'int8' ? 127 : 255;
    expect((qmax - zp) * scale).toBeGreaterThanOrEqual(4 - scale / 2);
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false, strictInteger: true });
    expect(s.loweringReport().find((e) => e.node === gather.name)!.kernel).toMatch(/8-bit data movement/);
    s.release();
  });

  it('activation16 on tensors of LayerNormalization, Softmax or a MatMul of two activations keeps them 8-bit with a warning; the rest go 16-bit, 0 float nodes', async () => {
    // add_63: a LayerNormalization input; div_46: Softmax's; transpose_19 (alias of add_14): an input
    // of the attention MatMul of two activations; add_61 and matmul_70 have 16-bit integer forms.
    const { model: q, report } = await quantize(bertEncoder('opset17'), {
      calibration: calibration.slice(0, 8),
      activation16: ['add_63', 'div_46', 'transpose_19', 'add_61', 'matmul_70'],
    });
    const narrowed = report.warnings.filter((w) => w.startsWith('activation16:'));
    for (const [t, op] of [
      ['add_14', 'MatMul'],
      ['div_46', 'Softmax'],
      ['add_63', 'LayerNormalization'],
    ])
      expect(
        narrowed.some((w) => w.includes(`'${t}' stays 8-bit`) && w.includes(`(${op})`)),
        t,
      ).toBe(true);
    expect(narrowed).toHaveLength(3);
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false, strictInteger: true });
    const rep = s.loweringReport();
    for (const [node, kernel] of [
      ['Add_node_62', 'qadd16'],
      ['MatMul_node_71', 'qconv16'],
    ]) {
      const e = rep.find((r) => r.node === node)!;
      expect(e.kernel, node).toBe(kernel);
      expect(e.reason, node).toMatch(/16-bit out/);
    }
    s.release();
  });

  it('activationBits 16: the tensors kept 8-bit get 8-bit parameters (the QDQ file stays close to float), one set of bits', async () => {
    const { model: q, report } = await quantize(bertEncoder('opset17'), { calibration: calibration.slice(0, 8), activationBits: 16 });
    expect(report.warnings.filter((w) => w.startsWith('activation16:')).length).toBeGreaterThan(0);
    // A Softmax output kept 8-bit is uint8 over [0, 1]: scale 1/255 (it had 16-bit parameters in an
    // 8-bit type, 1/65535, which saturated every probability above 0.004).
    const sm = q.graph.nodes.find((n) => n.opType === 'QuantizeLinear' && q.graph.producerOf(n.inputs[0]!)?.opType === 'Softmax')!;
    expect(q.graph.initializers.get(sm.inputs[2]!)!.dtype).toBe('uint8');
    expect((q.graph.initializers.get(sm.inputs[1]!)!.data as Float32Array)[0]).toBeCloseTo(1 / 255, 8);
    const want = (await (await InferenceSession.create(bertEncoder('opset17'))).run(bertFeeds(100))).last_hidden_state!
      .data as Float32Array;
    const sim = (await (await InferenceSession.create(q)).run(bertFeeds(100))).last_hidden_state!.data as Float32Array;
    expect(sqnr(want, sim)).toBeGreaterThan(24);
    const outs: Float32Array[] = [];
    for (const backend of loadedBackends) {
      const s = await IntegerSession.create(q, { backend: backend.name, runInWorker: false });
      // The embedding Gathers have no 16-bit form yet (8-bit data movement only): they run in float.
      expect(
        new Set(
          s
            .loweringReport()
            .filter((e) => e.execution === 'float')
            .map((e) => e.opType),
        ),
      ).toEqual(new Set(['Gather']));
      outs.push(s.runSync(bertFeeds(100)).last_hidden_state!.data as Float32Array);
      s.release();
    }
    expect(sqnr(want, outs[0]!)).toBeGreaterThan(24);
    for (const o of outs.slice(1)) expect(o).toEqual(outs[0]);
  });

  it('Div by a per-channel constant is not a table: it stays float with its reason', async () => {
    const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [2, 4] }], outputs: [{ name: 'y', dtype: 'float32' }] });
    g.initializers.set(
      'w',
      new Tensor(
        'float32',
        Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)),
        [4, 4],
      ),
    );
    g.initializers.set('c', new Tensor('float32', Float32Array.of(1, 2, 3, 4), [4]));
    g.initializers.set('k', new Tensor('float32', Float32Array.of(3), []));
    g.nodes.push(makeNode('MatMul', ['x', 'w'], ['h'], {}, 'mm'));
    g.nodes.push(makeNode('Div', ['h', 'k'], ['hk'], {}, 'by_scalar'));
    g.nodes.push(makeNode('Div', ['hk', 'c'], ['y'], {}, 'by_channel'));
    const feeds = (i: number) => ({
      x: new Tensor(
        'float32',
        Float32Array.from({ length: 8 }, (_, j) => Math.cos(i + j)),
        [2, 4],
      ),
    });
    const { model: q } = await quantize(model(g, 13), { calibration: [0, 1, 2].map(feeds) });
    const s = await IntegerSession.create(q, { backend: 'js', runInWorker: false });
    const rep = s.loweringReport();
    expect(rep.find((e) => e.node === 'by_scalar')!.execution).toBe('integer');
    expect(rep.find((e) => e.node === 'by_channel')!.execution).toBe('float');
    s.release();
  });
});
