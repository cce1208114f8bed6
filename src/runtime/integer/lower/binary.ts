// Add and Mul of two 8-bit activations: integer qadd (inputs rescaled to the output scale) and
// qmul.
import type { Node } from '../../../ir/graph.js';
import { makeQAddParams, QADD_LEFT_SHIFT_16 } from '../../../quant/qadd.js';
import type { WideLike } from '../../../backends/kernels-qconv16.js';
import { floatMultiplier } from '../../../quant/requant.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import type { Int8Like } from '../../../backends/types.js';
import { type LowerContext, type Q8, broadcast, qType } from './context.js';
import { lutStep } from './unary-lut.js';

/**
 * Below this many outputs a binary op calls its kernel directly: a table lookup (0.6 ns per element
 * on AVX2, read from L2) beats Add's three fixed-point multiplies (1.2 ns) and Mul's one only once
 * the table's cache misses are spread over enough elements.
 */
const LUT2_MIN_ELEMENTS = 4096;

/** The 256 raw bytes 0..255 as a tensor of the 8-bit type. */
function t8Identity(signed: boolean): Tensor {
  const d = Uint8Array.from({ length: 256 }, (_, i) => i);
  return new Tensor(signed ? 'int8' : 'uint8', signed ? new Int8Array(d.buffer) : d, [256]);
}

/** The activation and the one-element 8-bit constant of a binary op, when it has one. */
function scalarOperand(lc: LowerContext, a: string, b: string): { x: string; c: string } | undefined {
  const one = (v: string) => {
    const t = lc.consts.get(v);
    return t !== undefined && t.size === 1 && (t.dtype === 'int8' || t.dtype === 'uint8');
  };
  if (one(b) && !lc.consts.has(a)) return { x: a, c: b };
  if (one(a) && !lc.consts.has(b)) return { x: b, c: a };
  return undefined;
}

export function qdqBinary(lc: LowerContext, node: Node): string | undefined {
  const a = lc.act(node.inputs[0]!, true),
    b = lc.act(node.inputs[1]!, true);
  if (typeof a === 'string') return a;
  if (typeof b === 'string') return b;
  const o = lc.outQ(node.outputs[0]!, node.opType === 'Add', true);
  if (typeof o === 'string') return o;
  if (o.cap) return `a per-channel Min after ${node.opType}`;
  const add = node.opType === 'Add';
  if (a.bits === 16 || b.bits === 16 || o.out.bits === 16) return wideBinary(lc, node, a, b, o);
  if (add && (a.signed !== o.out.signed || b.signed !== o.out.signed)) return `Add inputs and output do not share one 8-bit type`;
  if (!add && (a.signed !== o.out.signed || b.signed !== o.out.signed)) return `Mul inputs and output do not share one 8-bit type`;
  const k = lc.opts.kernels;
  const yName = o.q.outputs[0]!;
  const signed = o.out.signed;
  // One kernel call on operands A and B (right-aligned shapes) into y.
  let apply: (A: Tensor, B: Tensor, y: Int8Like) => void;
  let kernel: string;
  if (add) {
    const p = makeQAddParams(lc.opts.mode, a.scale, a.zp, b.scale, b.zp, o.out.scale, {
      zeroPoint: o.out.zp,
      signed,
      min: o.min,
      max: o.max,
    });
    kernel = 'qadd';
    apply = (A, B, y) => k.backend.qadd({ a: A.data as Int8Like, aShape: A.dims, b: B.data as Int8Like, bShape: B.dims, params: p, y });
  } else {
    const m =
      lc.opts.mode === 'float'
        ? floatMultiplier(a.scale, b.scale, o.out.scale)
        : (Math.fround(a.scale) * Math.fround(b.scale)) / Math.fround(o.out.scale);
    const rq = lc.requant([m], o.out, o.min, o.max);
    kernel = 'qmul';
    apply = (A, B, y) =>
      k.backend.qmul({
        a: A.data as Int8Like,
        aShape: A.dims,
        aZeroPoint: a.zp,
        b: B.data as Int8Like,
        bShape: B.dims,
        bZeroPoint: b.zp,
        requant: rq,
        y,
      });
  }
  const scalar = scalarOperand(lc, a.src, b.src);
  if (scalar) {
    // x op c with a one-element constant c is a function of x's byte alone: the kernel's own results
    // on all 256 bytes are the table (bit-identical by construction), and a LUT pass replaces it.
    const xs = t8Identity(signed);
    const c = lc.consts.get(scalar.c)!;
    const cv = new Tensor(xs.dtype, signed ? Int8Array.of((c.data as Int8Like)[0]!) : Uint8Array.of((c.data as Int8Like)[0]!), [1]);
    const table = new Uint8Array(256);
    const y = signed ? new Int8Array(table.buffer) : table;
    if (scalar.x === a.src) apply(xs, cv, y);
    else apply(cv, xs, y);
    const cDims = c.dims;
    lutStep(lc, node, scalar.x, yName, signed, table, (x) => broadcast(node, x, cDims));
    kernel = `lut (${kernel} by a scalar constant)`;
  } else {
    // The output byte is a function of the two input bytes: the kernel's own results on all 65,536
    // pairs are a table (bit-identical by construction, built once here, never inside a run that a
    // native plan records), and lut2 looks outputs up on tensors large enough to gain.
    const ids = t8Identity(signed);
    const table = new Uint8Array(65536);
    apply(
      new Tensor(ids.dtype, ids.data, [256, 1]),
      new Tensor(ids.dtype, ids.data, [1, 256]),
      signed ? new Int8Array(table.buffer) : table,
    );
    // The table transposed (transposed[b][a] = table[a][b]): lut2 reads a row of the table per
    // value of a broadcast `a` (a LUT pass), but gathers a column per value of a broadcast `b` (256
    // loads 256 bytes apart: 51 us of a 38,400-element SE-block Mul here), so a smaller B goes first.
    const transposed = new Uint8Array(65536);
    for (let i = 0; i < 256; i++) for (let j = 0; j < 256; j++) transposed[(j << 8) | i] = table[(i << 8) | j]!;
    const be = k.backend;
    binaryStep(lc, node, a.src, b.src, yName, o.out, (A, B, y) => {
      const y8 = y as Int8Like;
      if (y8.length < LUT2_MIN_ELEMENTS) apply(A, B, y8);
      else if (B.size < A.size)
        be.lut2({ a: B.data as Int8Like, aShape: B.dims, b: A.data as Int8Like, bShape: A.dims, table: transposed, y: y8 });
      else be.lut2({ a: A.data as Int8Like, aShape: A.dims, b: B.data as Int8Like, bShape: B.dims, table, y: y8 });
    });
    kernel = `${kernel} + lut2`;
  }
  lc.record(node, { execution: 'integer', kernel, reason: o.act ? `fused ${o.act.opType}` : undefined });
  lc.fuse(node, [o.act, o.capNode, o.q], `output of ${node.opType}`);
  return undefined;
}

