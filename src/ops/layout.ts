// Data-layout ops: Transpose, Concat, Split, Slice, Gather, Pad. All dtype-agnostic (they copy elements).
import type { Dim } from '../ir/graph.js';
import { Tensor, allocData, sizeOf, type TensorData } from '../tensor.js';
import { ints, isStatic, normAxis, stridesOf, stridedCopy } from './util.js';
import { fail, need, unsupported, type OpContext, type OpImpl, type TypeInfo } from './types.js';

function perm(ctx: OpContext, r: number): number[] {
  const p = ctx.attrs.ints('perm') ?? [...Array(r).keys()].reverse();
  need(ctx, p.length === r && new Set(p).size === r && p.every((v) => v >= 0 && v < r), `perm [${p}] is not a permutation of rank ${r}`);
  return p;
}

export const Transpose: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    if (!x?.shape) return [{ dtype: x?.dtype }];
    return [{ dtype: x.dtype, shape: perm(ctx, x.shape.length).map((i) => x.shape![i]!) }];
  },
  run(ctx, [x]) {
    need(ctx, x, 'needs input');
    const p = perm(ctx, x.rank);
    const dims = p.map((i) => x.dims[i]!);
    const st = stridesOf(x.dims);
    const out = allocData(x.dtype, x.size, false);
    stridedCopy(
      x.data,
      0,
      p.map((i) => st[i]!),
      out,
      dims,
    );
    return [new Tensor(x.dtype, out, dims)];
  },
};

export const Concat: OpImpl = {
  inferShape(ctx) {
    const xs = ctx.inputs.filter((t): t is TypeInfo => !!t);
    if (xs.length === 0 || xs.some((t) => !t.shape)) return [{ dtype: xs[0]?.dtype }];
    const r = xs[0]!.shape!.length;
    const axis = normAxis(ctx, ctx.attrs.int('axis', ctx.opset < 4 ? 1 : 0), r);
    const shape: Dim[] = [...xs[0]!.shape!];
    let total: Dim = 0;
    for (const t of xs) {
      const d = t.shape![axis]!;
      total = typeof total === 'number' && typeof d === 'number' ? total + d : null;
    }
    shape[axis] = total;
    return [{ dtype: xs[0]!.dtype, shape }];
  },
  run(ctx, inputs) {
    const xs = inputs.filter((t): t is Tensor => !!t);
    need(ctx, xs.length > 0, 'needs inputs');
    const r = xs[0]!.rank;
    const axis = normAxis(ctx, ctx.attrs.int('axis', ctx.opset < 4 ? 1 : 0), r);
    const dims = [...xs[0]!.dims];
    dims[axis] = 0;
    for (const t of xs) {
      need(ctx, t.rank === r && t.dtype === xs[0]!.dtype, 'inputs must share rank and dtype');
      for (let i = 0; i < r; i++)
        if (i !== axis)
          need(ctx, t.dims[i] === xs[0]!.dims[i], () => `input dims [${t.dims}] do not match [${xs[0]!.dims}] off axis ${axis}`);
      dims[axis] += t.dims[axis]!;
    }
    const outer = sizeOf(dims.slice(0, axis));
    const out = allocData(xs[0]!.dtype, sizeOf(dims), false) as any;
    const rowOut = sizeOf(dims.slice(axis));
    let colOff = 0;
    for (const t of xs) {
      const row = sizeOf(t.dims.slice(axis));
      const src = t.data as any;
      // Typed arrays copy a row at a time (memcpy); other element stores go one by one.
      if (ArrayBuffer.isView(src))
        for (let o = 0; o < outer; o++) out.set((src as Float32Array).subarray(o * row, (o + 1) * row), o * rowOut + colOff);
      else for (let o = 0; o < outer; o++) for (let j = 0; j < row; j++) out[o * rowOut + colOff + j] = src[o * row + j];
      colOff += row;
    }
    return [new Tensor(xs[0]!.dtype, out, dims)];
  },
};

/** Split sizes: the `split` input (13+) or attribute, else num_outputs/outputs count (last chunk may be smaller, 18+). */
function splitSizes(ctx: OpContext, len: number, splitT: Tensor | undefined): number[] {
  const given = ctx.opset >= 13 ? ints(splitT) : ctx.attrs.ints('split');
  if (given?.length) {
    need(ctx, given.reduce((a, b) => a + b, 0) === len, `split [${given}] does not sum to ${len}`);
    return given;
  }
  const n = ctx.attrs.int('num_outputs') ?? ctx.node.outputs.length;
  const chunk = Math.ceil(len / n);
  if (ctx.opset < 18) need(ctx, len % n === 0, `axis of size ${len} does not split evenly into ${n}`);
  return Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, len - i * chunk)));
}

