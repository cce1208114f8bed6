// Ops that only move or describe data: Reshape, Flatten, Squeeze, Unsqueeze, Shape, Identity,
// Dropout (inference), Constant, Expand.
import type { Dim } from '../ir/graph.js';
import { Tensor, allocData, sizeOf, type TensorData } from '../tensor.js';
import { broadcastDims, broadcastShapes, broadcastStrides, ints, isStatic, normAxis, same, stridedCopy } from './util.js';
import { fail, need, unsupported, type InferContext, type OpContext, type OpImpl } from './types.js';

/** Reshape target from the shape tensor: 0 copies the input dim (unless allowzero), -1 is inferred. */
function reshapeDims(ctx: OpContext, inDims: readonly Dim[], shape: number[]): Dim[] {
  const allowZero = ctx.opset >= 14 && ctx.attrs.int('allowzero', 0) === 1;
  const out: Dim[] = shape.map((d, i) =>
    d === 0 && !allowZero ? (inDims[i] ?? fail(ctx, `shape[${i}] = 0 but input has rank ${inDims.length}`)) : d,
  );
  const neg = out.filter((d) => d === -1).length;
  need(ctx, neg <= 1, 'shape has more than one -1');
  if (neg === 1) {
    if (!inDims.every((d) => typeof d === 'number') || !out.every((d) => typeof d === 'number')) {
      return out.map((d) => (d === -1 ? null : d));
    }
    const total = sizeOf(inDims as number[]);
    const known = (out as number[]).filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    need(ctx, known > 0 && total % known === 0, () => `cannot reshape [${inDims}] to [${shape}]`);
    return out.map((d) => (d === -1 ? total / known : d));
  }
  return out;
}

export const Reshape: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    const s = ctx.opset < 5 ? ctx.attrs.ints('shape') : ints(ctx.values[1]);
    if (!x?.shape || !s) return [{ dtype: x?.dtype }];
    return [{ dtype: x.dtype, shape: reshapeDims(ctx, x.shape, s) }];
  },
  run(ctx, [x, s]) {
    need(ctx, x, 'needs data');
    const shape = ctx.opset < 5 ? ctx.attrs.ints('shape') : ints(s);
    need(ctx, shape, 'needs a shape');
    const dims = reshapeDims(ctx, x.dims, shape) as number[];
    need(ctx, sizeOf(dims) === x.size, () => `cannot reshape [${x.dims}] (${x.size} elements) to [${dims}]`);
    return [x.reshape(dims)];
  },
};

export const Flatten: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    if (!isStatic(x?.shape)) return [{ dtype: x?.dtype, shape: x?.shape ? [null, null] : undefined }];
    return [{ dtype: x.dtype, shape: flatDims(ctx, x.shape) }];
  },
  run(ctx, [x]) {
    need(ctx, x, 'needs input');
    return [x.reshape(flatDims(ctx, x.dims))];
  },
};
function flatDims(ctx: OpContext, dims: readonly number[]): number[] {
  const r = dims.length;
  let axis = ctx.attrs.int('axis', 1);
  if (axis < 0) axis += r;
  need(ctx, axis >= 0 && axis <= r, `axis out of range for rank ${r}`);
  return [sizeOf(dims.slice(0, axis)), sizeOf(dims.slice(axis))];
}

function axesArg(ctx: OpContext, t: Tensor | undefined): number[] | undefined {
  return ctx.opset >= 13 ? ints(t) : ctx.attrs.ints('axes');
}

function squeezeDims(ctx: OpContext, dims: readonly Dim[], axes: number[] | undefined): Dim[] {
  if (!axes) {
    if (dims.some((d) => typeof d !== 'number')) return fail(ctx, 'cannot squeeze unknown dims');
    return dims.filter((d) => d !== 1);
  }
  const ax = new Set(axes.map((a) => normAxis(ctx, a, dims.length)));
  for (const a of ax) need(ctx, dims[a] === 1 || typeof dims[a] !== 'number', () => `cannot squeeze axis ${a} of size ${dims[a]}`);
  return dims.filter((_, i) => !ax.has(i));
}

export const Squeeze: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    const axes = axesArg(ctx, ctx.values[1]);
    if (!x?.shape || (ctx.opset >= 13 && ctx.node.inputs[1] && !ctx.values[1])) return [{ dtype: x?.dtype }];
    if (!axes && !isStatic(x.shape)) return [{ dtype: x.dtype }];
    return [{ dtype: x.dtype, shape: squeezeDims(ctx, x.shape, axes) }];
  },
  run(ctx, [x, a]) {
    need(ctx, x, 'needs input');
    return [x.reshape(squeezeDims(ctx, x.dims, axesArg(ctx, a)) as number[])];
  },
};

