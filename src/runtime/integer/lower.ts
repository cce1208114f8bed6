// Lowering of a QDQ (or QOperator) graph into a plan of integer kernel calls. A float op whose
// activation inputs come from per-tensor DequantizeLinear and whose output goes (optionally through
// a Relu/Clip) into one QuantizeLinear becomes one integer step reading the 8-bit inputs of the DQs
// and writing the 8-bit output of the Q; everything else runs in float on the float engine's ops.
// DequantizeLinear nodes whose outputs nobody reads any more disappear from the plan.
import { OnnxPtqError } from '../../errors.js';
import { nodeLabel, type Graph, type Model, type Node } from '../../ir/graph.js';
import { opContext } from '../../ir/infer.js';
import type { OpRegistry } from '../../ops/index.js';
import { QUANT_RANGE } from '../../ops/qdq.js';
import type { OpContext, OpImpl } from '../../ops/types.js';
import { windowParams } from '../../ops/conv-util.js';
import { runNode } from '../feeds.js';
import { roundHalfEven } from '../../quant/fixedpoint.js';
import { makeQAddParams } from '../../quant/qadd.js';
import { floatMultiplier, makeRequant, type RequantMode, type RequantParams } from '../../quant/requant.js';
import { resizeNearestIndex, type CoordinateTransform, type NearestMode } from '../../kernels/int8/qlayout-ref.js';
import { poolOutputShape } from '../../backends/kernels-qpool.js';
import { fromHalf } from '../../ops/cast.js';
import { Tensor, sizeOf } from '../../tensor.js';
import type { Int8Like } from '../../backends/types.js';
import { IntKernels, type PreparedConv } from './kernels.js';
import { RunValues } from './plan.js';

/** How one node of the model runs. */
export interface LoweringEntry {
  /** The node's name, or its label when it has none. */
  node: string;
  opType: string;
  /** integer: an integer kernel; float: dequantized, run by the float engine, requantized; fused:
   *  part of another node's integer step; quantize/dequantize: a graph-boundary conversion. */
  execution: 'integer' | 'float' | 'fused' | 'quantize' | 'dequantize';
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
}

/** An 8-bit per-tensor quantization. */
interface Q8 {
  scale: number;
  zp: number;
  signed: boolean;
}