export const Split: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    if (!isStatic(x?.shape)) return ctx.node.outputs.map(() => ({ dtype: x?.dtype }));
    if (ctx.opset >= 13 && ctx.node.inputs[1] && !ctx.values[1]) return ctx.node.outputs.map(() => ({ dtype: x.dtype }));
    const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.shape.length);
    return splitSizes(ctx, x.shape[axis]!, ctx.values[1]).map((s) => {
      const shape = [...x.shape!];
      shape[axis] = s;
      return { dtype: x.dtype, shape };
    });
  },
  run(ctx, [x, s]) {
    need(ctx, x, 'needs input');
    const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.rank);
    const sizes = splitSizes(ctx, x.dims[axis]!, s);
    const outer = sizeOf(x.dims.slice(0, axis));
    const inner = sizeOf(x.dims.slice(axis + 1));
    const row = x.dims[axis]! * inner;
    const src = x.data as any;
    let start = 0;
    return sizes.map((len) => {
      const dims = [...x.dims];
      dims[axis] = len;
      const out = allocData(x.dtype, sizeOf(dims)) as any;
      const w = len * inner;
      for (let o = 0; o < outer; o++) for (let j = 0; j < w; j++) out[o * w + j] = src[o * row + start * inner + j];
      start += len;
      return new Tensor(x.dtype, out, dims);
    });
  },
};

interface SliceArgs {
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}
function sliceArgs(ctx: OpContext, inputs: (Tensor | undefined)[], r: number): SliceArgs | undefined {
  let starts: number[] | undefined, ends: number[] | undefined, axes: number[] | undefined, steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = ctx.attrs.ints('starts');
    ends = ctx.attrs.ints('ends');
    axes = ctx.attrs.ints('axes');
  } else {
    if (!inputs[1] || !inputs[2]) return undefined;
    starts = ints(inputs[1]);
    ends = ints(inputs[2]);
    axes = ints(inputs[3]);
    steps = ints(inputs[4]);
  }
  need(ctx, starts && ends && starts.length === ends.length, 'starts and ends must have the same length');
  axes ??= starts.map((_, i) => i);
  steps ??= starts.map(() => 1);
  return { starts, ends, axes: axes.map((a) => normAxis(ctx, a, r)), steps };
}

/** Per-axis start, step and count of a Slice, with the spec's clamping. */
function sliceWindow(ctx: OpContext, dims: readonly number[], a: SliceArgs) {
  const r = dims.length;
  const start = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const count = [...dims];
  a.axes.forEach((ax, i) => {
    const d = dims[ax]!;
    const st = a.steps[i]!;
    need(ctx, st !== 0, 'slice step cannot be 0');
    let s = a.starts[i]!;
    let e = a.ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      count[ax] = Math.max(0, Math.ceil((e - s) / st));
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      count[ax] = Math.max(0, Math.ceil((e - s) / st));
    }
    start[ax] = s;
    step[ax] = st;
  });
  return { start, step, count };
}

export const Slice: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    if (!x?.shape) return [{ dtype: x?.dtype }];
    const a = sliceArgs(ctx, ctx.values, x.shape.length);
    if (!a) return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
    if (!isStatic(x.shape)) {
      const touched = new Set(a.axes);
      return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (touched.has(i) ? null : d)) }];
    }
    return [{ dtype: x.dtype, shape: sliceWindow(ctx, x.shape, a).count }];
  },
  run(ctx, inputs) {
    const x = inputs[0];
    need(ctx, x, 'needs data');
    const a = sliceArgs(ctx, inputs, x.rank);
    need(ctx, a, 'needs starts and ends');
    const { start, step, count } = sliceWindow(ctx, x.dims, a);
    const st = stridesOf(x.dims);
    let off = 0;
    for (let i = 0; i < x.rank; i++) off += start[i]! * st[i]!;
    const out = allocData(x.dtype, sizeOf(count));
    stridedCopy(
      x.data,
      off,
      st.map((s, i) => s * step[i]!),
      out,
      count,
    );
    return [new Tensor(x.dtype, out, count)];
  },
};

