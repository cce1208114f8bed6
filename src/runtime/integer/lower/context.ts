// What every op family's lowering works with: the graph's producers and consumers, the QDQ pattern
// helpers (an 8-bit activation input from a DequantizeLinear, the QuantizeLinear that takes an output,
// constant weights and biases), requantization parameters in the session's mode, and the report and
// step list the driver (../lower.ts) assembles.
import { OnnxPtqError } from '../../../errors.js';
import { nodeLabel, type Graph, type Model, type Node } from '../../../ir/graph.js';
import { opContext } from '../../../ir/infer.js';
import type { OpRegistry } from '../../../ops/index.js';
import { QUANT_RANGE } from '../../../ops/qdq.js';
import type { OpContext, OpImpl } from '../../../ops/types.js';
import { runNode } from '../../feeds.js';
import { roundHalfEven } from '../../../quant/fixedpoint.js';
import { floatMultiplier, makeRequant, type RequantMode, type RequantParams } from '../../../quant/requant.js';
import { fromHalf } from '../../../ops/cast.js';
import { Tensor, sizeOf } from '../../../tensor.js';
import { broadcastShape } from '../../../util/shape.js';
import type { IntKernels } from '../kernels.js';
import type { Int8Like } from '../../../backends/types.js';
import type { RunValues } from '../plan.js';

/** How one node of the model runs. */
export interface LoweringEntry {
  /** The node's name, or its label when it has none. */
  node: string;
  opType: string;
  /** integer: an integer kernel; float: dequantized, run by the float engine, requantized; fused:
   *  part of another node's integer step; quantize/dequantize: a graph-boundary conversion; shape:
   *  arithmetic on tensor dimensions (Shape and the integer ops fed only by it), no activation data. */
  execution: 'integer' | 'float' | 'fused' | 'quantize' | 'dequantize' | 'shape';
  /** The kernel (integer, quantize, dequantize) or the node it was fused into (fused). */
  kernel?: string;
  /** Why the node runs in float (or what was fused). */
  reason?: string;
}

export type Values = RunValues;

export interface Step {
  /** The node the step stands for (its integer step, or the node itself). */
  node: Node;
  inputs: string[];
  outputs: string[];
  run(values: Values): void;
  /** Set when the step is y = table[x] byte for byte on its one activation input (see fuse-tables.ts). */
  table?: TableStep;
  /**
   * The step changes tensor data only through backend kernel calls (its own JS computes shapes and
   * arguments, never values), so replaying its recorded kernel calls is running it (../native-plan.ts).
   */
  pure?: boolean;
}

/**
 * A step that maps each byte of one 8-bit activation to one output byte: a unary LUT, or Add/Mul
 * with a one-element constant. Consecutive such steps compose into one table exactly, since each
 * step's output is already the 8-bit value the next one reads.
 */
export interface TableStep {
  /** The activation read. */
  src: string;
  /** table[raw input byte] = raw output byte. */
  table: Uint8Array;
  signed: boolean;
  /** Output dims from the input's (a one-element constant of higher rank broadcasts the rank up). */
  dims(x: readonly number[]): readonly number[];
}

/** An 8-bit per-tensor quantization. */
/** A per-channel upper bound on an integer output (Relu -> Min(x, c) with c per channel), quantized. */
export interface ChannelCap {
  node: Node;
  /** min(qmax, Q(c_i)) per channel. */
  bounds: Int32Array;
  /** The constant's dims, to check it against the output's channel axis. */
  dims: readonly number[];
}

/** y = min(y, bounds[c]) for an output laid out as [outer, channels, inner]. */
export function capChannels(y: Int8Like, bounds: Int32Array, outer: number, inner: number): void {
  const C = bounds.length;
  for (let o = 0, i = 0; o < outer; o++)
    for (let c = 0; c < C; c++) {
      const b = bounds[c]!;
      for (const end = i + inner; i < end; i++) if (y[i]! > b) y[i] = b;
    }
}

/** A per-tensor quantization: 8-bit, or 16-bit (A16W8) when `bits` is 16. */
export interface Q8 {
  scale: number;
  zp: number;
  signed: boolean;
  bits?: 16;
}

const WIDE_TYPES = new Set(['int16', 'uint16']);

/** The tensor type of a quantization. */
export function qType(q: Q8): 'int8' | 'uint8' | 'int16' | 'uint16' {
  return q.bits === 16 ? (q.signed ? 'int16' : 'uint16') : q.signed ? 'int8' : 'uint8';
}

