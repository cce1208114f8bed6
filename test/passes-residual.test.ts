// A residual test model (Conv-BN-ReLU blocks joined by Add), quantized with the sign map, joining
// nodes and single shift: it runs integer-only, bit-identical on every backend, close to float.
import { describe, expect, it } from 'vitest';
import { Graph, makeNode, type Model, type Node } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { JoiningNodesPass } from '../src/passes/joining-nodes.js';
import { SignMapPass, nonNegativeTensors } from '../src/passes/sign-map.js';
import type { QuantState } from '../src/passes/quant-state.js';
import { loadedBackends } from './backends.js';
import { model, rand, run, sqnr } from './passes-helpers.js';

/** x -> block1 = a; block2(a) = b; c = a + b; block3(c) = d; e = c + d; y = Conv1x1(e). */
function residual(): Model {
  const C = 6;
  const g = new Graph({ inputs: [{ name: 'x', dtype: 'float32', shape: [1, C, 10, 10] }], outputs: [{ name: 'y', dtype: 'float32' }] });
  const nodes: Node[] = [];
  const block = (i: number, x: string, y: string) => {
    g.initializers.set(`w${i}`, new Tensor('float32', rand(C * C * 9, 0.3), [C, C, 3, 3]));
    g.initializers.set(`b${i}`, new Tensor('float32', rand(C, 0.1), [C]));
    g.initializers.set(`g${i}`, new Tensor('float32', rand(C, 0.5, 1), [C]));
    g.initializers.set(`be${i}`, new Tensor('float32', rand(C, 0.2), [C]));
    g.initializers.set(`m${i}`, new Tensor('float32', rand(C, 0.2), [C]));
    g.initializers.set(`v${i}`, new Tensor('float32', rand(C, 0.3, 1), [C]));
    nodes.push(
      makeNode('Conv', [x, `w${i}`, `b${i}`], [`c${i}`], { pads: { type: 'ints', value: [1, 1, 1, 1] } }, `conv${i}`),
      makeNode('BatchNormalization', [`c${i}`, `g${i}`, `be${i}`, `m${i}`, `v${i}`], [`n${i}`], {}, `bn${i}`),
      makeNode('Relu', [`n${i}`], [y], {}, `relu${i}`),
    );
  };
  block(1, 'x', 'a');
  block(2, 'a', 'b');
  nodes.push(makeNode('Add', ['a', 'b'], ['c'], {}, 'add1'));
  block(3, 'c', 'd');
  nodes.push(makeNode('Add', ['c', 'd'], ['e'], {}, 'add2'));
  g.initializers.set('wo', new Tensor('float32', rand(3 * C, 0.5), [3, C, 1, 1]));
  nodes.push(makeNode('Conv', ['e', 'wo'], ['y'], {}, 'head'));
  g.nodes.push(...nodes);
  return model(g);
}

const feed = (seed: number) => ({ x: new Tensor('float32', rand(600, 1 + (seed % 3)), [1, 6, 10, 10]) });
const calib = Array.from({ length: 16 }, (_, i) => feed(i));
const evalSet = [0, 1, 2].map((i) => feed(100 + i));

function qdqParams(m: Model, t: string): [number, number] {
  const q = m.graph.nodes.find((n) => n.opType === 'QuantizeLinear' && n.outputs[0].startsWith(`${t}_quantized`))!;
  return [m.graph.initializers.get(q.inputs[1])!.data[0] as number, Number(m.graph.initializers.get(q.inputs[2])!.data[0])];
}

describe('joining nodes and sign map on a residual model', () => {
  it('the sign map proves ReLU outputs and sums of them non-negative', () => {
    const pos = nonNegativeTensors(residual().graph);
    for (const t of ['a', 'b', 'c', 'd', 'e']) expect(pos.has(t), t).toBe(true);
    for (const t of ['x', 'c1', 'n1', 'y']) expect(pos.has(t), t).toBe(false);
  });

  for (const passes of [
    ['sign-map', 'joining-nodes'],
    ['sign-map', 'joining-nodes', 'single-shift'],
    ['joining-nodes', 'single-shift'],
  ]) {
    it(`${passes.join(' + ')}: Add inputs share one scale, integer-only, same bits on every backend`, async () => {
      const f = residual();
      for (const signed of [false, true]) {
        const { model: q, report } = await quantize(f, {
          calibration: calib,
          passes,
          activationSigned: signed,
          activationSymmetric: signed,
        });
        // joining: both inputs of each Add on one scale (a, b and c, d)
        expect(qdqParams(q, 'a')).toEqual(qdqParams(q, 'b'));
        expect(qdqParams(q, 'c')).toEqual(qdqParams(q, 'd'));
        if (passes.includes('sign-map')) expect(qdqParams(q, 'a')[1]).toBe(0);
        if (passes.includes('single-shift')) {
          expect(q.metadata.get('onnx_ptq.requant_mode')).toBe('shift');
          const [sc] = qdqParams(q, 'c'),
            [sa] = qdqParams(q, 'a');
          expect(Number.isInteger(Math.log2(sc / sa))).toBe(true);
        }
        expect(report.passes.filter((p) => passes.includes(p.pass)).map((p) => p.pass)).toEqual(passes);
        const outs: Float32Array[][] = [];
        for (const b of loadedBackends) {
          const s = await IntegerSession.create(q, { backend: b.name as 'native' });
          const rep = s.loweringReport();
          expect(
            rep.filter((e) => e.execution === 'float'),
            `${b.name} ${JSON.stringify(rep)}`,
          ).toEqual([]);
          expect(rep.filter((e) => e.opType === 'Add').every((e) => e.execution === 'integer')).toBe(true);
          outs.push([0, 1, 2].map((i) => Float32Array.from(s.runSync(evalSet[i])[s.outputNames[0]].data as Float32Array)));
        }
        for (let k = 1; k < outs.length; k++)
          for (let i = 0; i < 3; i++) expect(Array.from(outs[k][i]), loadedBackends[k].name).toEqual(Array.from(outs[0][i]));
        let db = 0;
        for (let i = 0; i < 3; i++) db += sqnr(await run(f, evalSet[i]), outs[0][i]) / 3;
        console.log(
          `residual model, ${signed ? 'int8 symmetric' : 'uint8 asymmetric'} activations, ${passes.join(' + ')}: integer output SQNR ${db.toFixed(2)} dB (${loadedBackends.map((b) => b.name).join(', ')} identical)`,
        );
        expect(db).toBeGreaterThan(20);
      }
    }, 60_000);
  }

  it('Concat joined: inputs and output share parameters (identity copies), integer-only, same bits on every backend', async () => {
    const f = residual();
    const g = f.graph;
    // y = head(Concat(a, d)) instead of head(e): a 12-channel head
    g.nodes = g.nodes.filter((n) => n.name !== 'add2');
    g.nodes.splice(
      g.nodes.findIndex((n) => n.name === 'head'),
      0,
      makeNode('Concat', ['a', 'd'], ['e'], { axis: { type: 'int', value: 1 } }, 'cat'),
    );
    g.initializers.set('wo', new Tensor('float32', rand(3 * 12, 0.5), [3, 12, 1, 1]));
    const { model: q } = await quantize(f, { calibration: calib, passes: ['sign-map', 'joining-nodes', 'single-shift'] });
    expect(qdqParams(q, 'a')).toEqual(qdqParams(q, 'd'));
    expect(qdqParams(q, 'a')).toEqual(qdqParams(q, 'e'));
    const outs: Float32Array[] = [];
    for (const b of loadedBackends) {
      const s = await IntegerSession.create(q, { backend: b.name as 'native' });
      const rep = s.loweringReport();
      expect(rep.filter((e) => e.execution === 'float')).toEqual([]);
      expect(rep.find((e) => e.opType === 'Concat')!.execution).toBe('integer');
      outs.push(Float32Array.from(s.runSync(evalSet[0])[s.outputNames[0]].data as Float32Array));
    }
    for (let k = 1; k < outs.length; k++) expect(Array.from(outs[k]), loadedBackends[k].name).toEqual(Array.from(outs[0]));
    const db = sqnr(await run(f, evalSet[0]), outs[0]);
    console.log(`Concat model, sign-map + joining-nodes + single-shift: integer output SQNR ${db.toFixed(2)} dB`);
    expect(db).toBeGreaterThan(20);
  });

  it('joining-nodes refuses inputs of different 8-bit types, naming the pass and tensors', () => {
    const m = residual();
    const state: QuantState = {
      ranges: new Map([
        ['a', { min: 0, max: 1 }],
        ['b', { min: -1, max: 1 }],
      ]),
      aliases: new Map(),
      bits: 8,
      signed: true,
      symmetric: true,
      unsignedZero: new Set(['a']),
      params: new Map([
        ['a', { scale: 1 / 255, zeroPoint: 0, signed: false }],
        ['b', { scale: 1 / 127, zeroPoint: 0, signed: true }],
      ]),
      layers: [],
      weightScale: new Map(),
    };
    expect(() => new JoiningNodesPass({}, state).apply(m)).toThrow(/joining-nodes: tensors 'a', 'b' meet/);
    expect(() => new SignMapPass({}, state).apply(m)).toThrow(/sign-map: must run before/);
  });

  it('single-shift without joining-nodes on a model with Add names the pass and node', async () => {
    await expect(quantize(residual(), { calibration: calib, passes: ['single-shift'] })).rejects.toThrow(
      /single-shift: Add node 'add1'.*joining-nodes/,
    );
  });
});
