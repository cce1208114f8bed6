/**
 * Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization", sec. 4.2, empirical
 * form): weight rounding shifts each output channel's mean by E[x . (w - w_q)], which a post-ReLU
 * input (all positive, large mean) turns into a visible offset. Measured on the calibration data
 * and added back to the bias:
 *   b'_c = b_c + E[ layer(x; w - w_q)_c ]
 * Since Conv/Gemm/MatMul are linear in the weight, layer(x, w) - layer(x, w_q) = layer(x, w - w_q),
 * and only its per-channel sum over positions is wanted, which is linear in x too:
 *   Conv: sum_pos y_c = sum_{j,k} delta[c,j,k] * S[j,k],  S[j,k] = sum of x[j] over the input
 *         positions kernel tap k visits (padding adds 0);
 *   Gemm: sum_m y_c = alpha * sum_k (sum_m A'[m,k]) * B'[k,c].
 * So Conv and Gemm probes are summed from the layer's float input x, tapped during the calibration
 * pass (inputProbeSums): a pass over x instead of a second convolution. ConvTranspose keeps a probe
 * node, layer(x, w - w_q), whose output is summed per channel.
 *
 * The sums are mergeable exactly: each sample's per-channel sum is taken in float64 in a fixed order
 * (the same on every thread), then added to an exact accumulator (ExactSum), so workers and shards
 * give the sums of one pass, bit for bit. With single-shift the weights probed are known only after
 * the activation statistics: that correction needs a second data pass.
 */
import type { Graph, Node } from '../ir/graph.js';
import { makeNode, nodeLabel } from '../ir/graph.js';
import { Tensor } from '../tensor.js';
import { intAttr } from '../passes/pass.js';
import { ExactSum } from '../util/exact-sum.js';
import { Attrs, need, type OpContext } from '../ops/types.js';
import { to3d, windowParams } from '../ops/conv-util.js';
import { statsKernels, type StatsKernels } from '../backends/stats-kernels.js';
import { convProbeFields, convProbeGeom, convProbeSumsF32Ref, probeWork } from '../kernels/f32/conv-probe.js';
import { validateConvProbe } from '../backends/f32-args.js';
import { OnnxPtqError } from '../errors.js';

export interface BiasProbe {
  layer: Node;
  output: string;
  /** Output-channel axis of the layer output (1 for Conv's NCHW, last for Gemm/MatMul). */
  axis: number;
  channels: number;
  sum: ExactSum[];
  count: number;
  /** Set when the probe is summed from the layer's input (Conv, Gemm); else `output` is a probe node's output. */
  fromInput?: InputProbe;
}

/** A probe summed from its layer's float input: plain data, so that it crosses to worker threads. */
export interface InputProbe {
  op: 'Conv' | 'Gemm';
  /** The layer's input x. */
  input: string;
  /** The layer's name, type and attributes (strides, pads, dilations, group, auto_pad; transA, transB, alpha). */
  node: Node;
  /** w - w_q, with w's dims. */
  delta: Float32Array;
  deltaDims: number[];
}