/** A step's input must have its quantization's type (a graph whose values changed type since lowering). */
export function checkInputType(node: Node, t: Tensor, q: Q8): void {
  if (t.dtype !== qType(q)) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input is ${t.dtype}, expected ${qType(q)}`);
}

/** The integer range of a quantization's type. */
export function qRange(q: Pick<Q8, 'signed' | 'bits'>): { lo: number; hi: number } {
  const bits = q.bits ?? 8;
  return q.signed ? { lo: -(2 ** (bits - 1)), hi: 2 ** (bits - 1) - 1 } : { lo: 0, hi: 2 ** bits - 1 };
}

export interface DqInfo {
  node: Node;
  /** The quantized tensor the DQ reads. */
  src: string;
  scale: Float32Array;
  zp: Int32Array;
  /** Normalized axis (per-axis) or -1. */
  axis: number;
  dtype: string;
}

export interface LowerOptions {
  mode: RequantMode;
  kernels: IntKernels;
  registry: OpRegistry;
}

export class LowerContext {
  readonly steps: Step[] = [];
  readonly report = new Map<Node, LoweringEntry>();
  readonly graph: Graph;
  readonly consts: Map<string, Tensor>;
  /** Values computed from tensor dimensions only (Shape outputs and integer ops on them): a data-movement step may take them as its shape input. */
  readonly shapeValues = new Set<string>();
  readonly handled = new Set<Node>();
  readonly producers = new Map<string, Node>();
  readonly consumers = new Map<string, Node[]>();
  readonly graphOutputs: Set<string>;

  constructor(
    readonly model: Pick<Model, 'opsetImports' | 'graph'>,
    readonly opts: LowerOptions,
  ) {
    this.graph = model.graph;
    this.consts = model.graph.initializers;
    this.graphOutputs = new Set(model.graph.outputs.map((o) => o.name));
    for (const n of this.graph.nodes) {
      for (const o of n.outputs) if (o) this.producers.set(o, n);
      for (const i of n.inputs) if (i) (this.consumers.get(i) ?? this.consumers.set(i, []).get(i)!).push(n);
    }
  }

  /**
   * The node's context for lowering: attributes, and float ops run on the pure-JS kernels. Tables
   * and constants built from float ops at lowering must be the same bits on every backend (a
   * native float kernel may differ from JS in the last ulp, which moves a table entry by one).
   */
  ctx(node: Node): OpContext {
    return opContext(this.model, node);
  }

  /** A float step's context: at run time its op runs on the session backend's float kernels, as in the float session. */
  floatStepCtx(node: Node): OpContext {
    return opContext(this.model, node, this.opts.kernels.backend);
  }

  bad(node: Node, msg: string): never {
    throw new OnnxPtqError('INVALID_MODEL', `${nodeLabel(node)}: ${msg}`);
  }

  /** Constant scale/zero point of a Q or DQ node, validated. */
  qdqParams(node: Node): { scale: Float32Array; zp: Int32Array; axis: number; dtype: string } | undefined {
    const s = this.consts.get(node.inputs[1] ?? '');
    const zName = node.inputs[2] ?? '';
    const z = zName ? this.consts.get(zName) : undefined;
    if (!s || (zName && !z)) return undefined;
    if (node.attributes.has('block_size') && (this.ctx(node).attrs.int('block_size', 0) ?? 0) > 0) return undefined;
    const scale = new Float32Array(s.size);
    const sd = s.data as ArrayLike<number>;
    for (let i = 0; i < s.size; i++) scale[i] = s.dtype === 'float16' ? fromHalf(sd[i]!) : sd[i]!;
    for (let i = 0; i < scale.length; i++) {
      if (!(scale[i]! > 0) || !Number.isFinite(scale[i]!)) this.bad(node, `scale ${i} must be finite and > 0, got ${scale[i]}`);
    }
    let dtype: string;
    if (isOp(node, 'QuantizeLinear')) {
      const code = this.ctx(node).attrs.int('output_dtype', 0);
      dtype = z?.dtype ?? (code === 3 ? 'int8' : 'uint8');
    } else {
      dtype = z?.dtype ?? this.dtypeOf(node.inputs[0]!) ?? 'uint8';
    }
    const zp = new Int32Array(scale.length);
    if (z) {
      if (z.size !== scale.length) this.bad(node, `zero point has ${z.size} elements but the scale has ${scale.length}`);
      const range = QUANT_RANGE[z.dtype];
      if (!range) return undefined;
      (z.data as ArrayLike<number>) && zp.set(Array.from(z.data as ArrayLike<number>));
    }
    let axis = -1;
    if (scale.length > 1 || (s.dims.length === 1 && s.dims[0]! > 1)) {
      axis = this.ctx(node).attrs.int('axis', 1);
    }
    return { scale, zp, axis, dtype };
  }

  dtypeOf(v: string): string | undefined {
    const c = this.consts.get(v);
    if (c) return c.dtype;
    const p = this.producers.get(v);
    if (p && isOp(p, 'QuantizeLinear')) {
      const z = p.inputs[2] ? this.consts.get(p.inputs[2]) : undefined;
      return z?.dtype ?? (this.ctx(p).attrs.int('output_dtype', 0) === 3 ? 'int8' : 'uint8');
    }
    const gi = this.graph.inputs.find((i) => i.name === v);
    return gi?.dtype ?? this.graph.valueInfo.get(v)?.dtype;
  }

  /** The DQ producing `v` with constant parameters, or undefined. */
  dq(v: string): DqInfo | undefined {
    const p = this.producers.get(v);
    if (!p || !isOp(p, 'DequantizeLinear')) return undefined;
    const q = this.qdqParams(p);
    if (!q) return undefined;
    return { node: p, src: p.inputs[0]!, ...q };
  }

  /** An activation input: per-tensor 8-bit DQ (or 16-bit, when `wide`). */
  act(v: string, wide = false): (Q8 & { src: string; dq: DqInfo }) | string {
    const d = this.dq(v);
    if (!d) return `input '${v}' does not come from a DequantizeLinear with constant parameters`;
    if (d.scale.length !== 1) return `input '${v}' is quantized per axis`;
    const is16 = WIDE_TYPES.has(d.dtype);
    if (d.dtype !== 'uint8' && d.dtype !== 'int8' && !(wide && is16))
      return `input '${v}' is ${d.dtype}, not 8-bit${is16 ? ` (${node16(this, v)})` : ''}`;
    const q = { scale: d.scale[0]!, zp: d.zp[0]!, signed: d.dtype === 'int8' || d.dtype === 'int16' };
    return { src: d.src, ...q, ...(is16 ? { bits: 16 as const } : {}), dq: d };
  }

  /**
   * Whether `node` reads or writes 16-bit data: its first input comes from a 16-bit DQ, or its output
   * goes (through a Relu/Clip) into a 16-bit Q. Such a node takes the A16W8 lowering (wide.ts).
   */
  isWide(node: Node): boolean {
    const d = this.dq(node.inputs[0] ?? '');
    if (d && WIDE_TYPES.has(d.dtype)) return true;
    let c = node.outputs[0] ? this.onlyConsumer(node.outputs[0]) : undefined;
    if (c && (isOp(c, 'Relu') || isOp(c, 'Clip'))) c = this.onlyConsumer(c.outputs[0]!);
    if (!c || !isOp(c, 'QuantizeLinear')) return false;
    const p = this.qdqParams(c);
    return !!p && WIDE_TYPES.has(p.dtype);
  }

  onlyConsumer(v: string): Node | undefined {
    if (this.graphOutputs.has(v)) return undefined;
    const c = this.consumers.get(v) ?? [];
    return c.length === 1 ? c[0] : undefined;
  }

  /**
   * The QuantizeLinear (per tensor, 8-bit) that is the only reader of `v`, optionally through one
   * Relu or Clip (constant bounds) when `allowAct`. Returns the output range as clamp bounds.
   */
  outQ(
    v: string,
    allowAct: boolean,
    /** Accept a 16-bit output (the A16W8 lowerings). */
    wide = false,
  ): { q: Node; out: Q8; act?: Node; capNode?: Node; cap?: ChannelCap; min: number; max: number } | string {
    let c = this.onlyConsumer(v);
    let act: Node | undefined;
    if (c && allowAct && (isOp(c, 'Relu') || isOp(c, 'Clip')) && !this.handled.has(c)) {
      act = c;
      c = this.onlyConsumer(c.outputs[0]!);
    }
    // Equalization's ReLU6 crossed with per-channel scales: Relu, then Min with a constant bound.
    let capNode: Node | undefined, capBound: Tensor | undefined;
    if (c && act && isOp(act, 'Relu') && isOp(c, 'Min') && c.inputs.length === 2 && !this.handled.has(c)) {
      const other = c.inputs[0] === act.outputs[0] ? c.inputs[1] : c.inputs[1] === act.outputs[0] ? c.inputs[0] : undefined;
      const t = other ? this.consts.get(other) : undefined;
      if (t && t.dtype === 'float32') {
        capNode = c;
        capBound = t;
        c = this.onlyConsumer(c.outputs[0]!);
      }
    }
    if (!c || !isOp(c, 'QuantizeLinear')) return `output '${v}' does not go only into a QuantizeLinear`;
    const p = this.qdqParams(c);
    if (!p) return `QuantizeLinear '${c.name || c.outputs[0]}' has non-constant or unsupported parameters`;
    if (p.scale.length !== 1) return `output quantization is per axis`;
    const is16 = WIDE_TYPES.has(p.dtype);
    if (p.dtype !== 'uint8' && p.dtype !== 'int8' && !(wide && is16))
      return `output type ${p.dtype} is not 8-bit${is16 ? ' (no 16-bit integer form for this op)' : ''}`;
    const out: Q8 = {
      scale: p.scale[0]!,
      zp: p.zp[0]!,
      signed: p.dtype === 'int8' || p.dtype === 'int16',
      ...(is16 ? { bits: 16 as const } : {}),
    };
    let { lo: min, hi: max } = qRange(out);
    if (act) {
      const b = this.actBounds(act);
      if (typeof b === 'string') return b;
      // Monotone: Q(clip(v, a, b)) = clamp(Q(v), Q(a), Q(b)).
      if (b.lo > -Infinity) min = Math.max(min, quantizeScalar(b.lo, out));
      if (b.hi < Infinity) max = Math.min(max, quantizeScalar(b.hi, out));
      if (min > max) min = max;
    }
    let cap: ChannelCap | undefined;
    if (capNode && capBound) {
      // Monotone again: Q(min(v, c_i)) = min(Q(v), Q(c_i)); one bound folds into max.
      const bounds = Int32Array.from(capBound.data as Float32Array, (b) => Math.max(min, Math.min(max, quantizeScalar(b, out))));
      if (bounds.length === 1) max = bounds[0]!;
      else cap = { node: capNode, bounds, dims: capBound.dims };
    }
    return { q: c, out, act, capNode, cap, min, max };
  }

  actBounds(n: Node): { lo: number; hi: number } | string {
    if (isOp(n, 'Relu')) return { lo: 0, hi: Infinity };
    const ctx = this.ctx(n);
    if (ctx.opset < 11) return { lo: ctx.attrs.float('min', -3.4028234663852886e38), hi: ctx.attrs.float('max', 3.4028234663852886e38) };
    const get = (i: number, def: number): number | undefined => {
      const name = n.inputs[i];
      if (!name) return def;
      const t = this.consts.get(name);
      return t ? Number((t.data as ArrayLike<number>)[0]) : undefined;
    };
    const lo = get(1, -Infinity),
      hi = get(2, Infinity);
    if (lo === undefined || hi === undefined) return `Clip bounds are not constant`;
    return { lo, hi };
  }

  requant(multipliers: ArrayLike<number>, out: Q8, min: number, max: number): RequantParams {
    return makeRequant(this.opts.mode, multipliers, { zeroPoint: out.zp, signed: out.signed, bits: out.bits, min, max });
  }

  /** M = Sx * Sw[c] / Sy per channel, as the mode computes it. */
  multipliers(sx: number, sw: Float32Array, sy: number): Float64Array {
    const m = new Float64Array(sw.length);
    for (let c = 0; c < sw.length; c++)
      m[c] = this.opts.mode === 'float' ? floatMultiplier(sx, sw[c]!, sy) : (Math.fround(sx) * Math.fround(sw[c]!)) / Math.fround(sy);
    return m;
  }

  record(node: Node, e: Omit<LoweringEntry, 'node' | 'opType'>): void {
    this.report.set(node, {
      node: node.name || nodeLabel(node),
      opType: node.domain ? `${node.domain}::${node.opType}` : node.opType,
      ...e,
    });
  }

  fuse(into: Node, nodes: (Node | undefined)[], what: string): void {
    for (const n of nodes) {
      if (!n) continue;
      this.handled.add(n);
      this.record(n, { execution: 'fused', kernel: into.name || nodeLabel(into), reason: what });
    }
  }

  push(node: Node, inputs: string[], outputs: string[], run: (v: Values) => void, extra: { table?: TableStep; pure?: boolean } = {}): void {
    this.handled.add(node);
    this.steps.push({ node, inputs: inputs.filter(Boolean), outputs, run, ...extra });
  }

  /** Per-channel weights of a Conv/Gemm: constant 8-bit or 4-bit (unsigned shifted to int8, exactly). */
  weights(
    v: string,
    wantAxis: number,
    rank: number,
  ): { w: Int8Array; zp: Int32Array; scale: Float32Array; dims: readonly number[]; dq: Node } | string {
    const d = this.dq(v);
    if (!d) return `weights '${v}' are not a DequantizeLinear of constant parameters`;
    const t = this.consts.get(d.src);
    if (!t) return `weights '${v}' are not constant`;
    if (!['int8', 'uint8', 'int4', 'uint4'].includes(t.dtype)) return `weights are ${t.dtype}, not 8-bit or 4-bit`;
    if (t.rank !== rank) return `weights have rank ${t.rank}`;
    if (d.scale.length > 1) {
      const ax = d.axis < 0 ? d.axis + t.rank : d.axis;
      if (ax !== wantAxis) return `weights are quantized along axis ${ax}, not the output-channel axis ${wantAxis}`;
    }
    const { w, zp } = toInt8(t, d.zp);
    return { w, zp, scale: d.scale, dims: t.dims, dq: d.node };
  }

  /** int32 bias in the accumulator scale Sx*Sw[c]: DQ(int32) with that scale, or a float constant quantized here. */
  bias(
    node: Node,
    v: string | undefined,
    sx: number,
    sw: Float32Array,
    n: number,
  ): { bias: Int32Array | null; dq?: Node; note?: string } | string {
    if (!v) return { bias: null };
    const d = this.dq(v);
    const sAt = (c: number) => Math.fround(sx) * Math.fround(sw[sw.length === 1 ? 0 : c]!);
    if (d) {
      const t = this.consts.get(d.src);
      if (t?.dtype !== 'int32') return `bias is not a constant int32 tensor`;
      if (t.size !== n) this.bad(node, `bias has ${t.size} elements, expected ${n}`);
      for (let c = 0; c < n; c++) {
        const sb = d.scale[d.scale.length === 1 ? 0 : c]!,
          want = sAt(c);
        if (Math.abs(sb - want) > 1e-4 * want)
          this.bad(node, `bias scale ${sb} of channel ${c} is inconsistent with input scale * weight scale = ${want}`);
        if (d.zp[d.zp.length === 1 ? 0 : c] !== 0) this.bad(node, `bias zero point must be 0`);
      }
      return { bias: new Int32Array(t.data as Int32Array), dq: d.node };
    }
    const t = this.consts.get(v);
    if (t?.dtype !== 'float32') return `bias '${v}' is neither a quantized int32 nor a constant float32`;
    if (t.size !== n) this.bad(node, `bias has ${t.size} elements, expected ${n}`);
    const b = new Int32Array(n);
    for (let c = 0; c < n; c++)
      b[c] = Math.max(-2147483648, Math.min(2147483647, roundHalfEven(Math.fround((t.data as Float32Array)[c]! / sAt(c)))));
    return { bias: b, note: 'float bias quantized to int32 at lowering' };
  }

  /** A 256-entry table mapping x's 8-bit values through `f` (float op on the dequantized values) to y. */
  table(node: Node, x: Q8, y: Q8, f?: (t: Tensor) => Tensor): Uint8Array {
    const t = new Float32Array(256);
    for (let i = 0; i < 256; i++) {
      const q = x.signed && i >= 128 ? i - 256 : i;
      t[i] = Math.fround(Math.fround(q - x.zp) * x.scale);
    }
    const fx = f ? f(new Tensor('float32', t, [256])) : new Tensor('float32', t, [256]);
    if (fx.dtype !== 'float32' || fx.size !== 256) this.bad(node, `table function returned ${fx.dtype}[${fx.dims.join(', ')}]`);
    const out = new Uint8Array(256);
    for (let i = 0; i < 256; i++) out[i] = quantizeScalar((fx.data as Float32Array)[i]!, y) & 0xff;
    return out;
  }
}

/** Same scale, zero point and type in and out: nothing to do to the values. */
export function sameQ8(a: Q8, b: Q8): boolean {
  return a.scale === b.scale && a.zp === b.zp && a.signed === b.signed && a.bits === b.bits;
}

/** Why a 16-bit input stops at its reader (the float fallback's reason). */
function node16(lc: LowerContext, v: string): string {
  const readers = lc.consumers.get(v) ?? [];
  return readers.length ? `no 16-bit integer form for ${readers.map((r) => r.opType).join('/')}` : 'no 16-bit reader';
}

/** A scalar/per-axis parameter read at run time (QOperator ops may take them as graph inputs). */
export function param(values: Values, node: Node, i: number, what: string): Float64Array {
  const name = node.inputs[i];
  if (!name) return new Float64Array([0]);
  const t = values.get(name);
  if (!t) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)}: ${what} has no value`);
  const d = t.data as ArrayLike<number>;
  const out = new Float64Array(t.size);
  for (let k = 0; k < t.size; k++) out[k] = t.dtype === 'float16' ? fromHalf(d[k]!) : Number(d[k]);
  return out;
}