interface DqInfo {
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

const DATA_MOVEMENT = new Set(['Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout', 'Slice', 'Gather', 'Split', 'Pad', 'Expand', 'Tile', 'DepthToSpace', 'SpaceToDepth']);
/** Data movement that never introduces new values (Pad does, with its constant): safe on 8-bit data. */
const PURE_MOVEMENT = new Set(['Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout', 'Slice', 'Gather', 'Expand', 'Tile', 'DepthToSpace', 'SpaceToDepth']);
const UNARY = new Set(['Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'LeakyRelu', 'Relu', 'Clip', 'Elu', 'Selu', 'Softplus', 'Softsign', 'Exp', 'Log', 'Neg', 'Abs', 'Sqrt', 'Erf', 'Gelu', 'Mish', 'Celu', 'ThresholdedRelu', 'Sin', 'Cos', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'PRelu']);

export class Lowering {
  readonly steps: Step[] = [];
  readonly report = new Map<Node, LoweringEntry>();
  private readonly graph: Graph;
  private readonly consts: Map<string, Tensor>;
  private readonly handled = new Set<Node>();
  private readonly producers = new Map<string, Node>();
  private readonly consumers = new Map<string, Node[]>();
  private readonly graphOutputs: Set<string>;

  constructor(private readonly model: Pick<Model, 'opsetImports' | 'graph'>, private readonly opts: LowerOptions) {
    this.graph = model.graph;
    this.consts = model.graph.initializers;
    this.graphOutputs = new Set(model.graph.outputs.map((o) => o.name));
    for (const n of this.graph.nodes) {
      for (const o of n.outputs) if (o) this.producers.set(o, n);
      for (const i of n.inputs) if (i) (this.consumers.get(i) ?? this.consumers.set(i, []).get(i)!).push(n);
    }
  }

  lower(): void {
    const order = this.graph.topologicalOrder();
    for (const node of order) {
      if (this.handled.has(node)) continue;
      if (isOp(node, 'QuantizeLinear') || isOp(node, 'DequantizeLinear')) {
        this.boundary(node);
        continue;
      }
      let reason: string | undefined;
      try {
        reason = this.tryInteger(node);
      } catch (e) {
        if (e instanceof OnnxPtqError) throw e;
        throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)}: lowering failed: ${(e as Error).message}`, { cause: e });
      }
      if (reason !== undefined) this.float(node, reason);
    }
    this.prune();
  }

  // ---- helpers -------------------------------------------------------------------------------

  private ctx(node: Node): OpContext {
    return opContext(this.model, node);
  }

  private bad(node: Node, msg: string): never {
    throw new OnnxPtqError('INVALID_MODEL', `${nodeLabel(node)}: ${msg}`);
  }

  /** Constant scale/zero point of a Q or DQ node, validated. */
  private qdqParams(node: Node): { scale: Float32Array; zp: Int32Array; axis: number; dtype: string } | undefined {
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
    if (scale.length > 1 || s.dims.length === 1 && s.dims[0]! > 1) {
      axis = this.ctx(node).attrs.int('axis', 1);
    }
    return { scale, zp, axis, dtype };
  }

  private dtypeOf(v: string): string | undefined {
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
  private dq(v: string): DqInfo | undefined {
    const p = this.producers.get(v);
    if (!p || !isOp(p, 'DequantizeLinear')) return undefined;
    const q = this.qdqParams(p);
    if (!q) return undefined;
    return { node: p, src: p.inputs[0]!, ...q };
  }

  /** An activation input: per-tensor 8-bit DQ. */
  private act(v: string): (Q8 & { src: string; dq: DqInfo }) | string {
    const d = this.dq(v);
    if (!d) return `input '${v}' does not come from a DequantizeLinear with constant parameters`;
    if (d.scale.length !== 1) return `input '${v}' is quantized per axis`;
    if (d.dtype !== 'uint8' && d.dtype !== 'int8') return `input '${v}' is ${d.dtype}, not 8-bit`;
    return { src: d.src, scale: d.scale[0]!, zp: d.zp[0]!, signed: d.dtype === 'int8', dq: d };
  }

  private onlyConsumer(v: string): Node | undefined {
    if (this.graphOutputs.has(v)) return undefined;
    const c = this.consumers.get(v) ?? [];
    return c.length === 1 ? c[0] : undefined;
  }

  /**
   * The QuantizeLinear (per tensor, 8-bit) that is the only reader of `v`, optionally through one
   * Relu or Clip (constant bounds) when `allowAct`. Returns the output range as clamp bounds.
   */
  private outQ(v: string, allowAct: boolean): { q: Node; out: Q8; act?: Node; min: number; max: number } | string {
    let c = this.onlyConsumer(v);
    let act: Node | undefined;
    if (c && allowAct && (isOp(c, 'Relu') || isOp(c, 'Clip')) && !this.handled.has(c)) {
      act = c;
      c = this.onlyConsumer(c.outputs[0]!);
    }
    if (!c || !isOp(c, 'QuantizeLinear')) return `output '${v}' does not go only into a QuantizeLinear`;
    const p = this.qdqParams(c);
    if (!p) return `QuantizeLinear '${c.name || c.outputs[0]}' has non-constant or unsupported parameters`;
    if (p.scale.length !== 1) return `output quantization is per axis`;
    if (p.dtype !== 'uint8' && p.dtype !== 'int8') return `output type ${p.dtype} is not 8-bit`;
    const out: Q8 = { scale: p.scale[0]!, zp: p.zp[0]!, signed: p.dtype === 'int8' };
    let min = out.signed ? -128 : 0, max = out.signed ? 127 : 255;
    if (act) {
      const b = this.actBounds(act);
      if (typeof b === 'string') return b;
      // Monotone: Q(clip(v, a, b)) = clamp(Q(v), Q(a), Q(b)).
      if (b.lo > -Infinity) min = Math.max(min, quantizeScalar(b.lo, out));
      if (b.hi < Infinity) max = Math.min(max, quantizeScalar(b.hi, out));
      if (min > max) min = max;
    }
    return { q: c, out, act, min, max };
  }

  private actBounds(n: Node): { lo: number; hi: number } | string {
    if (isOp(n, 'Relu')) return { lo: 0, hi: Infinity };
    const ctx = this.ctx(n);
    if (ctx.opset < 11) return { lo: ctx.attrs.float('min', -3.4028234663852886e38), hi: ctx.attrs.float('max', 3.4028234663852886e38) };
    const get = (i: number, def: number): number | undefined => {
      const name = n.inputs[i];
      if (!name) return def;
      const t = this.consts.get(name);
      return t ? Number((t.data as ArrayLike<number>)[0]) : undefined;
    };
    const lo = get(1, -Infinity), hi = get(2, Infinity);
    if (lo === undefined || hi === undefined) return `Clip bounds are not constant`;
    return { lo, hi };
  }

  private requant(multipliers: ArrayLike<number>, out: Q8, min: number, max: number): RequantParams {
    return makeRequant(this.opts.mode, multipliers, { zeroPoint: out.zp, signed: out.signed, min, max });
  }

  /** M = Sx * Sw[c] / Sy per channel, as the mode computes it. */
  private multipliers(sx: number, sw: Float32Array, sy: number): Float64Array {
    const m = new Float64Array(sw.length);
    for (let c = 0; c < sw.length; c++) m[c] = this.opts.mode === 'float' ? floatMultiplier(sx, sw[c]!, sy) : (Math.fround(sx) * Math.fround(sw[c]!)) / Math.fround(sy);
    return m;
  }

  private record(node: Node, e: Omit<LoweringEntry, 'node' | 'opType'>): void {
    this.report.set(node, { node: node.name || nodeLabel(node), opType: node.domain ? `${node.domain}::${node.opType}` : node.opType, ...e });
  }

  private fuse(into: Node, nodes: (Node | undefined)[], what: string): void {
    for (const n of nodes) {
      if (!n) continue;
      this.handled.add(n);
      this.record(n, { execution: 'fused', kernel: into.name || nodeLabel(into), reason: what });
    }
  }

  private push(node: Node, inputs: string[], outputs: string[], run: (v: Values) => void): void {
    this.handled.add(node);
    this.steps.push({ node, inputs: inputs.filter(Boolean), outputs, run });
  }

  // ---- float and boundary steps ---------------------------------------------------------------

  private float(node: Node, reason: string): void {
    const impl = this.opts.registry.get(node.opType, node.domain);
    if (!impl) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: op ${node.domain ? node.domain + '::' : ''}${node.opType} has no integer lowering (${reason}) and no float implementation`);
    const ctx = this.ctx(node);
    this.record(node, { execution: 'float', reason });
    this.push(node, node.inputs, node.outputs, (values) => runImpl(impl, ctx, node, values));
  }

  private boundary(node: Node): void {
    const impl = this.opts.registry.get(node.opType, node.domain)!;
    const ctx = this.ctx(node);
    const quant = isOp(node, 'QuantizeLinear');
    const p = this.qdqParams(node);
    const k = this.opts.kernels;
    if (p && (p.dtype === 'uint8' || p.dtype === 'int8' || (!quant && p.dtype === 'int32'))) {
      const kernel = quant ? k.which('quantizeLinear') : k.which('dequantizeLinear');
      this.record(node, { execution: quant ? 'quantize' : 'dequantize', kernel });
      this.push(node, node.inputs, node.outputs, (values) => {
        const x = values.get(node.inputs[0]!);
        if (!x) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)}: input has no value`);
        if ((quant && x.dtype !== 'float32') || (!quant && x.dtype !== p.dtype)) {
          runImpl(impl, ctx, node, values);
          return;
        }
        const lay = layout(x.dims, p.axis, p.scale.length, node);
        if (quant) {
          const y = values.out8(node.outputs[0]!, p.dtype === 'int8', x.size);
          k.quantizeLinear({ ...lay, scale: p.scale, zeroPoint: p.zp, x: x.data as Float32Array, y });
          values.set(node.outputs[0]!, new Tensor(p.dtype as 'int8', y, x.dims));
        } else {
          const y = values.out(node.outputs[0]!, 'float32', x.size);
          k.dequantizeLinear({ ...lay, scale: p.scale, zeroPoint: p.zp, x: x.data as Int8Array, y });
          values.set(node.outputs[0]!, new Tensor('float32', y, x.dims));
        }
      });
      return;
    }
    this.record(node, { execution: quant ? 'quantize' : 'dequantize', kernel: 'float engine', reason: 'parameters are not constant or not 8-bit' });
    this.push(node, node.inputs, node.outputs, (values) => runImpl(impl, ctx, node, values));
  }

  /** Drops steps whose outputs nobody reads (DQs absorbed by integer steps). */
  private prune(): void {
    const needed = new Set(this.graphOutputs);
    const keep: Step[] = [];
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i]!;
      if (s.outputs.some((o) => o && needed.has(o))) {
        keep.push(s);
        for (const x of s.inputs) needed.add(x);
      } else if (isOp(s.node, 'DequantizeLinear')) {
        this.record(s.node, { execution: 'fused', kernel: 'integer consumers', reason: 'only integer steps read its input' });
      } else {
        keep.push(s); // keep anything else: its absence would hide a bug
        for (const x of s.inputs) needed.add(x);
      }
    }
    keep.reverse();
    this.steps.length = 0;
    for (const s of keep) if (!this.dequantizeOnce(s)) this.steps.push(s);
  }

  /**
   * A DequantizeLinear of constants that a float step still reads (a float fallback's weights) runs
   * once here and its output becomes a constant, instead of being dequantized again on every run.
   */
  private dequantizeOnce(s: Step): boolean {
    if (!isOp(s.node, 'DequantizeLinear') || !s.inputs.every((x) => this.consts.has(x)) || this.graphOutputs.has(s.outputs[0]!)) return false;
    const values = new RunValues(this.consts);
    s.run(values);
    const y = values.get(s.outputs[0]!);
    if (!y) return false;
    this.consts.set(s.outputs[0]!, y);
    const e = this.report.get(s.node);
    this.record(s.node, { execution: 'dequantize', kernel: `${e?.kernel ?? 'dequantizeLinear'}, once at session creation`, reason: 'constant input read by a float step' });
    return true;
  }

  // ---- integer patterns -----------------------------------------------------------------------

  /** Lowers `node` to an integer step; returns why not otherwise. */
  private tryInteger(node: Node): string | undefined {
    if (node.domain === 'com.microsoft') {
      if (node.opType === 'QLinearAdd') return this.qlinearAdd(node);
      return `no integer lowering for com.microsoft::${node.opType}`;
    }
    if (node.domain) return `domain '${node.domain}'`;
    switch (node.opType) {
      case 'Conv':
        return this.qdqConv(node);
      case 'Gemm':
      case 'MatMul':
        return this.qdqGemm(node);
      case 'Add':
      case 'Mul':
        return this.qdqBinary(node);
      case 'Concat':
        return this.qdqConcat(node);
      case 'MaxPool':
      case 'AveragePool':
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        return this.qdqPool(node);
      case 'Resize':
        return this.qdqResize(node);
      case 'QLinearConv':
        return this.qlinearConv(node);
      case 'QLinearMatMul':
        return this.qlinearMatMul(node);
      case 'ConvInteger':
        return this.convInteger(node);
      case 'MatMulInteger':
        return this.matMulInteger(node);
    }
    if (DATA_MOVEMENT.has(node.opType)) return this.qdqMove(node);
    if (UNARY.has(node.opType)) return this.qdqUnary(node);
    return `no integer form for ${node.opType}`;
  }

  /** Per-channel weights of a Conv/Gemm: constant 8-bit (uint8 shifted to int8, exactly). */
  private weights(v: string, wantAxis: number, rank: number): { w: Int8Array; zp: Int32Array; scale: Float32Array; dims: readonly number[]; dq: Node } | string {
    const d = this.dq(v);
    if (!d) return `weights '${v}' are not a DequantizeLinear of constant parameters`;
    const t = this.consts.get(d.src);
    if (!t) return `weights '${v}' are not constant`;
    if (t.dtype !== 'int8' && t.dtype !== 'uint8') return `weights are ${t.dtype}, not 8-bit`;
    if (t.rank !== rank) return `weights have rank ${t.rank}`;
    if (d.scale.length > 1) {
      const ax = d.axis < 0 ? d.axis + t.rank : d.axis;
      if (ax !== wantAxis) return `weights are quantized along axis ${ax}, not the output-channel axis ${wantAxis}`;
    }
    const { w, zp } = toInt8(t, d.zp);
    return { w, zp, scale: d.scale, dims: t.dims, dq: d.node };
  }

  /** int32 bias in the accumulator scale Sx*Sw[c]: DQ(int32) with that scale, or a float constant quantized here. */
  private bias(node: Node, v: string | undefined, sx: number, sw: Float32Array, n: number): { bias: Int32Array | null; dq?: Node; note?: string } | string {
    if (!v) return { bias: null };
    const d = this.dq(v);
    const sAt = (c: number) => Math.fround(sx) * Math.fround(sw[sw.length === 1 ? 0 : c]!);
    if (d) {
      const t = this.consts.get(d.src);
      if (!t || t.dtype !== 'int32') return `bias is not a constant int32 tensor`;
      if (t.size !== n) this.bad(node, `bias has ${t.size} elements, expected ${n}`);
      for (let c = 0; c < n; c++) {
        const sb = d.scale[d.scale.length === 1 ? 0 : c]!, want = sAt(c);
        if (Math.abs(sb - want) > 1e-4 * want)
          this.bad(node, `bias scale ${sb} of channel ${c} is inconsistent with input scale * weight scale = ${want}`);
        if (d.zp[d.zp.length === 1 ? 0 : c] !== 0) this.bad(node, `bias zero point must be 0`);
      }
      return { bias: new Int32Array(t.data as Int32Array), dq: d.node };
    }
    const t = this.consts.get(v);
    if (!t || t.dtype !== 'float32') return `bias '${v}' is neither a quantized int32 nor a constant float32`;
    if (t.size !== n) this.bad(node, `bias has ${t.size} elements, expected ${n}`);
    const b = new Int32Array(n);
    for (let c = 0; c < n; c++) b[c] = Math.max(-2147483648, Math.min(2147483647, roundHalfEven(Math.fround((t.data as Float32Array)[c]! / sAt(c)))));
    return { bias: b, note: 'float bias quantized to int32 at lowering' };
  }

  private qdqConv(node: Node): string | undefined {
    const x = this.act(node.inputs[0]!);
    if (typeof x === 'string') return x;
    const w = this.weights(node.inputs[1]!, 0, rankOf(this.consts.get(this.dq(node.inputs[1]!)?.src ?? '')) ?? 4);
    if (typeof w === 'string') return w;
    if (w.dims.length !== 4 && w.dims.length !== 3) return `only 1-D and 2-D convolutions run in integer`;
    const o = this.outQ(node.outputs[0]!, true);
    if (typeof o === 'string') return o;
    const cout = w.dims[0]!;
    const b = this.bias(node, node.inputs[2], x.scale, w.scale, cout);
    if (typeof b === 'string') return b;
    const rq = this.requant(this.multipliers(x.scale, w.scale, o.out.scale), o.out, o.min, o.max);
    const ctx = this.ctx(node);
    const k = this.opts.kernels;
    const cache = new Map<string, PreparedConv>();
    const yName = o.q.outputs[0]!;
    this.convStep(node, ctx, x.src, x.zp, w.w, w.zp, w.dims, b.bias, rq, o.out.signed, yName, cache, k);
    this.record(node, { execution: 'integer', kernel: k.convKernel, reason: [o.act ? `fused ${o.act.opType}` : '', b.note ?? ''].filter(Boolean).join('; ') || undefined });
    this.fuse(node, [o.act, o.q], `output of ${node.opType}`);
    return undefined;
  }

  private convStep(
    node: Node, ctx: OpContext, xName: string, xZp: number, w: Int8Array, wZp: Int32Array, wDims: readonly number[],
    bias: Int32Array | null, rq: RequantParams, signed: boolean, yName: string, cache: Map<string, PreparedConv>, k: IntKernels,
  ): void {
    this.push(node, [xName], [yName], (values) => {
      const x = values.get(xName)!;
      const y = runConv(ctx, x, xZp, w, wZp, wDims, bias, rq, signed, cache, k, (n) => values.out8(yName, signed, n));
      values.set(yName, y);
    });
  }

  private qdqGemm(node: Node): string | undefined {
    const ctx = this.ctx(node);
    const gemm = node.opType === 'Gemm';
    if (gemm && (ctx.attrs.int('transA', 0) !== 0 || ctx.attrs.float('alpha', 1) !== 1 || ctx.attrs.float('beta', 1) !== 1)) return `Gemm with transA, alpha or beta other than the defaults`;
    const a = this.act(node.inputs[0]!);
    if (typeof a === 'string') return a;
    const transB = gemm && ctx.attrs.int('transB', 0) === 1;
    const w = this.weights(node.inputs[1]!, transB ? 0 : 1, 2);
    if (typeof w === 'string') return w;
    const [K, N] = transB ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
    const o = this.outQ(node.outputs[0]!, true);
    if (typeof o === 'string') return o;
    let biasIn = gemm ? node.inputs[2] : undefined;
    if (biasIn && this.consts.get(biasIn) === undefined && !this.dq(biasIn)) return `Gemm C is not constant`;
    if (biasIn) {
      const cd = this.dq(biasIn);
      const ct = cd ? this.consts.get(cd.src) : this.consts.get(biasIn);
      if (ct && ct.size !== N) return `Gemm C of shape [${ct.dims.join(', ')}] is not a per-column bias`;
    }
    const b = this.bias(node, biasIn, a.scale, w.scale, N);
    if (typeof b === 'string') return b;
    // B as [K, N] int8 (transposed once here for transB).
    let B = w.w;
    if (transB) {
      B = new Int8Array(K * N);
      for (let n = 0; n < N; n++) for (let kk = 0; kk < K; kk++) B[kk * N + n] = w.w[n * K + kk]!;
    }
    const rq = this.requant(this.multipliers(a.scale, w.scale, o.out.scale), o.out, o.min, o.max);
    const yName = o.q.outputs[0]!;
    const be = this.opts.kernels.backend;
    const bZp = w.zp, bias = b.bias, signed = o.out.signed, azp = a.zp, src = a.src;
    this.push(node, [src], [yName], (values) => {
      const x = values.get(src)!;
      if (x.rank < 1 || x.dims[x.rank - 1] !== K) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input has dims [${x.dims.join(', ')}], its last axis must be ${K}`);
      if (gemm && x.rank !== 2) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: Gemm input must be 2-D, got [${x.dims.join(', ')}]`);
      const M = x.size / K;
      const y = values.out8(yName, signed, M * N);
      if (M > 0) be.qgemm({ m: M, n: N, k: K, a: x.data as Int8Like, aZeroPoint: azp, b: B, bZeroPoint: bZp, bias, requant: rq, y });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, [...x.dims.slice(0, -1), N]));
    });
    this.record(node, { execution: 'integer', kernel: 'qgemm', reason: [o.act ? `fused ${o.act.opType}` : '', transB ? 'weights transposed at lowering' : '', b.note ?? ''].filter(Boolean).join('; ') || undefined });
    this.fuse(node, [o.act, o.q], `output of ${node.opType}`);
    return undefined;
  }

  private qdqBinary(node: Node): string | undefined {
    const a = this.act(node.inputs[0]!), b = this.act(node.inputs[1]!);
    if (typeof a === 'string') return a;
    if (typeof b === 'string') return b;
    const o = this.outQ(node.outputs[0]!, node.opType === 'Add');
    if (typeof o === 'string') return o;
    const add = node.opType === 'Add';
    if (add && (a.signed !== o.out.signed || b.signed !== o.out.signed)) return `Add inputs and output do not share one 8-bit type`;
    if (!add && (a.signed !== o.out.signed || b.signed !== o.out.signed)) return `Mul inputs and output do not share one 8-bit type`;
    const k = this.opts.kernels;
    const yName = o.q.outputs[0]!;
    const signed = o.out.signed;
    let kernel: string;
    if (add) {
      const p = makeQAddParams(this.opts.mode, a.scale, a.zp, b.scale, b.zp, o.out.scale, { zeroPoint: o.out.zp, signed, min: o.min, max: o.max });
      kernel = k.which('qadd' as never);
      this.push(node, [a.src, b.src], [yName], (values) => {
        const A = values.get(a.src)!, B = values.get(b.src)!;
        const dims = broadcast(node, A.dims, B.dims);
        const y = values.out8(yName, signed, sizeOf(dims));
        k.qadd({ a: A.data as Int8Like, aShape: A.dims, b: B.data as Int8Like, bShape: B.dims, params: p, y });
        values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
      });
    } else {
      const m = this.opts.mode === 'float' ? floatMultiplier(a.scale, b.scale, o.out.scale) : (Math.fround(a.scale) * Math.fround(b.scale)) / Math.fround(o.out.scale);
      const rq = this.requant([m], o.out, o.min, o.max);
      kernel = k.which('qmul' as never);
      this.push(node, [a.src, b.src], [yName], (values) => {
        const A = values.get(a.src)!, B = values.get(b.src)!;
        const dims = broadcast(node, A.dims, B.dims);
        const y = values.out8(yName, signed, sizeOf(dims));
        k.qmul({ a: A.data as Int8Like, aShape: A.dims, aZeroPoint: a.zp, b: B.data as Int8Like, bShape: B.dims, bZeroPoint: b.zp, requant: rq, y });
        values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
      });
    }
    this.record(node, { execution: 'integer', kernel, reason: o.act ? `fused ${o.act.opType}` : undefined });
    this.fuse(node, [o.act, o.q], `output of ${node.opType}`);
    return undefined;
  }

  private qdqConcat(node: Node): string | undefined {
    const ins = node.inputs.map((v) => this.act(v));
    for (const x of ins) if (typeof x === 'string') return x;
    const xs = ins as Exclude<(typeof ins)[number], string>[];
    const o = this.outQ(node.outputs[0]!, false);
    if (typeof o === 'string') return o;
    if (xs.some((x) => x.signed !== o.out.signed)) return `Concat inputs and output do not share one 8-bit type`;
    const rqs = xs.map((x) =>
      x.scale === o.out.scale && x.zp === o.out.zp
        ? null
        : this.requant([this.opts.mode === 'float' ? Math.fround(Math.fround(x.scale) / Math.fround(o.out.scale)) : Math.fround(x.scale) / Math.fround(o.out.scale)], o.out, o.min, o.max),
    );
    const ctx = this.ctx(node);
    const k = this.opts.kernels;
    const yName = o.q.outputs[0]!;
    const signed = o.out.signed;
    this.push(node, xs.map((x) => x.src), [yName], (values) => {
      const ts = xs.map((x) => values.get(x.src)!);
      const r = ts[0]!.rank;
      const axis = normAxisOf(node, ctx.attrs.int('axis', 0), r);
      for (const t of ts) {
        if (t.rank !== r || t.dims.some((d, i) => i !== axis && d !== ts[0]!.dims[i]))
          throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: inputs of dims ${ts.map((u) => `[${u.dims.join(', ')}]`).join(', ')} do not concatenate along axis ${axis}`);
      }
      const outer = sizeOf(ts[0]!.dims.slice(0, axis)), inner = sizeOf(ts[0]!.dims.slice(axis + 1));
      const axisDims = ts.map((t) => t.dims[axis]!);
      const dims = [...ts[0]!.dims];
      dims[axis] = axisDims.reduce((s, d) => s + d, 0);
      const y = values.out8(yName, signed, sizeOf(dims));
      k.concat({ inputs: ts.map((t) => t.data as Int8Like), axisDims, zeroPoints: xs.map((x) => x.zp), requant: rqs, outer, inner, y });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
    });
    this.record(node, { execution: 'integer', kernel: k.which('concat' as never) });
    this.fuse(node, [o.q], `output of ${node.opType}`);
    return undefined;
  }

  /** A 256-entry table mapping x's 8-bit values through `f` (float op on the dequantized values) to y. */
  private table(node: Node, x: Q8, y: Q8, f?: (t: Tensor) => Tensor): Uint8Array {
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

  private qdqUnary(node: Node): string | undefined {
    const x = this.act(node.inputs[0]!);
    if (typeof x === 'string') return x;
    // Extra inputs (Clip bounds, PRelu slope) must be constant: they become part of the table.
    for (let i = 1; i < node.inputs.length; i++) {
      const v = node.inputs[i];
      if (v && !this.consts.has(v)) return `input '${v}' is not constant`;
    }
    if (isOp(node, 'PRelu') && node.inputs[1] && this.consts.get(node.inputs[1])!.size !== 1) return `PRelu with a per-channel slope`;
    const o = this.outQ(node.outputs[0]!, false);
    if (typeof o === 'string') return o;
    const impl = this.opts.registry.get(node.opType, node.domain);
    if (!impl) return `no float implementation to build the table from`;
    const ctx = this.ctx(node);
    const extra = node.inputs.slice(1).map((v) => (v ? this.consts.get(v) : undefined));
    const table = this.table(node, x, o.out, (t) => impl.run(ctx, [t, ...extra])[0]!);
    this.lutStep(node, x.src, o.q.outputs[0]!, o.out.signed, table);
    this.record(node, { execution: 'integer', kernel: this.opts.kernels.which('lut' as never), reason: '256-entry table' });
    this.fuse(node, [o.q], `output of ${node.opType}`);
    return undefined;
  }

  private lutStep(node: Node, src: string, yName: string, signed: boolean, table: Uint8Array): void {
    const k = this.opts.kernels;
    this.push(node, [src], [yName], (values) => {
      const x = values.get(src)!;
      const y = values.out8(yName, signed, x.size);
      k.lut({ x: x.data as Int8Like, table, y });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, x.dims));
    });
  }

  /** Same scale and zero point in and out: nothing to do to the values. */
  private static same(a: Q8, b: Q8): boolean {
    return a.scale === b.scale && a.zp === b.zp && a.signed === b.signed;
  }

  /** Data movement on 8-bit data (a table afterwards when the output quantization differs). */
  private qdqMove(node: Node): string | undefined {
    const x = this.act(node.inputs[0]!);
    if (typeof x === 'string') return x;
    if (node.outputs.filter(Boolean).length !== 1) return `more than one output`;
    if (!PURE_MOVEMENT.has(node.opType)) return `${node.opType} creates values (pads) that need requantization`;
    for (let i = 1; i < node.inputs.length; i++) {
      const v = node.inputs[i];
      if (v && !this.consts.has(v)) return `input '${v}' is not constant`;
    }
    if (isOp(node, 'Dropout') && node.inputs[2]) {
      const t = this.consts.get(node.inputs[2])!;
      if (t.size && (t.data as Uint8Array)[0]) return `training-mode Dropout`;
    }
    const o = this.outQ(node.outputs[0]!, false);
    if (typeof o === 'string') return o;
    const impl = this.opts.registry.get(node.opType, node.domain);
    if (!impl) return `no implementation`;
    const ctx = this.ctx(node);
    const yName = o.q.outputs[0]!;
    const same = Lowering.same(x, o.out);
    const table = same ? undefined : this.table(node, x, o.out);
    const k = this.opts.kernels;
    const rest = node.inputs.slice(1);
    this.push(node, [x.src], [yName], (values) => {
      const xt = values.get(x.src)!;
      const ins = [xt, ...rest.map((v) => (v ? values.get(v) : undefined))];
      let y = impl.run(ctx, ins)[0]!;
      if (table) {
        const d = values.out8(yName, o.out.signed, y.size);
        k.lut({ x: y.data as Int8Like, table, y: d });
        y = new Tensor(o.out.signed ? 'int8' : 'uint8', d, y.dims);
      }
      values.set(yName, y);
    });
    this.record(node, { execution: 'integer', kernel: same ? '8-bit data movement' : `8-bit data movement + ${k.which('lut' as never)}`, reason: same ? undefined : 'requantized by a table' });
    this.fuse(node, [o.q], `output of ${node.opType}`);
    return undefined;
  }

  private qdqPool(node: Node): string | undefined {
    const x = this.act(node.inputs[0]!);
    if (typeof x === 'string') return x;
    if (node.outputs.length > 1 && node.outputs[1]) return `MaxPool Indices output`;
    const o = this.outQ(node.outputs[0]!, false);
    if (typeof o === 'string') return o;
    if (o.out.signed !== x.signed) return `input and output types differ`;
    const ctx = this.ctx(node);
    const k = this.opts.kernels;
    const yName = o.q.outputs[0]!;
    const signed = o.out.signed;
    const isMax = node.opType === 'MaxPool' || node.opType === 'GlobalMaxPool';
    const table = isMax && !Lowering.same(x, o.out) ? this.table(node, x, o.out) : undefined;
    const M = this.opts.mode === 'float' ? Math.fround(Math.fround(x.scale) / Math.fround(o.out.scale)) : Math.fround(x.scale) / Math.fround(o.out.scale);
    const rq = this.requant([M], o.out, o.min, o.max);
    const global = node.opType.startsWith('Global');
    const kernelAttr = ctx.attrs.ints('kernel_shape');
    if (!global && (!kernelAttr || kernelAttr.length > 2)) return `only 1-D and 2-D pooling runs in integer`;
    if (!global && ctx.attrs.ints('dilations')?.some((d) => d !== 1) && !isMax) return `dilated AveragePool`;
    // With a table the pool writes a temporary and the table the planned output.
    const mk = (values: Values, n: number) => (table ? (signed ? new Int8Array(n) : new Uint8Array(n)) : values.out8(yName, signed, n));
    this.push(node, [x.src], [yName], (values) => {
      const xt = values.get(x.src)!;
      if (xt.rank < 3) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input must be N x C x spatial, got [${xt.dims.join(', ')}]`);
      let y: Int8Like;
      let dims: number[];
      if (global) {
        const nc = xt.dims[0]! * xt.dims[1]!, spatial = xt.size / Math.max(1, nc);
        y = mk(values, nc);
        dims = [xt.dims[0]!, xt.dims[1]!, ...xt.dims.slice(2).map(() => 1)];
        if (isMax) k.globalMaxPool({ x: xt.data as Int8Like, channels: nc, spatial, y });
        else k.globalAvgPool({ x: xt.data as Int8Like, channels: nc, spatial, xZeroPoint: x.zp, requant: rq, y });
      } else {
        const sp = xt.dims.slice(2);
        if (sp.length !== kernelAttr!.length) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: kernel_shape has ${kernelAttr!.length} axes, input [${xt.dims.join(', ')}]`);
        const ceil = ctx.attrs.int('ceil_mode', 0) === 1;
        const wp = windowParams(ctx, sp, kernelAttr!, { ceilMode: ceil });
        const two = sp.length === 1;
        const H = two ? 1 : sp[0]!, W = two ? sp[0]! : sp[1]!;
        const s = wp.strides.length === 1 ? [1, wp.strides[0]!] : wp.strides;
        const d = wp.dilations.length === 1 ? [1, wp.dilations[0]!] : wp.dilations;
        const kk = two ? [1, kernelAttr![0]!] : kernelAttr!;
        const p = wp.pads.length === 2 ? [0, wp.pads[0]!, 0, wp.pads[1]!] : wp.pads;
        const geom = { n: xt.dims[0]!, c: xt.dims[1]!, h: H, w: W, kernel: [kk[0]!, kk[1]!] as const, strides: [s[0]!, s[1]!] as const, pads: [p[0]!, p[1]!, p[2]!, p[3]!] as const, dilations: [d[0]!, d[1]!] as const, ceilMode: ceil };
        const [oh, ow] = poolOutputShape(geom);
        y = mk(values, geom.n * geom.c * oh * ow);
        dims = two ? [geom.n, geom.c, ow] : [geom.n, geom.c, oh, ow];
        if (isMax) k.maxPool({ ...geom, x: xt.data as Int8Like, y });
        else k.avgPool({ ...geom, x: xt.data as Int8Like, xZeroPoint: x.zp, requant: rq, countIncludePad: ctx.attrs.int('count_include_pad', 0) === 1, y });
      }
      if (table) {
        const t = values.out8(yName, signed, y.length);
        k.lut({ x: y, table, y: t });
        y = t;
      }
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
    });
    const kname = { MaxPool: 'maxPool', AveragePool: 'avgPool', GlobalMaxPool: 'globalMaxPool', GlobalAveragePool: 'globalAvgPool' }[node.opType]!;
    this.record(node, { execution: 'integer', kernel: k.which(kname as never) + (table ? ' + lut' : '') });
    this.fuse(node, [o.q], `output of ${node.opType}`);
    return undefined;
  }

  private qdqResize(node: Node): string | undefined {
    const ctx = this.ctx(node);
    if (ctx.attrs.string('mode', 'nearest') !== 'nearest') return `Resize mode '${ctx.attrs.string('mode', 'nearest')}' (only nearest runs in integer)`;
    const x = this.act(node.inputs[0]!);
    if (typeof x === 'string') return x;
    for (let i = 1; i < node.inputs.length; i++) {
      const v = node.inputs[i];
      if (v && !this.consts.has(v)) return `input '${v}' is not constant`;
    }
    if (ctx.opset >= 18 && (ctx.attrs.ints('axes') || ctx.attrs.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch')) return `Resize with axes or keep_aspect_ratio_policy`;
    const o = this.outQ(node.outputs[0]!, false);
    if (typeof o === 'string') return o;
    if (o.out.signed !== x.signed) return `input and output types differ`;
    const coord = ctx.attrs.string('coordinate_transformation_mode', 'half_pixel') as CoordinateTransform;
    if (!['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'].includes(coord)) return `coordinate_transformation_mode '${coord}'`;
    const nearest = ctx.attrs.string('nearest_mode', 'round_prefer_floor') as NearestMode;
    const table = Lowering.same(x, o.out) ? undefined : this.table(node, x, o.out);
    const scalesIn = ctx.opset >= 11 ? node.inputs[2] : node.inputs[1];
    const sizesIn = ctx.opset >= 11 ? node.inputs[3] : undefined;
    const scales = scalesIn ? this.consts.get(scalesIn)?.toNumbers() : undefined;
    const sizes = sizesIn ? this.consts.get(sizesIn)?.toNumbers() : undefined;
    const k = this.opts.kernels;
    const yName = o.q.outputs[0]!;
    const signed = o.out.signed;
    this.push(node, [x.src], [yName], (values) => {
      const xt = values.get(x.src)!;
      const r = xt.rank;
      let outDims: number[];
      let sc: number[];
      if (sizes && sizes.length === r) {
        outDims = sizes;
        sc = sizes.map((s, i) => s / xt.dims[i]!);
      } else if (scales && scales.length === r) {
        sc = scales.map((s) => Math.fround(s));
        outDims = xt.dims.map((d, i) => Math.floor(d * sc[i]!));
      } else throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: scales or sizes must have one entry per input axis (${r})`);
      if (r !== 4 && r !== 3) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: integer Resize needs a 3-D or 4-D input`);
      if (outDims[0] !== xt.dims[0] || outDims[1] !== xt.dims[1]) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: integer Resize scales only the spatial axes`);
      const H = r === 4 ? xt.dims[2]! : 1, W = xt.dims[r - 1]!, OH = r === 4 ? outDims[2]! : 1, OW = outDims[r - 1]!;
      const yIndex = r === 4 ? resizeNearestIndex(H, OH, coord, nearest, sc[2]) : new Int32Array(1);
      const xIndex = resizeNearestIndex(W, OW, coord, nearest, sc[r - 1]);
      const nc = xt.dims[0]! * xt.dims[1]!;
      let y: Int8Like = table ? (signed ? new Int8Array(nc * OH * OW) : new Uint8Array(nc * OH * OW)) : values.out8(yName, signed, nc * OH * OW);
      k.resizeNearest({ x: xt.data as Int8Like, nc, inH: H, inW: W, outH: OH, outW: OW, yIndex, xIndex, y });
      if (table) {
        const t = values.out8(yName, signed, y.length);
        k.lut({ x: y, table, y: t });
        y = t;
      }
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, outDims));
    });
    this.record(node, { execution: 'integer', kernel: k.which('resizeNearest' as never) + (table ? ' + lut' : '') });
    this.fuse(node, [o.q], `output of ${node.opType}`);
    return undefined;
  }

  // ---- QOperator ops ------------------------------------------------------------------------

  /** A scalar/per-axis parameter read at run time (QOperator ops may take them as graph inputs). */
  private static param(values: Values, node: Node, i: number, what: string): Float64Array {
    const name = node.inputs[i];
    if (!name) return new Float64Array([0]);
    const t = values.get(name);
    if (!t) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)}: ${what} has no value`);
    const d = t.data as ArrayLike<number>;
    const out = new Float64Array(t.size);
    for (let k = 0; k < t.size; k++) out[k] = t.dtype === 'float16' ? fromHalf(d[k]!) : Number(d[k]);
    return out;
  }

  private qlinearConv(node: Node): string | undefined {
    const ctx = this.ctx(node);
    const k = this.opts.kernels;
    const cache = new Map<string, PreparedConv>();
    const mode = this.opts.mode;
    const yName = node.outputs[0]!;
    this.push(node, node.inputs, [yName], (values) => {
      const P = (i: number, w: string) => Lowering.param(values, node, i, w);
      const x = values.get(node.inputs[0]!)!, wt = values.get(node.inputs[3]!)!;
      const sx = P(1, 'x_scale')[0]!, zx = P(2, 'x_zero_point')[0]!, sw = P(4, 'w_scale'), zw = P(5, 'w_zero_point'), sy = P(6, 'y_scale')[0]!, zy = P(7, 'y_zero_point')[0]!;
      const yz = values.get(node.inputs[7]!)!;
      const signed = yz.dtype === 'int8';
      const { w, zp } = toInt8(wt, Int32Array.from(zw));
      const bias = node.inputs[8] ? (values.get(node.inputs[8])!.data as Int32Array) : null;
      const m = new Float64Array(sw.length);
      for (let c = 0; c < sw.length; c++) m[c] = mode === 'float' ? floatMultiplier(sx, sw[c]!, sy) : (Math.fround(sx) * Math.fround(sw[c]!)) / Math.fround(sy);
      const rq = makeRequant(mode, m, { zeroPoint: zy, signed });
      const key = `${x.dims.join('x')}|${wt.dims.join('x')}`;
      if (!this.consts.has(node.inputs[3]!)) cache.clear();
      values.set(yName, runConv(ctx, x, zx, w, zp, wt.dims, bias, rq, signed, cache, k, (n) => values.out8(yName, signed, n), key));
    });
    this.record(node, { execution: 'integer', kernel: k.convKernel });
    return undefined;
  }

  private qlinearMatMul(node: Node): string | undefined {
    const be = this.opts.kernels.backend;
    const mode = this.opts.mode;
    const yName = node.outputs[0]!;
    this.push(node, node.inputs, [yName], (values) => {
      const P = (i: number, w: string) => Lowering.param(values, node, i, w);
      const a = values.get(node.inputs[0]!)!, bt = values.get(node.inputs[3]!)!;
      const sa = P(1, 'a_scale')[0]!, za = P(2, 'a_zero_point')[0]!, sb = P(4, 'b_scale'), zb = P(5, 'b_zero_point'), sy = P(6, 'y_scale')[0]!, zy = P(7, 'y_zero_point')[0]!;
      const signed = values.get(node.inputs[7]!)!.dtype === 'int8';
      const { w: B, zp: bzp } = toInt8(bt, Int32Array.from(zb));
      const m = new Float64Array(sb.length);
      for (let c = 0; c < sb.length; c++) m[c] = mode === 'float' ? floatMultiplier(sa, sb[c]!, sy) : (Math.fround(sa) * Math.fround(sb[c]!)) / Math.fround(sy);
      const rq = makeRequant(mode, m, { zeroPoint: zy, signed });
      values.set(yName, batchedGemm(node, a, za, B, bt.dims, bzp, rq, signed, (g) => be.qgemm(g), (n) => values.out8(yName, signed, n)));
    });
    this.record(node, { execution: 'integer', kernel: 'qgemm' });
    return undefined;
  }

  private convInteger(node: Node): string | undefined {
    const ctx = this.ctx(node);
    const yName = node.outputs[0]!;
    this.push(node, node.inputs, [yName], (values) => {
      const x = values.get(node.inputs[0]!)!, wt = values.get(node.inputs[1]!)!;
      const zx = Lowering.param(values, node, 2, 'x_zero_point')[0]!;
      const zw = Lowering.param(values, node, 3, 'w_zero_point');
      values.set(yName, convInt32(ctx, node, x, zx, wt, zw, (n) => values.out(yName, 'int32', n)));
    });
    this.record(node, { execution: 'integer', kernel: 'int32 conv (js)' });
    return undefined;
  }

  private matMulInteger(node: Node): string | undefined {
    const yName = node.outputs[0]!;
    this.push(node, node.inputs, [yName], (values) => {
      const a = values.get(node.inputs[0]!)!, b = values.get(node.inputs[1]!)!;
      const za = Lowering.param(values, node, 2, 'a_zero_point'), zb = Lowering.param(values, node, 3, 'b_zero_point');
      values.set(yName, matMulInt32(node, a, za, b, zb, (n) => values.out(yName, 'int32', n)));
    });
    this.record(node, { execution: 'integer', kernel: 'int32 matmul (js)' });
    return undefined;
  }

  private qlinearAdd(node: Node): string | undefined {
    const k = this.opts.kernels;
    const mode = this.opts.mode;
    const yName = node.outputs[0]!;
    this.push(node, node.inputs, [yName], (values) => {
      const P = (i: number, w: string) => Lowering.param(values, node, i, w)[0]!;
      const A = values.get(node.inputs[0]!)!, B = values.get(node.inputs[3]!)!;
      const signed = A.dtype === 'int8';
      if (B.dtype !== A.dtype) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: A is ${A.dtype}, B ${B.dtype}`);
      const p = makeQAddParams(mode, P(1, 'A_scale'), P(2, 'A_zero_point'), P(4, 'B_scale'), P(5, 'B_zero_point'), P(6, 'C_scale'), { zeroPoint: P(7, 'C_zero_point'), signed });
      const dims = broadcast(node, A.dims, B.dims);
      const y = values.out8(yName, signed, sizeOf(dims));
      k.qadd({ a: A.data as Int8Like, aShape: A.dims, b: B.data as Int8Like, bShape: B.dims, params: p, y });
      values.set(yName, new Tensor(signed ? 'int8' : 'uint8', y, dims));
    });
    this.record(node, { execution: 'integer', kernel: k.which('qadd' as never) });
    return undefined;
  }
}

// ---- shared helpers -----------------------------------------------------------------------------

function isOp(n: Node, op: string): boolean {
  return n.opType === op && (!n.domain || n.domain === 'ai.onnx');
}

function rankOf(t: Tensor | undefined): number | undefined {
  return t?.rank;
}

function normAxisOf(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Q(v) for one real value: QuantizeLinear's arithmetic (float32 division, half to even, saturate). */
export function quantizeScalar(v: number, q: Q8): number {
  const lo = q.signed ? -128 : 0, hi = q.signed ? 127 : 255;
  const f = Math.fround(v / q.scale);
  if (Number.isNaN(f)) return lo;
  const r = roundHalfEven(Math.max(lo - q.zp, Math.min(hi - q.zp, f))) + q.zp;
  return r;
}

function layout(dims: readonly number[], axis: number, n: number, node: Node): { outer: number; axisLen: number; inner: number } {
  if (n === 1) return { outer: 1, axisLen: 1, inner: sizeOf(dims) };
  const a = normAxisOf(node, axis, dims.length);
  if (dims[a] !== n) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${n} scales for axis ${a} of dims [${dims.join(', ')}]`);
  return { outer: sizeOf(dims.slice(0, a)), axisLen: n, inner: sizeOf(dims.slice(a + 1)) };
}

/** 8-bit weights as int8: uint8 w and zero points shift by -128, which keeps every w - zw exact. */
function toInt8(t: Tensor, zp: Int32Array): { w: Int8Array; zp: Int32Array } {
  if (t.dtype === 'int8') return { w: t.data as Int8Array, zp };
  if (t.dtype !== 'uint8') throw new OnnxPtqError('UNSUPPORTED_OP', `weights of type ${t.dtype} are not 8-bit`);
  const src = t.data as Uint8Array, w = new Int8Array(src.length);
  for (let i = 0; i < src.length; i++) w[i] = src[i]! - 128;
  return { w, zp: zp.map((z) => z - 128) };
}

function broadcast(node: Node, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function runImpl(impl: OpImpl, ctx: OpContext, node: Node, values: Values): void {
  runNode(impl, ctx, node, values);
}

/** An integer conv (1-D as 2-D with height 1) with its geometry from the input's dims. */
function runConv(
  ctx: OpContext, x: Tensor, xZp: number, w: Int8Array, wZp: Int32Array, wDims: readonly number[], bias: Int32Array | null,
  rq: RequantParams, signed: boolean, cache: Map<string, PreparedConv>, k: IntKernels, alloc: (n: number) => Int8Like, extraKey = '',
): Tensor {
  const node = ctx.node;
  if (x.dtype !== 'uint8' && x.dtype !== 'int8') throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input is ${x.dtype}, expected 8-bit`);
  if (x.rank !== wDims.length) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input dims [${x.dims.join(', ')}] do not match weights [${wDims.join(', ')}]`);
  const key = x.dims.join('x') + extraKey;
  let p = cache.get(key);
  if (!p) {
    const oneD = x.rank === 3;
    if (x.rank !== 4 && !oneD) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: only 1-D and 2-D integer convolution`);
    const groups = ctx.attrs.int('group', 1);
    const kernel = wDims.slice(2) as number[];
    const ks = ctx.attrs.ints('kernel_shape');
    if (ks && ks.some((d, i) => d !== kernel[i])) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: kernel_shape [${ks.join(', ')}] does not match the weights`);
    const [N, C] = [x.dims[0]!, x.dims[1]!];
    if (C !== wDims[1]! * groups || wDims[0]! % groups !== 0)
      throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: input has ${C} channels; weights [${wDims.join(', ')}] with group ${groups} need ${wDims[1]! * groups}`);
    const wp = windowParams(ctx, x.dims.slice(2), kernel);
    const shape = {
      batch: N, inChannels: C, inHeight: oneD ? 1 : x.dims[2]!, inWidth: x.dims[x.rank - 1]!, outChannels: wDims[0]!,
      kernelH: oneD ? 1 : kernel[0]!, kernelW: kernel[kernel.length - 1]!, groups,
      strides: oneD ? [1, wp.strides[0]!] : wp.strides, dilations: oneD ? [1, wp.dilations[0]!] : wp.dilations,
      pads: oneD ? [0, wp.pads[0]!, 0, wp.pads[1]!] : wp.pads,
    };
    if (bias && bias.length !== shape.outChannels) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: bias has ${bias.length} entries, expected ${shape.outChannels}`);
    if (wZp.length !== 1 && wZp.length !== shape.outChannels) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${wZp.length} weight zero points for ${shape.outChannels} channels`);
    if (rq.scale.length !== 1 && rq.scale.length !== shape.outChannels) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${rq.scale.length} weight scales for ${shape.outChannels} channels`);
    p = k.prepareConv(shape, w, wZp, bias);
    if (cache.size > 8) cache.clear();
    cache.set(key, p);
  }
  const OH = p.outH, OW = p.outW;
  const y = alloc(p.shape.batch * p.shape.outChannels * OH * OW);
  k.conv(p, x.data as Int8Like, xZp, rq, y);
  const dims = x.rank === 3 ? [p.shape.batch, p.shape.outChannels, OW] : [p.shape.batch, p.shape.outChannels, OH, OW];
  return new Tensor(signed ? 'int8' : 'uint8', y, dims);
}

