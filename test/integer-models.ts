// Hand-built QDQ models for the integer executor tests (Graph API only).
import { Graph, makeNode, Tensor, type Attribute, type Model, type Node } from '../src/onnx-api.js';
import { rng } from './backends.js';

export function model(nodes: Node[], inits: [string, Tensor][], inputs: { name: string; dims: number[]; dtype?: 'float32' | 'uint8' | 'int8' }[], outputs: string[], opset = 13, ms = false): Model {
  const g = new Graph({
    nodes,
    initializers: new Map(inits),
    inputs: inputs.map((i) => ({ name: i.name, dtype: i.dtype ?? 'float32', shape: i.dims })),
    outputs: outputs.map((o) => ({ name: o, dtype: 'float32' })),
  });
  return {
    irVersion: 8, opsetImports: [{ domain: '', version: opset }, ...(ms ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    producerName: 'test', producerVersion: '', domain: '', modelVersion: 0, docString: '', metadata: new Map(), graph: g,
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
  nodes.push(makeNode('QuantizeLinear', [x, `${x}_s`, `${x}_z`], [`${x}_q`]), makeNode('DequantizeLinear', [`${x}_q`, `${x}_s`, `${x}_z`], [`${x}_dq`]));
  return `${x}_dq`;
}

/** int8 weights [dims] in [lo, hi] with per-channel (axis) or per-tensor scales, as DQ of initializers. */
export function weights(nodes: Node[], inits: [string, Tensor][], name: string, dims: number[], axis: number | null, seed: number, lo = -64, hi = 63): { name: string; scales: Float32Array } {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const w = new Int8Array(n);
  for (let i = 0; i < n; i++) w[i] = lo + Math.floor(r() * (hi - lo + 1));
  const nc = axis === null ? 1 : dims[axis]!;
  const scales = new Float32Array(nc);
  for (let c = 0; c < nc; c++) scales[c] = Math.fround(0.002 + 0.01 * r());
  inits.push([`${name}_q`, new Tensor('int8', w, dims)], [`${name}_s`, axis === null ? scalarF(scales[0]!) : f32(scales, [nc])], [`${name}_z`, axis === null ? i8(0) : new Tensor('int8', new Int8Array(nc), [nc])]);
  nodes.push(makeNode('DequantizeLinear', [`${name}_q`, `${name}_s`, `${name}_z`], [name], axis === null ? {} : { axis: int(axis) }));
  return { name, scales };
}

/** int32 bias in the scale sx * sw[c]. */
export function bias(nodes: Node[], inits: [string, Tensor][], name: string, sx: number, sw: Float32Array, n: number, seed: number): string {
  const r = rng(seed);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor((r() - 0.5) * 4000);
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.fround(sx * sw[sw.length === 1 ? 0 : i]!);
  inits.push([`${name}_q`, new Tensor('int32', b, [n])], [`${name}_s`, sw.length === 1 ? scalarF(s[0]!) : f32(s, [n])], [`${name}_z`, new Tensor('int32', new Int32Array(sw.length === 1 ? 1 : n), sw.length === 1 ? [] : [n])]);
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
export function convModel(opts: { pads?: number[]; group?: number; relu?: boolean; cin?: number; cout?: number; wRange?: [number, number]; perTensor?: boolean } = {}): Model {
  const nodes: Node[] = [], inits: [string, Tensor][] = [];
  const cin = opts.cin ?? 3, cout = opts.cout ?? 4, group = opts.group ?? 1;
  const sx = 0.025;
  const x = qdq(nodes, inits, 'x', sx, 128);
  const w = weights(nodes, inits, 'w', [cout, cin / group, 3, 3], opts.perTensor ? null : 0, 7, ...(opts.wRange ?? [-64, 63]));
  const b = bias(nodes, inits, 'b', sx, w.scales, cout, 9);
  nodes.push(makeNode('Conv', [x, w.name, b], ['c'], { pads: ints(opts.pads ?? [1, 1, 1, 1]), group: int(group), kernel_shape: ints([3, 3]) }));
  let y = 'c';
  if (opts.relu ?? true) {
    nodes.push(makeNode('Relu', ['c'], ['r']));
    y = 'r';
  }
  inits.push(['y_s', scalarF(0.04)], ['y_z', u8(opts.relu ?? true ? 0 : 120)]);
  nodes.push(makeNode('QuantizeLinear', [y, 'y_s', 'y_z'], ['y_q']), makeNode('DequantizeLinear', ['y_q', 'y_s', 'y_z'], ['y']));
  return model(nodes, inits, [{ name: 'x', dims: [1, cin, 8, 8] }], ['y']);
}