/**
 * Add/Mul with a 16-bit input or output (A16W8) on the qbinary16 kernels. Add is TFLite's int16 Add:
 * 16-bit inputs have zero point 0 and are shifted left by 15 instead of 20, the rest as the 8-bit
 * qadd; Mul is the 8-bit qmul's arithmetic ((a - za) * (b - zb) fits int32 with 16-bit inputs of zero
 * point 0).
 */
function wideBinary(
  lc: LowerContext,
  node: Node,
  a: Q8 & { src: string },
  b: Q8 & { src: string },
  o: Exclude<ReturnType<LowerContext['outQ']>, string>,
): string | undefined {
  const add = node.opType === 'Add';
  for (const [x, v] of [
    [a, node.inputs[0]],
    [b, node.inputs[1]],
  ] as const)
    if (x.bits === 16 && x.zp !== 0) return `16-bit input '${v}' has zero point ${x.zp} (integer ${node.opType} on 16 bits needs 0)`;
  const out = o.out;
  const be = lc.opts.kernels.backend;
  let apply: (A: Tensor, B: Tensor, y: WideLike) => void;
  if (add) {
    const p = makeQAddParams(
      lc.opts.mode,
      a.scale,
      a.zp,
      b.scale,
      b.zp,
      out.scale,
      { zeroPoint: out.zp, signed: out.signed, bits: out.bits, min: o.min, max: o.max },
      QADD_LEFT_SHIFT_16,
    );
    apply = (A, B, y) => be.qadd16({ a: A.data as WideLike, aShape: A.dims, b: B.data as WideLike, bShape: B.dims, params: p, y });
  } else {
    const m =
      lc.opts.mode === 'float'
        ? floatMultiplier(a.scale, b.scale, out.scale)
        : (Math.fround(a.scale) * Math.fround(b.scale)) / Math.fround(out.scale);
    const rq = lc.requant([m], out, o.min, o.max);
    apply = (A, B, y) =>
      be.qmul16({
        a: A.data as WideLike,
        aShape: A.dims,
        aZeroPoint: a.zp,
        b: B.data as WideLike,
        bShape: B.dims,
        bZeroPoint: b.zp,
        requant: rq,
        y,
      });
  }
  binaryStep(lc, node, a.src, b.src, o.q.outputs[0]!, out, apply as (A: Tensor, B: Tensor, y: ArrayBufferView) => void);
  const bits = (q: Q8) => q.bits ?? 8;
  lc.record(node, {
    execution: 'integer',
    kernel: add ? 'qadd16' : 'qmul16',
    reason: [`${bits(a)}/${bits(b)}-bit in, ${bits(out)}-bit out`, o.act ? `fused ${o.act.opType}` : ''].filter(Boolean).join('; '),
  });
  lc.fuse(node, [o.act, o.capNode, o.q], `output of ${node.opType}`);
  return undefined;
}

/** The step of a binary op on two activations: one kernel call on the broadcast output of `out`'s type. */
function binaryStep(
  lc: LowerContext,
  node: Node,
  aSrc: string,
  bSrc: string,
  yName: string,
  out: Q8,
  apply: (A: Tensor, B: Tensor, y: ArrayBufferView) => void,
): void {
  lc.push(
    node,
    [aSrc, bSrc],
    [yName],
    (values) => {
      const A = values.get(aSrc)!,
        B = values.get(bSrc)!;
      const dims = broadcast(node, A.dims, B.dims);
      const y = values.outQ(yName, out, sizeOf(dims));
      apply(A, B, y);
      values.set(yName, new Tensor(qType(out), y, dims));
    },
    { pure: true },
  );
}