/** Y = A x B over A's leading (batch) axes, B 2-D [K, N] (or batched with the same leading axes). */
function batchedGemm(
  node: Node, a: Tensor, za: number, B: Int8Array, bDims: readonly number[], bzp: Int32Array, rq: RequantParams, signed: boolean,
  gemm: (g: Parameters<import('../../backends/types.js').Backend['qgemm']>[0]) => void, alloc: (n: number) => Int8Like,
): Tensor {
  if (a.rank < 2 || bDims.length < 2) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: inputs must be at least 2-D`);
  const M = a.dims[a.rank - 2]!, K = a.dims[a.rank - 1]!, N = bDims[bDims.length - 1]!;
  if (bDims[bDims.length - 2] !== K) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: [${a.dims.join(', ')}] x [${bDims.join(', ')}] do not multiply`);
  if (bzp.length !== 1 && bzp.length !== N) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${bzp.length} B zero points for ${N} columns`);
  const batchA = a.dims.slice(0, -2), batchB = bDims.slice(0, -2);
  const batch = broadcast(node, batchA, batchB);
  const nb = sizeOf(batch);
  const y = alloc(nb * M * N);
  const sizeA = sizeOf(batchA), sizeB = sizeOf(batchB);
  if (nb !== Math.max(sizeA, sizeB) || (sizeA !== 1 && sizeA !== nb) || (sizeB !== 1 && sizeB !== nb))
    throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: partially broadcast batch axes`);
  const A = a.data as Int8Like;
  for (let i = 0; i < nb; i++) {
    const ai = sizeA === 1 ? 0 : i, bi = sizeB === 1 ? 0 : i;
    gemm({
      m: M, n: N, k: K, a: A.subarray(ai * M * K, (ai + 1) * M * K), aZeroPoint: za, b: B.subarray(bi * K * N, (bi + 1) * K * N),
      bZeroPoint: bzp, bias: null, requant: rq, y: y.subarray(i * M * N, (i + 1) * M * N),
    });
  }
  return new Tensor(signed ? 'int8' : 'uint8', y, [...batch, M, N]);
}