function unsqueezeDims(ctx: OpContext, dims: readonly Dim[], axes: number[]): Dim[] {
  const r = dims.length + axes.length;
  const ax = new Set(axes.map((a) => normAxis(ctx, a, r)));
  need(ctx, ax.size === axes.length, 'axes has duplicates');
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(ax.has(i) ? 1 : dims[j++]!);
  return out;
}

export const Unsqueeze: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    const axes = axesArg(ctx, ctx.values[1]);
    if (!x?.shape || !axes) return [{ dtype: x?.dtype }];
    return [{ dtype: x.dtype, shape: unsqueezeDims(ctx, x.shape, axes) }];
  },
  run(ctx, [x, a]) {
    need(ctx, x, 'needs input');
    const axes = axesArg(ctx, a);
    need(ctx, axes, 'needs axes');
    return [x.reshape(unsqueezeDims(ctx, x.dims, axes) as number[])];
  },
};

/** Shape's [start, end) window (opset 15), clamped like Python slicing. */
function shapeWindow(ctx: OpContext, r: number): [number, number] {
  const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  return [clamp(ctx.attrs.int('start', 0)), clamp(ctx.attrs.int('end', r))];
}

export const Shape: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    if (!x?.shape) return [{ dtype: 'int64', shape: [null] }];
    const [s, e] = shapeWindow(ctx, x.shape.length);
    return [{ dtype: 'int64', shape: [Math.max(0, e - s)] }];
  },
  run(ctx, [x]) {
    need(ctx, x, 'needs input');
    const [s, e] = shapeWindow(ctx, x.rank);
    return [Tensor.int64(x.dims.slice(s, Math.max(s, e)))];
  },
};

export const Identity: OpImpl = {
  inferShape: (ctx) => same(ctx.inputs[0]),
  run: (ctx, [x]) => {
    need(ctx, x, 'needs input');
    return [x];
  },
};

/** Dropout in inference: identity, mask all true. Training with a non-zero ratio is random: refused. */
export const Dropout: OpImpl = {
  inferShape: (ctx) => [...same(ctx.inputs[0]), { dtype: 'bool', shape: ctx.inputs[0]?.shape }],
  run(ctx, [x, ratioT, trainT]) {
    need(ctx, x, 'needs input');
    const training = ctx.opset >= 12 ? !!(trainT && Number(trainT.data[0])) : ctx.attrs.int('is_test', 1) === 0 && ctx.opset < 7;
    const ratio = ctx.opset >= 12 ? (ratioT ? Number(ratioT.data[0]) : 0.5) : ctx.attrs.float('ratio', 0.5);
    if (training && ratio !== 0) unsupported(ctx, 'training-mode Dropout (random) is not supported');
    const out = [x];
    if (ctx.node.outputs.length > 1) out.push(new Tensor('bool', new Uint8Array(x.size).fill(1), x.dims));
    return out;
  },
};

export const Constant: OpImpl = {
  inferShape(ctx) {
    const t = constantValue(ctx);
    return [{ dtype: t.dtype, shape: [...t.dims] }];
  },
  run: (ctx) => [constantValue(ctx)],
};

function constantValue(ctx: OpContext): Tensor {
  const a = ctx.attrs;
  const t = a.tensor('value');
  if (t) return t;
  if (a.has('value_float')) return new Tensor('float32', Float32Array.of(a.float('value_float', 0)), []);
  if (a.has('value_floats')) return Tensor.float32(a.floats('value_floats', []));
  if (a.has('value_int')) return new Tensor('int64', BigInt64Array.of(BigInt(a.int('value_int', 0))), []);
  if (a.has('value_ints')) return Tensor.int64(a.ints('value_ints', []));
  if (a.has('value_string')) return new Tensor('string', [a.string('value_string', '')], []);
  const strs = ctx.node.attributes.get('value_strings');
  if (strs?.type === 'strings') return new Tensor('string', [...strs.value], [strs.value.length]);
  return unsupported(ctx, 'Constant needs a value attribute (sparse_value is not supported)');
}

export const Expand: OpImpl = {
  inferShape(ctx: InferContext) {
    const x = ctx.inputs[0];
    const s = ints(ctx.values[1]);
    if (!x?.shape || !s) return [{ dtype: x?.dtype }];
    return [{ dtype: x.dtype, shape: broadcastDims([x.shape, s]) }];
  },
  run(ctx, [x, s]) {
    need(ctx, x && s, 'needs input and shape');
    const dims = broadcastShapes(ctx, x.dims, s.toNumbers());
    const out = allocData(x.dtype, sizeOf(dims));
    stridedCopy(x.data, 0, broadcastStrides(x.dims, dims), out, dims);
    return [new Tensor(x.dtype, out as TensorData, dims)];
  },
};

export const shapeOps: Record<string, OpImpl> = { Reshape, Flatten, Squeeze, Unsqueeze, Shape, Identity, Dropout, Constant, Expand };
