// Shared helpers of the graph-pass tests: model wrappers, float runs, error measures.
import { Graph, makeNode, type Model, type Node } from '../src/ir/graph.js';
import { Tensor } from '../src/tensor.js';
import { InferenceSession, cloneModel } from '../src/runtime/session.js';
import { layerWeightFakeQuant } from '../src/ptq/qdq-export.js';
import { rng } from './backends.js';

export const r = rng(7);
export const rand = (n: number, s = 1, o = 0) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s + o);

export function model(g: Graph, opset = 13): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: opset }],
    producerName: 't',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: g,
  };
}

export async function run(m: Model, feeds: Record<string, Tensor>): Promise<Float32Array> {
  const s = await InferenceSession.create(m);
  return s.runSync(feeds)[s.outputNames[0]].data as Float32Array;
}

/** max |a - b| / max |a|: relErr with a as the reference. */
export function maxRelErr(a: Float32Array, b: Float32Array): number {
  return relErr(b, a);
}

/**
 * max |a - b| / max(floor, max |b|): the worst difference relative to the reference's largest
 * magnitude (floor 1 makes it absolute for references below 1). Different lengths are an error.
 * No vitest import here: benchmarks import this module's neighbours outside the runner.
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  if (a.length !== b.length) throw new Error(`relErr: ${a.length} values against ${b.length}`);
  let d = 0,
    m = floor;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** Signal-to-quantization-noise ratio in dB. */
export function sqnr(ref: Float32Array, x: Float32Array): number {
  let s = 0,
    n = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] * ref[i];
    n += (ref[i] - x[i]) ** 2;
  }
  return 10 * Math.log10(s / n);
}

/** A copy of `m` whose Conv/Gemm weights are replaced by their per-tensor (or per-channel) int8 fake-quantized values. */
export function fakeQuantWeights(m: Model, granularity: 'per-tensor' | 'per-channel' = 'per-tensor'): Model {
  const c = cloneModel(m);
  for (const n of c.graph.nodes) {
    if (n.opType !== 'Conv' && n.opType !== 'Gemm') continue;
    const w = c.graph.initializers.get(n.inputs[1])!;
    const fq = layerWeightFakeQuant(c.graph, n, { bits: 8, signed: true, symmetric: true, granularity, groupSize: 64 });
    const name = c.graph.uniqueName(`${n.inputs[1]}_fq`);
    c.graph.initializers.set(name, new Tensor('float32', fq, w.dims));
    n.inputs[1] = name;
  }
  return c;
}

/**
 * conv1 (3 -> 4 channels, 3x3) -> link -> conv2 (4 -> 2, 1x1). conv1's channel 0 has weights in
 * [-128, 128], channel 1 in (-0.5, 0.5) (the seeds' example), the others in [-1, 1].
 * `link`: 'none' | 'relu' | 'relu6' | 'maxpool'; `branch`: conv1's output has a second reader.
 */
export function twoConv(link: 'none' | 'relu' | 'relu6' | 'maxpool' = 'relu', branch = false): Model {
  const g = new Graph({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 8, 8] }],
    outputs: [{ name: 'y', dtype: 'float32' }, ...(branch ? [{ name: 'h', dtype: 'float32' as const }] : [])],
  });
  const w1 = new Float32Array(4 * 27);
  for (let i = 0; i < w1.length; i++) {
    const ch = Math.floor(i / 27);
    w1[i] = (r() * 2 - 1) * (ch === 0 ? 128 : ch === 1 ? 0.4999 : 1);
  }
  w1[0] = 128; // the channel reaches its bound
  g.initializers.set('w1', new Tensor('float32', w1, [4, 3, 3, 3]));
  g.initializers.set('b1', new Tensor('float32', rand(4, 0.5), [4]));
  // conv2 reads the large channel weakly and the small one strongly (what BN folding produces), so
  // every channel matters at the output.
  const w2 = rand(8, 1);
  for (const o of [0, 4]) {
    w2[o] /= 128;
    w2[o + 1] *= 4;
  }
  g.initializers.set('w2', new Tensor('float32', w2, [2, 4, 1, 1]));
  g.initializers.set('b2', new Tensor('float32', rand(2, 0.1), [2]));
  const nodes: Node[] = [makeNode('Conv', ['x', 'w1', 'b1'], ['h'], { pads: { type: 'ints', value: [1, 1, 1, 1] } }, 'conv1')];
  let v = 'h';
  if (link === 'relu') {
    nodes.push(makeNode('Relu', ['h'], ['a'], {}, 'relu'));
    v = 'a';
  }
  if (link === 'relu6') {
    g.initializers.set('lo', new Tensor('float32', Float32Array.of(0), []));
    g.initializers.set('hi', new Tensor('float32', Float32Array.of(6), []));
    nodes.push(makeNode('Clip', ['h', 'lo', 'hi'], ['a'], {}, 'relu6'));
    v = 'a';
  }
  if (link === 'maxpool') {
    nodes.push(makeNode('MaxPool', ['h'], ['a'], { kernel_shape: { type: 'ints', value: [2, 2] } }, 'pool'));
    v = 'a';
  }
  nodes.push(makeNode('Conv', [v, 'w2', 'b2'], ['y'], {}, 'conv2'));
  g.nodes.push(...nodes);
  return model(g);
}

export const xFeed = () => ({ x: new Tensor('float32', rand(3 * 64, 2), [1, 3, 8, 8]) });