/** ConvInteger: int32 accumulators, no requantization (exact, direct loops). */
function convInt32(ctx: OpContext, node: Node, x: Tensor, zx: number, wt: Tensor, zw: Float64Array, alloc: (n: number) => Int32Array): Tensor {
  if (x.rank !== 4 || wt.rank !== 4) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: only 2-D ConvInteger`);
  const groups = ctx.attrs.int('group', 1);
  const [N, C, H, W] = x.dims as number[];
  const [CO, CIG, KH, KW] = wt.dims as number[];
  if (C !== CIG! * groups) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: ${C} input channels, weights need ${CIG! * groups}`);
  const wp = windowParams(ctx, [H!, W!], [KH!, KW!]);
  const [OH, OW] = wp.out as [number, number];
  const [sh, sw] = wp.strides, [dh, dw] = wp.dilations, [pt, pl] = wp.pads;
  const X = x.data as ArrayLike<number>, Wd = wt.data as ArrayLike<number>;
  const y = alloc(N! * CO! * OH * OW);
  const coutG = CO! / groups;
  for (let n = 0; n < N!; n++)
    for (let co = 0; co < CO!; co++) {
      const g = Math.floor(co / coutG), z = zw.length === 1 ? zw[0]! : zw[co]!;
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0;
          for (let ci = 0; ci < CIG!; ci++)
            for (let ky = 0; ky < KH!; ky++) {
              const iy = oy * sh! + ky * dh! - pt!;
              if (iy < 0 || iy >= H!) continue;
              for (let kx = 0; kx < KW!; kx++) {
                const ix = ox * sw! + kx * dw! - pl!;
                if (ix < 0 || ix >= W!) continue;
                acc = (acc + (X[((n * C! + g * CIG! + ci) * H! + iy) * W! + ix]! - zx) * (Wd[((co * CIG! + ci) * KH! + ky) * KW! + kx]! - z)) | 0;
              }
            }
          y[((n * CO! + co) * OH + oy) * OW + ox] = acc;
        }
    }
  return new Tensor('int32', y, [N!, CO!, OH, OW]);
}