/** Adds one probe per layer to `g` (a calibration copy): layer(x, w - w_q) without bias. */
export function addBiasProbes(g: Graph, layers: Node[], quantized: Map<Node, Float32Array>): BiasProbe[] {
  const probes: BiasProbe[] = [];
  const keys = new Set<string>();
  for (const n of layers) {
    const wq = quantized.get(n);
    const w = g.initializers.get(n.inputs[1]);
    if (!wq || !w) continue;
    const delta = difference(w.data as Float32Array, wq);
    // The key under which the sums are stored (stats files); a node output only for a probe node.
    let out = g.uniqueName(`${n.name || n.outputs[0]}__bias_probe`);
    for (let i = 1; keys.has(out); i++) out = g.uniqueName(`${n.name || n.outputs[0]}__bias_probe_${i}`);
    keys.add(out);
    let fromInput: InputProbe | undefined;
    if (n.opType === 'Conv' || n.opType === 'Gemm') {
      const node = { ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: new Map(n.attributes) };
      fromInput = { op: n.opType, input: n.inputs[0]!, node, delta, deltaDims: [...w.dims] };
    } else {
      const dname = g.uniqueName(`${n.inputs[1]}__bias_probe_delta`);
      g.initializers.set(dname, new Tensor('float32', delta, w.dims));
      const attrs = Object.fromEntries(n.attributes);
      g.insertAfter(n, makeNode(n.opType, [n.inputs[0], dname], [out], attrs, g.uniqueName(`${n.name}__bias_probe`)));
    }
    const channels =
      n.opType === 'Conv'
        ? w.dims[0]
        : n.opType === 'ConvTranspose'
          ? w.dims[1] * intAttr(n, 'group', 1)
          : n.opType === 'Gemm' && intAttr(n, 'transB', 0) === 1
            ? w.dims[0]
            : w.dims[1];
    const nchw = n.opType === 'Conv' || n.opType === 'ConvTranspose';
    probes.push({
      layer: n,
      output: out,
      axis: nchw ? 1 : -1,
      channels,
      sum: Array.from({ length: channels }, () => new ExactSum()),
      count: 0,
      fromInput,
    });
  }
  return probes;
}

/**
 * a - b, elementwise, in float32. Its own small function: the loop then runs optimized from the
 * first layer on (inline in addBiasProbes, called once per quantize, it ran at interpreter speed:
 * ~30 ms for PP-OCRv4 det's 1.2M weights).
 */
function difference(a: Float32Array, b: Float32Array): Float32Array {
  const d = new Float32Array(b.length);
  for (let i = 0; i < d.length; i++) d[i] = a[i]! - b[i]!;
  return d;
}

/** Per-channel corrections E[layer(x, w - w_q)]. */
export function corrections(p: BiasProbe): Float32Array {
  return Float32Array.from(p.sum, (s) => (p.count ? s.toNumber() / p.count : 0));
}

/**
 * One sample's per-channel sums of layer(x, delta) over its output positions, and the number of
 * positions per channel, computed from x (the formulas in the header). Float64, in a fixed order.
 */
export function inputProbeSums(p: InputProbe, x: Tensor): { sums: Float64Array; count: number } {
  const ctx = probeContext(p);
  need(ctx, x.data instanceof Float32Array, () => `bias probe: input '${p.input}' is not float32`);
  if (p.op !== 'Conv') return gemmSums(ctx, p, x);
  const sums = new Float64Array(p.deltaDims[0]!);
  return { sums, count: convSumsInto(ctx, p, x, sums, statsKernels()) };
}

/**
 * A Conv probe's sums for one sample by kernels `k`, into `sums` (M entries, kept by the
 * caller: calibration runs this as a TapKernel, whose call a native replay records and repeats);
 * the sums are those of inputProbeSums bit for bit. It runs (and returns true) iff convProbeCount(p, x)
 * is defined, which depends on x's dtype and dims alone; otherwise inputProbeSums computes the sums
 * (or says what is wrong with x).
 */
export function convProbeKernel(p: InputProbe, x: Tensor, sums: Float64Array, k: StatsKernels | null): boolean {
  if (!k || p.op !== 'Conv' || !(x.data instanceof Float32Array)) return false;
  convSumsInto(probeContext(p), p, x, sums, k);
  return true;
}

/** The positions per channel that convProbeKernel's sums (with kernels `k`) cover for input x, or undefined when it does not run. */
export function convProbeCount(p: InputProbe, x: Tensor, k: StatsKernels | null): number | undefined {
  if (!k || p.op !== 'Conv' || !(x.data instanceof Float32Array)) return undefined;
  return geometryFor(probeContext(p), p, x).count;
}

/** A probe's op context and its geometry for the last input dims it saw (a layer sees one shape per calibration, as a rule). */
const contexts = new WeakMap<InputProbe, OpContext>();
const geoms = new WeakMap<InputProbe, { dims: readonly number[]; geo: Int32Array; count: number }>();

function probeContext(p: InputProbe): OpContext {
  let ctx = contexts.get(p);
  if (!ctx) contexts.set(p, (ctx = { node: p.node, attrs: new Attrs(p.node), opset: 0 }));
  return ctx;
}