export const Gather: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    const idx = ctx.inputs[1];
    if (!x?.shape || !idx?.shape) return [{ dtype: x?.dtype }];
    const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.shape.length);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
  },
  run(ctx, [x, idx]) {
    need(ctx, x && idx, 'needs data and indices');
    need(ctx, idx.dtype === 'int64' || idx.dtype === 'int32', `indices must be int32 or int64, got ${idx.dtype}`);
    const axis = normAxis(ctx, ctx.attrs.int('axis', 0), x.rank);
    const d = x.dims[axis]!;
    const outer = sizeOf(x.dims.slice(0, axis));
    const inner = sizeOf(x.dims.slice(axis + 1));
    const I = idx.toNumbers();
    const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
    const out = allocData(x.dtype, sizeOf(dims)) as any;
    const src = x.data as any;
    let o = 0;
    for (let a = 0; a < outer; a++)
      for (let k = 0; k < I.length; k++) {
        let i = I[k]!;
        if (i < 0) i += d;
        if (i < 0 || i >= d) fail(ctx, `index ${I[k]} out of range for axis of size ${d}`);
        const base = (a * d + i) * inner;
        for (let j = 0; j < inner; j++) out[o++] = src[base + j];
      }
    return [new Tensor(x.dtype, out as TensorData, dims)];
  },
};

/** Pad: constant, reflect, edge and wrap modes; pads may be negative (crop). */
export const Pad: OpImpl = {
  inferShape(ctx) {
    const x = ctx.inputs[0];
    if (!x?.shape) return [{ dtype: x?.dtype }];
    const p = padArgs(ctx, x.shape.length, ctx.values);
    if (!p) return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
    return [
      { dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d + p.pads[i]! + p.pads[i + x.shape!.length]! : null)) },
    ];
  },
  run(ctx, inputs) {
    const x = inputs[0];
    need(ctx, x, 'needs data');
    const r = x.rank;
    const p = padArgs(ctx, r, inputs);
    need(ctx, p, 'needs pads');
    const { pads, value } = p;
    const mode = ctx.attrs.string('mode', 'constant');
    const dims = x.dims.map((d, i) => d + pads[i]! + pads[i + r]!);
    need(
      ctx,
      dims.every((d) => d >= 0),
      `pads [${pads}] make a negative dimension`,
    );
    const out = allocData(x.dtype, sizeOf(dims)) as any;
    const src = x.data as any;
    const inSt = stridesOf(x.dims);
    const n = out.length;
    const idx = new Array<number>(r).fill(0);
    const fillV = x.dtype === 'int64' || x.dtype === 'uint64' ? BigInt(Math.trunc(Number(value))) : value;
    if (mode !== 'constant' && x.size === 0 && n > 0) fail(ctx, `mode '${mode}' cannot pad an empty tensor`);
    for (let o = 0; o < n; o++) {
      let off = 0;
      let inside = true;
      for (let ax = 0; ax < r; ax++) {
        let i = idx[ax]! - pads[ax]!;
        const d = x.dims[ax]!;
        if (i < 0 || i >= d) {
          if (mode === 'constant') {
            inside = false;
            break;
          } else if (mode === 'edge') i = i < 0 ? 0 : d - 1;
          else if (mode === 'reflect') {
            if (d === 1) i = 0;
            else {
              const period = 2 * (d - 1);
              i = ((i % period) + period) % period;
              if (i >= d) i = period - i;
            }
          } else if (mode === 'wrap') i = ((i % d) + d) % d;
          else unsupported(ctx, `pad mode '${mode}' is not supported`);
        }
        off += i * inSt[ax]!;
      }
      out[o] = inside ? src[off] : fillV;
      for (let ax = r - 1; ax >= 0; ax--) {
        if (++idx[ax]! < dims[ax]!) break;
        idx[ax] = 0;
      }
    }
    return [new Tensor(x.dtype, out as TensorData, dims)];
  },
};

function padArgs(ctx: OpContext, r: number, inputs: (Tensor | undefined)[]): { pads: number[]; value: any } | undefined {
  if (ctx.opset < 11) {
    const pads = ctx.attrs.ints('pads') ?? ctx.attrs.ints('paddings');
    if (!pads) return undefined;
    return { pads, value: ctx.attrs.float('value', 0) };
  }
  const padsIn = ints(inputs[1]);
  if (!padsIn) return undefined;
  const cv = inputs[2]?.size ? inputs[2].data[0] : 0;
  const axesIn = ints(inputs[3]);
  let pads = padsIn;
  if (axesIn) {
    const full = new Array<number>(2 * r).fill(0);
    const k = axesIn.length;
    axesIn.forEach((a, i) => {
      const ax = normAxis(ctx, a, r);
      full[ax] = padsIn[i]!;
      full[ax + r] = padsIn[i + k]!;
    });
    pads = full;
  }
  need(ctx, pads.length === 2 * r, `pads has ${pads.length} values, expected ${2 * r}`);
  return { pads, value: typeof cv === 'bigint' ? Number(cv) : cv };
}

export const layoutOps: Record<string, OpImpl> = { Transpose, Concat, Split, Slice, Gather, Pad };
