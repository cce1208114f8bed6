// MaxPool, AveragePool (1-D..3-D, auto_pad, ceil_mode, dilations, count_include_pad, Indices output)
// and the global pools.
import { avgPool3dF32, maxPool3dF32, type Pool3dParams } from '../kernels/f32/pool.js';
import { Tensor, allocData, sizeOf } from '../tensor.js';
import { pads3d, to3d, windowOutDims, windowParams } from './conv-util.js';
import { float32Of } from './util.js';
import { need, unsupported, type OpContext, type OpImpl, type TypeInfo } from './types.js';

/** poolSetup's result per node, reused while X's dims stay the same (the params frozen: see convFields). */
const setups = new WeakMap<OpContext, { dims: readonly number[]; p: Pool3dParams; outDims: number[] }>();

function poolSetup(ctx: OpContext, x: Tensor): { p: Pool3dParams; outDims: number[] } {
  const s = setups.get(ctx);
  if (s && s.dims.length === x.rank && s.dims.every((d, i) => d === x.dims[i])) return s;
  const r = computePoolSetup(ctx, x);
  Object.freeze(r.p.padBegin);
  Object.freeze(r.p.padEnd);
  Object.freeze(r.p);
  setups.set(ctx, { dims: [...x.dims], ...r });
  return r;
}

function computePoolSetup(ctx: OpContext, x: Tensor) {
  need(ctx, x.rank >= 3 && x.rank <= 5, `X must be 3-D to 5-D, got [${x.dims}]`);
  const kernel = ctx.attrs.ints('kernel_shape');
  need(ctx, kernel, 'kernel_shape is required');
  const sp = windowParams(ctx, x.dims.slice(2), kernel, { ceilMode: ctx.attrs.int('ceil_mode', 0) === 1 });
  const [D, H, W] = to3d(x.dims.slice(2) as number[], 1) as [number, number, number];
  const [OD, OH, OW] = to3d(sp.out, 1) as [number, number, number];
  const [KD, KH, KW] = to3d(kernel, 1) as [number, number, number];
  const [SD, SH, SW] = to3d(sp.strides, 1) as [number, number, number];
  const [DD, DH, DW] = to3d(sp.dilations, 1) as [number, number, number];
  const { begin, end } = pads3d(sp.pads);
  const p: Pool3dParams = {
    planes: x.dims[0]! * x.dims[1]!,
    D,
    H,
    W,
    OD,
    OH,
    OW,
    KD,
    KH,
    KW,
    SD,
    SH,
    SW,
    DD,
    DH,
    DW,
    padBegin: begin as [number, number, number],
    padEnd: end as [number, number, number],
  };
  return { p, outDims: [x.dims[0]!, x.dims[1]!, ...sp.out] };
}

function poolInfer(ctx: Parameters<NonNullable<OpImpl['inferShape']>>[0]): TypeInfo[] {
  const x = ctx.inputs[0];
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!x?.shape || !kernel) return ctx.node.outputs.map(() => ({ dtype: x?.dtype }));
  const shape = [x.shape[0]!, x.shape[1]!, ...windowOutDims(ctx, x.shape.slice(2), kernel, ctx.attrs.int('ceil_mode', 0) === 1)];
  return [
    { dtype: x.dtype, shape },
    { dtype: 'int64', shape },
  ];
}

export const MaxPool: OpImpl = {
  inferShape: poolInfer,
  run(ctx, [x]) {
    need(ctx, x, 'needs X');
    if (x.dtype === 'string' || x.dtype === 'bool' || x.dtype === 'float16' || x.dtype === 'int64' || x.dtype === 'uint64')
      unsupported(ctx, `type ${x.dtype} is not supported`);
    // The kernel is written for float32 but only compares and copies, so any <=32-bit numeric array works.
    const X = x.data as Float32Array;
    const { p, outDims } = poolSetup(ctx, x);
    // Every output is written (a window with no input element gives -inf).
    const y = allocData(x.dtype, sizeOf(outDims), false) as Float32Array;
    const wantIdx = ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '';
    const idx = wantIdx ? new BigInt64Array(y.length) : undefined;
    if (ctx.f32 && !idx && x.dtype === 'float32') ctx.f32.maxPoolF32(p, X, y);
    else maxPool3dF32(p, X, y, idx, ctx.attrs.int('storage_order', 0));
    const out = [new Tensor(x.dtype, y, outDims)];
    if (idx) out.push(new Tensor('int64', idx, outDims));
    return out;
  },
  replayable: true,
};

export const AveragePool: OpImpl = {
  inferShape: poolInfer,
  run(ctx, [x]) {
    need(ctx, x, 'needs X');
    const X = float32Of(ctx, x, 'X');
    const { p, outDims } = poolSetup(ctx, x);
    const y = allocData('float32', sizeOf(outDims), false) as Float32Array;
    const countPad = ctx.attrs.int('count_include_pad', 0) === 1;
    if (ctx.f32) ctx.f32.avgPoolF32(p, X, y, countPad);
    else avgPool3dF32(p, X, y, countPad);
    return [new Tensor('float32', y, outDims)];
  },
  replayable: true,
};

function globalPool(kind: 'avg' | 'max'): OpImpl {
  return {
    inferShape: (ctx) => {
      const x = ctx.inputs[0];
      return [{ dtype: x?.dtype, shape: x?.shape ? [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)] : undefined }];
    },
    run(ctx, [x]) {
      need(ctx, x && x.rank >= 2, 'needs X of rank >= 2');
      const X = float32Of(ctx, x, 'X');
      const planes = x.dims[0]! * x.dims[1]!;
      const inner = planes ? X.length / planes : 0;
      // Both paths write every element.
      const y = allocData('float32', planes, false) as Float32Array;
      if (ctx.f32 && inner > 0) ctx.f32.globalPoolF32(kind, planes, inner, X, y);
      else
        for (let i = 0; i < planes; i++) {
          let acc = kind === 'avg' ? 0 : -Infinity;
          const o = i * inner;
          if (kind === 'avg') for (let j = 0; j < inner; j++) acc += X[o + j]!;
          else for (let j = 0; j < inner; j++) acc = X[o + j]! > acc ? X[o + j]! : acc;
          y[i] = kind === 'avg' ? acc / inner : acc;
        }
      return [new Tensor('float32', y, [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map(() => 1)])];
    },
    replayable: true,
  };
}

export const GlobalAveragePool = globalPool('avg');
export const GlobalMaxPool = globalPool('max');

export const poolOps: Record<string, OpImpl> = { MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool };
