// MatMulInteger (onnxruntime's dynamic quantization, our --mode dynamic, other tools' QOperator files)
// on the backend's qgemmI32. A constant B (the weights) is packed once here, at lowering, so a run
// packs only A. The int32 -> float rescale that dynamic-mode files write after it (Cast to float,
// Mul by the run's scale, then an Add of a constant bias) runs in the same step on the backend's
// float kernels, with no intermediate tensors and the float ops' bits: float32(acc) * s rounded to
// float32, then + bias rounded.
import type { Node } from '../../../ir/graph.js';
import type { OpContext } from '../../../ops/types.js';
import { matMulInt32, matMulIntegerShape } from '../../../ops/qdq.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import type { Backend, Int8Like } from '../../../backends/types.js';
import type { PackedQGemmI32 } from '../../../backends/kernels-qgemm-i32.js';
import { type LowerContext, type Values, isOp, param, runImpl } from './context.js';

const fitsType = (z: ArrayLike<number>, signed: boolean) =>
  Array.prototype.every.call(z, (v: number) => Number.isInteger(v) && (signed ? v >= -128 && v <= 127 : v >= 0 && v <= 255));

export function matMulInteger(lc: LowerContext, node: Node): string | undefined {
  const be = lc.opts.kernels.backend;
  const packed = packConstantB(lc, node, be);
  if (packed) {
    lowerPacked(lc, node, be, packed);
    return undefined;
  }
  const yName = node.outputs[0]!;
  const ctx = lc.ctx(node);
  lc.push(node, node.inputs, [yName], (values) => {
    const a = values.get(node.inputs[0]!)!,
      b = values.get(node.inputs[1]!)!;
    const za = param(values, node, 2, 'a_zero_point'),
      zb = param(values, node, 3, 'b_zero_point');
    const alloc = (n: number) => values.out(yName, 'int32', n);
    values.set(yName, matMulIntegerKernel(ctx, be, a, za, b, zb, alloc) ?? matMulInt32(ctx, a, za, b, zb, alloc));
  });
  lc.record(node, { execution: 'integer', kernel: 'qgemmI32' });
  return undefined;
}

/** B packed once: a constant 8-bit matrix with constant (or no) zero points the kernel takes; else undefined. */
function packConstantB(lc: LowerContext, node: Node, be: Backend): PackedQGemmI32 | undefined {
  const b = lc.consts.get(node.inputs[1] ?? '');
  if (!b || (b.dtype !== 'uint8' && b.dtype !== 'int8') || b.rank !== 2) return undefined;
  const zName = node.inputs[3];
  const zt = zName ? lc.consts.get(zName) : undefined;
  if (zName && zt?.dtype !== b.dtype) return undefined; // a run-time zero point, or a type the op refuses (the generic step says so)
  const [K, N] = b.dims as [number, number];
  const zb = zt ? Int32Array.from(zt.data as ArrayLike<number>) : Int32Array.of(0);
  if ((zb.length !== 1 && zb.length !== N) || !fitsType(zb, b.dtype === 'int8') || N === 0) return undefined;
  return be.qgemmI32Pack({ n: N, k: K, b: b.data as Int8Like, bZeroPoint: zb });
}

/** The float ops after a MatMulInteger that turn its int32 result into the layer's float output. */
interface Rescale {
  cast: Node;
  mul: Node;
  /** The Mul's other operand: a scale of one element or one per column. */
  scale: string;
  /**
   * The node computing the scale (a Mul of the run's input scale by the weights' scales) when it
   * is not lowered before this step: fused too, and the scale computed here from its operands.
   */
  scaleMul?: Node;
  add?: Node;
  /** The Add's constant operand, one per column. */
  bias?: Float32Array;
  /** The last fused node's output. */
  out: string;
}

function matchRescale(lc: LowerContext, node: Node, n: number): Rescale | undefined {
  const cast = lc.onlyConsumer(node.outputs[0]!);
  if (!cast || !isOp(cast, 'Cast') || lc.ctx(cast).attrs.int('to', 0) !== 1) return undefined;
  const castOut = cast.outputs[0]!;
  const mul = lc.onlyConsumer(castOut);
  if (!mul || !isOp(mul, 'Mul') || mul.inputs.length !== 2) return undefined;
  const scale = mul.inputs[0] === castOut ? mul.inputs[1] : mul.inputs[0];
  if (!scale || scale === castOut) return undefined;
  const r: Rescale = { cast, mul, scale, out: mul.outputs[0]! };
  // Steps run in the order nodes are lowered: the scale must exist when this step runs.
  const graphInputs = new Set(lc.graph.inputs.map((i) => i.name));
  const ready = (v: string) => lc.consts.has(v) || graphInputs.has(v) || lc.handled.has(lc.producers.get(v)!);
  if (!ready(scale)) {
    const sm = lc.producers.get(scale)!;
    if (!isOp(sm, 'Mul') || sm.inputs.length !== 2 || !sm.inputs.every((v) => v && ready(v)) || lc.onlyConsumer(scale) !== mul)
      return undefined;
    r.scaleMul = sm;
  }
  const add = lc.onlyConsumer(r.out);
  if (add && isOp(add, 'Add') && add.inputs.length === 2) {
    const other = add.inputs[0] === r.out ? add.inputs[1] : add.inputs[0];
    const t = other && other !== r.out ? lc.consts.get(other) : undefined;
    if (t?.dtype === 'float32' && t.rank === 1 && t.dims[0] === n) {
      r.add = add;
      r.bias = t.data as Float32Array;
      r.out = add.outputs[0]!;
    }
  }
  return r;
}

/**
 * The scale as one value or one per column (float32), or undefined when its shape or type is not
 * one of those (the float ops then run as they stand). With `scaleMul`, the float32 product of its
 * operands, each one value or one per column.
 */
function columnScale(rs: Rescale, values: Values, n: number, rank: number): Float32Array | undefined {
  const col = (t: Tensor | undefined): boolean =>
    !!t && t.dtype === 'float32' && t.rank <= rank && (t.size === 1 || (t.size === n && t.dims[t.rank - 1] === n));
  if (!rs.scaleMul) {
    const s = values.get(rs.scale);
    return col(s) ? (s!.data as Float32Array) : undefined;
  }
  const p = values.get(rs.scaleMul.inputs[0]!),
    q = values.get(rs.scaleMul.inputs[1]!);
  if (!col(p) || !col(q)) return undefined;
  const pd = p!.data as Float32Array,
    qd = q!.data as Float32Array;
  const len = Math.max(pd.length, qd.length);
  const s = new Float32Array(len);
  for (let j = 0; j < len; j++) s[j] = pd[pd.length === 1 ? 0 : j]! * qd[qd.length === 1 ? 0 : j]!;
  return s;
}

function lowerPacked(lc: LowerContext, node: Node, be: Backend, packed: PackedQGemmI32): void {
  const ctx = lc.ctx(node);
  const { n: N, k: K } = packed;
  const bConst = lc.consts.get(node.inputs[1]!)!;
  const zbConst = node.inputs[3] ? lc.consts.get(node.inputs[3])! : undefined;
  const zb = zbConst ? Float64Array.from(zbConst.data as ArrayLike<number>) : Float64Array.of(0);
  const rs = matchRescale(lc, node, N);
  const accName = node.outputs[0]!;
  let scratch = new Int32Array(0);
  const inputs = !rs ? node.inputs : [...node.inputs, ...(rs.scaleMul ? rs.scaleMul.inputs : [rs.scale])];
  lc.push(node, inputs, [rs ? rs.out : accName], (values) => {
    const a = values.get(node.inputs[0]!)!;
    const za = param(values, node, 2, 'a_zero_point');
    const { M, batch } = matMulIntegerShape(ctx, a, za, bConst, zb);
    if ((a.dtype !== 'uint8' && a.dtype !== 'int8') || !fitsType(za, a.dtype === 'int8')) {
      // Not the kernel's (the op's own loop says what is wrong, or computes it).
      const acc = matMulInt32(ctx, a, za, bConst, zb);
      if (rs) floatRescale(lc, rs, values, acc);
      else values.set(accName, acc);
      return;
    }
    const dims = [...batch, M, N];
    const rows = sizeOf(batch) * M;
    let acc: Int32Array;
    if (rs) {
      if (scratch.length < rows * N) scratch = new Int32Array(rows * N);
      acc = scratch.subarray(0, rows * N);
    } else acc = values.out(accName, 'int32', rows * N);
    const A = a.data as Int8Like;
    const aZeroPoint = Int32Array.from(za);
    if (za.length === 1) be.qgemmI32Packed(packed, { m: rows, a: A, aZeroPoint, y: acc });
    else
      for (let i = 0; i < rows / M; i++)
        be.qgemmI32Packed(packed, {
          m: M,
          a: A.subarray(i * M * K, (i + 1) * M * K),
          aZeroPoint,
          y: acc.subarray(i * M * N, (i + 1) * M * N),
        });
    if (!rs) {
      values.set(accName, new Tensor('int32', acc, dims));
      return;
    }
    const s = columnScale(rs, values, N, dims.length);
    if (!s) {
      floatRescale(lc, rs, values, new Tensor('int32', acc.slice(), dims));
      return;
    }
    const y = values.out(rs.out, 'float32', rows * N);
    rescaleRows(be, acc, s, rs.bias, y);
    values.set(rs.out, new Tensor('float32', y, dims));
  });
  lc.record(node, { execution: 'integer', kernel: rs ? 'qgemmI32 (B packed once) + rescale' : 'qgemmI32 (B packed once)' });
  if (rs) lc.fuse(node, [rs.scaleMul, rs.cast, rs.mul, rs.add], 'int32 -> float rescale in the MatMulInteger step');
}

/**
 * y[r][j] = float32(float32(acc[r][j]) * s[j or 0]) (+ bias[j], rounded to float32): the Cast, Mul
 * and Add ops' bits, as the backend's float kernels compute those ops (int32 -> float32 conversion
 * rounds to nearest even everywhere; each product and sum is rounded once).
 */
export function rescaleRows(
  be: Pick<Backend, 'binaryF32'>,
  acc: Int32Array,
  s: Float32Array,
  bias: Float32Array | undefined,
  y: Float32Array,
): void {
  y.set(acc);
  be.binaryF32('mul', y, s, y);
  if (bias) be.binaryF32('add', y, bias, y);
}

/** The fused float ops run as they stand (a scale of another shape or type than the fast path takes). */
function floatRescale(lc: LowerContext, rs: Rescale, values: Values, acc: Tensor): void {
  values.set(rs.cast.inputs[0]!, acc);
  for (const n of [rs.scaleMul, rs.cast, rs.mul, rs.add])
    if (n) runImpl(lc.opts.registry.get(n.opType, n.domain)!, lc.floatStepCtx(n), n, values);
}

/**
 * MatMulInteger's product on the backend's qgemmI32: one call when B is one matrix and A's zero
 * point is per tensor (every row of A's batch in one GEMM, B packed once), else one call per batch
 * entry (A or B shared when its batch is 1). Undefined, before anything is allocated, for what the
 * kernel does not take: batch axes broadcast partially, non-8-bit operands, zero points outside
 * their operand's type; matMulInt32 (the same definition) computes those.
 */
function matMulIntegerKernel(
  ctx: OpContext,
  be: Backend,
  a: Tensor,
  za: Float64Array,
  b: Tensor,
  zb: Float64Array,
  alloc: (n: number) => Int32Array,
): Tensor | undefined {
  const is8 = (t: Tensor) => t.dtype === 'uint8' || t.dtype === 'int8';
  if (!is8(a) || !is8(b)) return undefined;
  const { M, K, N, batch } = matMulIntegerShape(ctx, a, za, b, zb);
  const nb = sizeOf(batch),
    sizeA = sizeOf(a.dims.slice(0, -2)),
    sizeB = sizeOf(b.dims.slice(0, -2));
  // A batch of either side's size equals the broadcast batch only when its dims are the broadcast
  // dims (left-padded with 1s): entry i of it is then entry i of the output.
  if ((sizeA !== 1 && sizeA !== nb) || (sizeB !== 1 && sizeB !== nb)) return undefined;
  if (!fitsType(za, a.dtype === 'int8') || !fitsType(zb, b.dtype === 'int8')) return undefined;
  const y = alloc(nb * M * N);
  const A = a.data as Int8Like,
    B = b.data as Int8Like;
  const aZeroPoint = Int32Array.from(za),
    bZeroPoint = Int32Array.from(zb);
  if (sizeB === 1 && za.length === 1) {
    be.qgemmI32({ m: nb * M, n: N, k: K, a: A, aZeroPoint, b: B, bZeroPoint, y });
  } else {
    for (let i = 0; i < nb; i++) {
      const ai = sizeA === 1 ? 0 : i,
        bi = sizeB === 1 ? 0 : i;
      be.qgemmI32({
        m: M,
        n: N,
        k: K,
        a: A.subarray(ai * M * K, (ai + 1) * M * K),
        aZeroPoint,
        b: B.subarray(bi * K * N, (bi + 1) * K * N),
        bZeroPoint,
        y: y.subarray(i * M * N, (i + 1) * M * N),
      });
    }
  }
  return new Tensor('int32', y, [...batch, M, N]);
}
