// A BERT-style encoder for the transformer tests (issue 13), built node by node with seeded random
// weights: token embedding Gather + position embedding, LayerNorm, then `layers` post-LN encoder
// layers (4-head self-attention, residual, LayerNorm, GELU feed-forward, residual, LayerNorm).
// Two export styles: 'opset13' writes what torch.onnx wrote below opset 17 (decomposed LayerNorm,
// erf GELU, Div by sqrt(head size)); 'opset17' writes LayerNormalization nodes (and still the erf
// GELU, which has one op only from opset 20).
import { Graph, makeNode, type Model } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { rng } from './backends.js';
import { model } from './passes-helpers.js';

export interface BertShape {
  vocab: number;
  seq: number;
  hidden: number;
  heads: number;
  ff: number;
  layers: number;
}

export const SMALL_BERT: BertShape = { vocab: 96, seq: 16, hidden: 32, heads: 4, ff: 64, layers: 2 };

export function bertEncoder(style: 'opset13' | 'opset17', shape: BertShape = SMALL_BERT, seed = 7): Model {
  const { vocab, seq, hidden: H, heads, ff, layers } = shape;
  const hd = H / heads;
  const r = rng(seed);
  const g = new Graph({
    inputs: [{ name: 'input_ids', dtype: 'int64', shape: [1, seq] }],
    outputs: [{ name: 'last_hidden_state', dtype: 'float32' }],
  });
  let k = 0;
  const name = (base: string) => `${base}_${k++}`;
  const f32 = (base: string, dims: number[], gen: () => number) => {
    const n = name(base);
    g.initializers.set(n, new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, gen), dims));
    return n;
  };
  const i64 = (base: string, v: number[]) => {
    const n = name(base);
    g.initializers.set(n, new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]));
    return n;
  };
  const gauss = (sd: number) => () => {
    // Box-Muller on the seeded generator.
    const u = Math.max(1e-12, r()),
      v = r();
    return sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const node = (op: string, inputs: string[], attrs: Record<string, unknown> = {}) => {
    const out = name(op.toLowerCase());
    const a = Object.fromEntries(
      Object.entries(attrs).map(([key, v]) => [
        key,
        Array.isArray(v)
          ? { type: 'ints', value: v }
          : typeof v === 'string'
            ? { type: 'string', value: v }
            : Number.isInteger(v)
              ? { type: 'int', value: v }
              : { type: 'float', value: v },
      ]),
    );
    g.nodes.push(makeNode(op, inputs, [out], a as never, name(`${op}_node`)));
    return out;
  };
  const scalar = (v: number) => f32('c', [], () => v);
  const linear = (x: string, n: number, m: number) =>
    node('Add', [node('MatMul', [x, f32('W', [n, m], gauss(1 / Math.sqrt(n)))]), f32('b', [m], gauss(0.05))]);
  const layerNorm = (x: string) => {
    const gamma = f32('ln_gamma', [H], () => 0.8 + 0.4 * r()),
      beta = f32('ln_beta', [H], gauss(0.1));
    if (style === 'opset17') return node('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: 1e-12 });
    const axes = { axes: [-1] };
    const mean = node('ReduceMean', [x], axes);
    const d = node('Sub', [x, mean]);
    const v = node('ReduceMean', [node('Pow', [d, scalar(2)])], axes);
    const n = node('Div', [d, node('Sqrt', [node('Add', [v, scalar(1e-12)])])]);
    return node('Add', [node('Mul', [n, gamma]), beta]);
  };
  const gelu = (x: string) =>
    node('Mul', [node('Mul', [x, node('Add', [node('Erf', [node('Div', [x, scalar(Math.SQRT2)])]), scalar(1)])]), scalar(0.5)]);

  const emb = node('Gather', [f32('word_embeddings', [vocab, H], gauss(0.5)), 'input_ids'], { axis: 0 });
  let h = layerNorm(node('Add', [emb, f32('position_embeddings', [seq, H], gauss(0.2))]));
  for (let l = 0; l < layers; l++) {
    const heads4 = (x: string, perm: number[]) => node('Transpose', [node('Reshape', [x, i64('shape', [1, seq, heads, hd])])], { perm });
    const q = heads4(linear(h, H, H), [0, 2, 1, 3]);
    const kt = heads4(linear(h, H, H), [0, 2, 3, 1]);
    const v = heads4(linear(h, H, H), [0, 2, 1, 3]);
    const scores = node('Div', [node('MatMul', [q, kt]), scalar(Math.sqrt(hd))]);
    const ctx = node('MatMul', [node('Softmax', [scores], { axis: -1 }), v]);
    const merged = node('Reshape', [node('Transpose', [ctx], { perm: [0, 2, 1, 3] }), i64('shape', [1, seq, H])]);
    h = layerNorm(node('Add', [h, linear(merged, H, H)]));
    h = layerNorm(node('Add', [h, linear(gelu(linear(h, H, ff)), ff, H)]));
  }
  g.nodes.push(makeNode('Identity', [h], ['last_hidden_state'], {}, 'output'));
  return model(g, style === 'opset17' ? 17 : 13);
}

/** Token ids for sample `i`: a seeded sequence over the vocabulary. */
export function bertFeeds(i: number, shape: BertShape = SMALL_BERT): { input_ids: Tensor } {
  const r = rng(1000 + i);
  return {
    input_ids: new Tensor(
      'int64',
      BigInt64Array.from({ length: shape.seq }, () => BigInt(Math.floor(r() * shape.vocab))),
      [1, shape.seq],
    ),
  };
}