function geometryFor(ctx: OpContext, p: InputProbe, x: Tensor): { dims: readonly number[]; geo: Int32Array; count: number } {
  let g = geoms.get(p);
  if (!g || g.dims.length !== x.dims.length || g.dims.some((d, i) => d !== x.dims[i])) {
    g = convGeometry(ctx, p, x);
    geoms.set(p, g);
  }
  return g;
}

function convSumsInto(ctx: OpContext, p: InputProbe, x: Tensor, sums: Float64Array, k: StatsKernels | null): number {
  const g = geometryFor(ctx, p, x);
  try {
    if (k) k.convProbeSumsF32(g.geo, x.data as Float32Array, p.delta, sums);
    else {
      // The kernel's own checks (sizes, the geometry's limits) before the definition runs.
      const work = validateConvProbe(g.geo, x.data, p.delta, sums);
      convProbeSumsF32Ref(convProbeGeom(g.geo), x.data as Float32Array, p.delta, sums, probeWork(work));
    }
  } catch (e) {
    // Name the layer: the kernel's words name only its arguments.
    if (e instanceof OnnxPtqError) throw new OnnxPtqError(e.code, `${nodeLabel(p.node)}: bias probe: ${e.message}`, { cause: e });
    throw e;
  }
  return g.count;
}

/** The probe's kernel geometry for input x (the layer's attributes checked against x's dims). */
function convGeometry(ctx: OpContext, p: InputProbe, x: Tensor): { dims: readonly number[]; geo: Int32Array; count: number } {
  const [M, cpg] = p.deltaDims as [number, number];
  const kernel = p.deltaDims.slice(2);
  need(ctx, x.rank === p.deltaDims.length && x.rank >= 3 && x.rank <= 5, () => `bias probe: input '${p.input}' has rank ${x.rank}`);
  const [N, C] = x.dims as [number, number];
  const group = ctx.attrs.int('group', 1);
  need(ctx, C === cpg * group && M % group === 0, () => `bias probe: input '${p.input}' has ${C} channels, W expects ${cpg * group}`);
  const s = kernel.length;
  const sp = windowParams(ctx, x.dims.slice(2), kernel);
  const geo = convProbeFields({
    N,
    C,
    M,
    group,
    I: to3d(x.dims.slice(2) as number[], 1) as [number, number, number],
    K: to3d(kernel, 1) as [number, number, number],
    O: to3d(sp.out, 1) as [number, number, number],
    strides: to3d(sp.strides, 1) as [number, number, number],
    dilations: to3d(sp.dilations, 1) as [number, number, number],
    pads: to3d(sp.pads.slice(0, s), 0) as [number, number, number],
  });
  return { dims: [...x.dims], geo, count: N * sp.out.reduce((a, b) => a * b, 1) };
}

function gemmSums(ctx: OpContext, p: InputProbe, x: Tensor): { sums: Float64Array; count: number } {
  const xd = x.data as Float32Array;
  const transA = ctx.attrs.int('transA', 0) === 1,
    transB = ctx.attrs.int('transB', 0) === 1;
  const alpha = ctx.attrs.float('alpha', 1);
  need(ctx, x.rank === 2 && p.deltaDims.length === 2, () => `bias probe: input '${p.input}' has rank ${x.rank}, Gemm needs 2`);
  const [r, c] = x.dims as [number, number];
  const [M, K] = transA ? [c, r] : [r, c];
  const N = transB ? p.deltaDims[0]! : p.deltaDims[1]!;
  need(
    ctx,
    (transB ? p.deltaDims[1] : p.deltaDims[0]) === K,
    () => `bias probe: input '${p.input}' has inner size ${K}, B has dims [${p.deltaDims}]`,
  );
  const rows = new Float64Array(K);
  if (transA) for (let k = 0; k < K; k++) for (let m = 0; m < M; m++) rows[k] += xd[k * M + m]!;
  else for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) rows[k] += xd[m * K + k]!;
  const d = p.delta;
  const sums = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += rows[k]! * d[transB ? n * K + k : k * N + n]!;
    sums[n] = alpha * acc;
  }
  return { sums, count: M };
}