export function isOp(n: Node, op: string): boolean {
  return n.opType === op && (!n.domain || n.domain === 'ai.onnx');
}

export function rankOf(t: Tensor | undefined): number | undefined {
  return t?.rank;
}

export function normAxisOf(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Q(v) for one real value: QuantizeLinear's arithmetic (float32 division, half to even, saturate). */
export function quantizeScalar(v: number, q: Q8): number {
  const { lo, hi } = qRange(q);
  const f = Math.fround(v / q.scale);
  if (Number.isNaN(f)) return lo;
  const r = roundHalfEven(Math.max(lo - q.zp, Math.min(hi - q.zp, f))) + q.zp;
  return r;
}

export function layout(dims: readonly number[], axis: number, n: number, node: Node): { outer: number; axisLen: number; inner: number } {
  if (n === 1) return { outer: 1, axisLen: 1, inner: sizeOf(dims) };
  const a = normAxisOf(node, axis, dims.length);
  if (dims[a] !== n) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${n} scales for axis ${a} of dims [${dims.join(', ')}]`);
  return { outer: sizeOf(dims.slice(0, a)), axisLen: n, inner: sizeOf(dims.slice(a + 1)) };
}

/**
 * 8-bit (or 4-bit, held one per byte) weights as int8: uint8/uint4 w and zero points shift by -128,
 * which keeps every w - zw exact.
 */
export function toInt8(t: Tensor, zp: Int32Array): { w: Int8Array; zp: Int32Array } {
  if (t.dtype === 'int8' || t.dtype === 'int4') return { w: t.data as Int8Array, zp };
  if (t.dtype !== 'uint8' && t.dtype !== 'uint4') throw new OnnxPtqError('UNSUPPORTED_OP', `weights of type ${t.dtype} are not 8-bit`);
  const src = t.data as Uint8Array,
    w = new Int8Array(src.length);
  shiftToInt8(src, w);
  return { w, zp: zp.map((z) => z - 128) };
}

/**
 * dst = src - 128 as int8, i.e. each byte with its top bit flipped: four bytes at a time through
 * 32-bit views where both arrays are 4-byte aligned (the MatMul of two activations does this to a
 * uint8 operand on every run).
 */
export function shiftToInt8(src: Uint8Array, dst: Int8Array): void {
  const n = src.length;
  let i = 0;
  if (src.byteOffset % 4 === 0 && dst.byteOffset % 4 === 0) {
    const words = n >>> 2;
    const s32 = new Uint32Array(src.buffer, src.byteOffset, words),
      d32 = new Uint32Array(dst.buffer, dst.byteOffset, words);
    for (let w = 0; w < words; w++) d32[w] = s32[w]! ^ 0x80808080;
    i = words * 4;
  }
  for (; i < n; i++) dst[i] = src[i]! ^ 0x80;
}

export function broadcast(node: Node, a: readonly number[], b: readonly number[]): number[] {
  const out = broadcastShape(a, b);
  if (!out) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
  return out;
}

export function runImpl(impl: OpImpl, ctx: OpContext, node: Node, values: Values): void {
  runNode(impl, ctx, node, values);
}
