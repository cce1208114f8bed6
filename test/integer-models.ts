// Hand-built QDQ models for the integer executor tests (Graph API only).
import { Tensor, type Attribute, type Model, type Node } from '../src/onnx-api.js';
import { Graph, makeNode } from '../src/tools.js';
import { rng } from './backends.js';

export function model(
  nodes: Node[],
  inits: [string, Tensor][],
  inputs: { name: string; dims: number[]; dtype?: 'float32' | 'uint8' | 'int8' }[],
  outputs: string[],
  opset = 14,
  ms = false,
): Model {
  const g = new Graph({
    nodes,
    initializers: new Map(inits),
    inputs: inputs.map((i) => ({ name: i.name, dtype: i.dtype ?? 'float32', shape: i.dims })),
    outputs: outputs.map((o) => ({ name: o, dtype: 'float32' })),
  });
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: opset }, ...(ms ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    producerName: 'test',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: g,
  };
}

export const f32 = (v: number[] | Float32Array, dims: number[]) => new Tensor('float32', Float32Array.from(v), dims);
export const scalarF = (v: number) => new Tensor('float32', new Float32Array([v]), []);
export const u8 = (v: number) => new Tensor('uint8', new Uint8Array([v]), []);
export const i8 = (v: number) => new Tensor('int8', new Int8Array([v]), []);
export const ints = (v: number[]): Attribute => ({ type: 'ints', value: v });
export const int = (v: number): Attribute => ({ type: 'int', value: v });

/** Q then DQ of `x` with (s, z): adds the nodes and initializers, returns the float name. */
export function qdq(nodes: Node[], inits: [string, Tensor][], x: string, s: number, z: number, signed = false): string {
  inits.push([`${x}_s`, scalarF(s)], [`${x}_z`, signed ? i8(z) : u8(z)]);
  nodes.push(
    makeNode('QuantizeLinear', [x, `${x}_s`, `${x}_z`], [`${x}_q`]),
    makeNode('DequantizeLinear', [`${x}_q`, `${x}_s`, `${x}_z`], [`${x}_dq`]),
  );
  return `${x}_dq`;
}

/** int8 weights [dims] in [lo, hi] with per-channel (axis) or per-tensor scales, as DQ of initializers. */
export function weights(
  nodes: Node[],
  inits: [string, Tensor][],
  name: string,
  dims: number[],
  axis: number | null,
  seed: number,
  lo = -64,
  hi = 63,
): { name: string; scales: Float32Array } {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const w = new Int8Array(n);
  for (let i = 0; i < n; i++) w[i] = lo + Math.floor(r() * (hi - lo + 1));
  const nc = axis === null ? 1 : dims[axis]!;
  const scales = new Float32Array(nc);
  for (let c = 0; c < nc; c++) scales[c] = Math.fround(0.002 + 0.01 * r());
  inits.push(
    [`${name}_q`, new Tensor('int8', w, dims)],
    [`${name}_s`, axis === null ? scalarF(scales[0]!) : f32(scales, [nc])],
    [`${name}_z`, axis === null ? i8(0) : new Tensor('int8', new Int8Array(nc), [nc])],
  );
  nodes.push(makeNode('DequantizeLinear', [`${name}_q`, `${name}_s`, `${name}_z`], [name], axis === null ? {} : { axis: int(axis) }));
  return { name, scales };
}

/** int32 bias in the scale sx * sw[c]. */
export function bias(
  nodes: Node[],
  inits: [string, Tensor][],
  name: string,
  sx: number,
  sw: Float32Array,
  n: number,
  seed: number,
): string {
  const r = rng(seed);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor((r() - 0.5) * 4000);
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.fround(sx * sw[sw.length === 1 ? 0 : i]!);
  inits.push(
    [`${name}_q`, new Tensor('int32', b, [n])],
    [`${name}_s`, sw.length === 1 ? scalarF(s[0]!) : f32(s, [n])],
    [`${name}_z`, new Tensor('int32', new Int32Array(sw.length === 1 ? 1 : n), sw.length === 1 ? [] : [n])],
  );
  nodes.push(makeNode('DequantizeLinear', [`${name}_q`, `${name}_s`, `${name}_z`], [name], sw.length === 1 ? {} : { axis: int(0) }));
  return name;
}

export function randomInput(dims: number[], seed: number, lo = -3, hi = 3): Tensor {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * r();
  return new Tensor('float32', d, dims);
}