/** MatMulInteger: int32 accumulators; a's zero point per tensor or per row, b's per tensor or per column. */
function matMulInt32(node: Node, a: Tensor, za: Float64Array, b: Tensor, zb: Float64Array, alloc: (n: number) => Int32Array): Tensor {
  if (a.rank < 2 || b.rank !== 2) throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(node)}: MatMulInteger needs A of rank >= 2 and a 2-D B`);
  const M = a.dims[a.rank - 2]!, K = a.dims[a.rank - 1]!, N = b.dims[1]!;
  if (b.dims[0] !== K) throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(node)}: [${a.dims.join(', ')}] x [${b.dims.join(', ')}] do not multiply`);
  const batches = a.size / (M * K);
  const A = a.data as ArrayLike<number>, B = b.data as ArrayLike<number>;
  const y = alloc(batches * M * N);
  for (let bi = 0; bi < batches; bi++)
    for (let m = 0; m < M; m++) {
      const zr = za.length === 1 ? za[0]! : za[m]!;
      for (let n = 0; n < N; n++) {
        const zc = zb.length === 1 ? zb[0]! : zb[n]!;
        let acc = 0;
        for (let kk = 0; kk < K; kk++) acc = (acc + (A[(bi * M + m) * K + kk]! - zr) * (B[kk * N + n]! - zc)) | 0;
        y[(bi * M + m) * N + n] = acc;
      }
    }
  return new Tensor('int32', y, [...a.dims.slice(0, -1), N]);
}