/** x -> Q/DQ -> Conv(w per channel, b) -> Relu -> Q/DQ -> y. */
export function convModel(
  opts: {
    pads?: number[];
    group?: number;
    relu?: boolean;
    cin?: number;
    cout?: number;
    wRange?: [number, number];
    perTensor?: boolean;
    cap?: number[];
  } = {},
): Model {
  const nodes: Node[] = [],
    inits: [string, Tensor][] = [];
  const cin = opts.cin ?? 3,
    cout = opts.cout ?? 4,
    group = opts.group ?? 1;
  const sx = 0.025;
  const x = qdq(nodes, inits, 'x', sx, 128);
  const w = weights(nodes, inits, 'w', [cout, cin / group, 3, 3], opts.perTensor ? null : 0, 7, ...(opts.wRange ?? [-64, 63]));
  const b = bias(nodes, inits, 'b', sx, w.scales, cout, 9);
  nodes.push(
    makeNode('Conv', [x, w.name, b], ['c'], { pads: ints(opts.pads ?? [1, 1, 1, 1]), group: int(group), kernel_shape: ints([3, 3]) }),
  );
  let y = 'c';
  if (opts.relu ?? true) {
    nodes.push(makeNode('Relu', ['c'], ['r']));
    y = 'r';
    if (opts.cap) {
      // Equalization's ReLU6 with per-channel scales: Relu then Min with a bound per channel.
      inits.push(['cap', f32(opts.cap, [cout, 1, 1])]);
      nodes.push(makeNode('Min', ['r', 'cap'], ['m']));
      y = 'm';
    }
  }
  inits.push(['y_s', scalarF(0.04)], ['y_z', u8((opts.relu ?? true) ? 0 : 120)]);
  nodes.push(makeNode('QuantizeLinear', [y, 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
  return model(nodes, inits, [{ name: 'x', dims: [1, cin, 8, 8] }], ['y']);
}

/** The catalogue of single-pattern models: name, model, input dims, and the node expected to run integer. */
export function patternModels(): { name: string; model: Model; dims: number[]; op: string; kernel?: RegExp }[] {
  const out: { name: string; model: Model; dims: number[]; op: string; kernel?: RegExp }[] = [];
  out.push({ name: 'conv+relu per-channel', model: convModel(), dims: [1, 3, 8, 8], op: 'Conv' });
  out.push({
    name: 'conv per-tensor, no pads',
    model: convModel({ relu: false, perTensor: true, pads: [0, 0, 0, 0] }),
    dims: [1, 3, 8, 8],
    op: 'Conv',
  });
  out.push({ name: 'depthwise conv', model: convModel({ cin: 4, cout: 4, group: 4 }), dims: [1, 4, 8, 8], op: 'Conv' });
  out.push({
    name: 'conv + relu + per-channel Min',
    model: convModel({ cap: [0.3, 0.8, 2.5, 6] }),
    dims: [1, 3, 8, 8],
    op: 'Conv',
    kernel: /qconv2d/,
  });
  out.push({ name: 'conv full-range weights', model: convModel({ wRange: [-128, 127], cin: 8, cout: 8 }), dims: [1, 8, 8, 8], op: 'Conv' });
  {
    // Gemm transB with Clip(0, 6) fused.
    const nodes: Node[] = [],
      inits: [string, Tensor][] = [];
    const x = qdq(nodes, inits, 'x', 0.03, 100);
    const w = weights(nodes, inits, 'w', [10, 16], 0, 3);
    const b = bias(nodes, inits, 'b', 0.03, w.scales, 10, 4);
    inits.push(['lo', scalarF(0)], ['hi', scalarF(6)], ['y_s', scalarF(0.03)], ['y_z', u8(0)]);
    nodes.push(makeNode('Gemm', [x, w.name, b], ['g'], { transB: int(1) }), makeNode('Clip', ['g', 'lo', 'hi'], ['c']));
    nodes.push(makeNode('QuantizeLinear', ['c', 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
    out.push({ name: 'gemm transB + clip6', model: model(nodes, inits, [{ name: 'x', dims: [3, 16] }], ['y']), dims: [3, 16], op: 'Gemm' });
  }
  {
    // Gemm with Relu then a per-column Min (equalization's ReLU6 after a Gemm).
    const nodes: Node[] = [],
      inits: [string, Tensor][] = [];
    const x = qdq(nodes, inits, 'x', 0.03, 100);
    const w = weights(nodes, inits, 'w', [10, 16], 0, 3);
    const b = bias(nodes, inits, 'b', 0.03, w.scales, 10, 4);
    inits.push(['cap', f32([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 0.05, 0.3, 2], [10])], ['y_s', scalarF(0.03)], ['y_z', u8(0)]);
    nodes.push(
      makeNode('Gemm', [x, w.name, b], ['g'], { transB: int(1) }),
      makeNode('Relu', ['g'], ['r']),
      makeNode('Min', ['cap', 'r'], ['c']),
    );
    nodes.push(makeNode('QuantizeLinear', ['c', 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
    out.push({
      name: 'gemm + relu + per-column Min',
      model: model(nodes, inits, [{ name: 'x', dims: [3, 16] }], ['y']),
      dims: [3, 16],
      op: 'Gemm',
    });
  }
  {
    const nodes: Node[] = [],
      inits: [string, Tensor][] = [];
    const x = qdq(nodes, inits, 'x', 0.03, 128);
    const w = weights(nodes, inits, 'w', [16, 12], 1, 5);
    nodes.push(makeNode('MatMul', [x, w.name], ['m']));
    inits.push(['y_s', scalarF(0.05)], ['y_z', u8(128)]);
    nodes.push(makeNode('QuantizeLinear', ['m', 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
    out.push({
      name: 'matmul batched per-column',
      model: model(nodes, inits, [{ name: 'x', dims: [2, 3, 16] }], ['y']),
      dims: [2, 3, 16],
      op: 'MatMul',
    });
  }
  const unaryish = (
    name: string,
    op: string,
    build: (nodes: Node[], inits: [string, Tensor][], x: string) => string,
    dims = [1, 4, 6, 6],
    ys = 0.02,
    yz = 128,
  ) => {
    const nodes: Node[] = [],
      inits: [string, Tensor][] = [];
    const x = qdq(nodes, inits, 'x', 0.025, 128);
    const v = build(nodes, inits, x);
    inits.push(['y_s', scalarF(ys)], ['y_z', u8(yz)]);
    nodes.push(makeNode('QuantizeLinear', [v, 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
    out.push({ name, model: model(nodes, inits, [{ name: 'x', dims }], ['y']), dims, op });
  };
  unaryish('add (two scales)', 'Add', (nodes, inits, x) => {
    const x2 = qdq(nodes, inits, 'x2', 0.011, 77);
    nodes.push(makeNode('Relu', ['x'], ['x2']), makeNode('Add', [x, x2], ['a']));
    return 'a';
  });
  unaryish('mul', 'Mul', (nodes, inits, x) => {
    const x2 = qdq(nodes, inits, 'x2', 0.013, 120);
    nodes.push(makeNode('Sigmoid', ['x'], ['x2']), makeNode('Mul', [x, x2], ['a']));
    return 'a';
  });
  unaryish(
    'concat (requantized input)',
    'Concat',
    (nodes, inits, x) => {
      const x2 = qdq(nodes, inits, 'x2', 0.05, 128);
      nodes.push(makeNode('Neg', ['x'], ['x2']), makeNode('Concat', [x, x2], ['a'], { axis: int(1) }));
      return 'a';
    },
    [1, 4, 6, 6],
    0.025,
    128,
  );
  unaryish(
    'maxpool',
    'MaxPool',
    (nodes, _i, x) => (
      nodes.push(makeNode('MaxPool', [x], ['a'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) })), 'a'
    ),
    [1, 4, 7, 7],
    0.025,
    128,
  );
  unaryish(
    'avgpool',
    'AveragePool',
    (nodes, _i, x) => (nodes.push(makeNode('AveragePool', [x], ['a'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]) })), 'a'),
  );
  unaryish(
    'global average pool',
    'GlobalAveragePool',
    (nodes, _i, x) => (nodes.push(makeNode('GlobalAveragePool', [x], ['a'])), 'a'),
    [1, 4, 6, 6],
    0.01,
    128,
  );
  unaryish('resize nearest', 'Resize', (nodes, inits, x) => {
    inits.push(['sc', f32([1, 1, 2, 2], [4])]);
    nodes.push(makeNode('Resize', [x, '', 'sc'], ['a'], { mode: { type: 'string', value: 'nearest' } }));
    return 'a';
  });
  unaryish('sigmoid lut', 'Sigmoid', (nodes, _i, x) => (nodes.push(makeNode('Sigmoid', [x], ['a'])), 'a'), [1, 4, 6, 6], 1 / 256, 0);
  unaryish('hardswish lut', 'HardSwish', (nodes, _i, x) => (nodes.push(makeNode('HardSwish', [x], ['a'])), 'a'));
  unaryish(
    'leakyrelu lut',
    'LeakyRelu',
    (nodes, _i, x) => (nodes.push(makeNode('LeakyRelu', [x], ['a'], { alpha: { type: 'float', value: 0.1 } })), 'a'),
  );
  unaryish('flatten same scale', 'Flatten', (nodes, _i, x) => (nodes.push(makeNode('Flatten', [x], ['a'])), 'a'), [1, 4, 6, 6], 0.025, 128);
  unaryish(
    'transpose same scale',
    'Transpose',
    (nodes, _i, x) => (nodes.push(makeNode('Transpose', [x], ['a'], { perm: ints([0, 3, 1, 2]) })), 'a'),
    [1, 4, 6, 5],
    0.025,
    128,
  );
  unaryish(
    'transpose rescaled',
    'Transpose',
    (nodes, _i, x) => (nodes.push(makeNode('Transpose', [x], ['a'], { perm: ints([0, 2, 3, 1]) })), 'a'),
  );
  unaryish(
    'softmax (integer exp table)',
    'Softmax',
    (nodes, _i, x) => (nodes.push(makeNode('Softmax', [x], ['a'], { axis: int(1) })), 'a'),
    [1, 4, 6, 6],
    1 / 256,
    0,
  );
  return out;
}
