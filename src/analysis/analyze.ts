/**
 * Error analysis of a quantized (QDQ) model against its float model, on the same data:
 *  - graphwise: every quantized layer's output in the QDQ model (quantization upstream included,
 *    run in our float engine with rounding QDQ ops) against the float model's same-named tensor:
 *    SQNR = 10 log10(sum f^2 / sum (f - q)^2), cosine similarity, MSE;
 *  - layerwise: each layer quantized alone (its weight, input and output activations), the rest
 *    float: the model output's SQNR and top-1 agreement, i.e. the layer's own sensitivity (PPQ's
 *    layerwise_error_analyse, onnxruntime's qdq_loss_debug).
 * Each layer also gets its activation scale, zero point, clip range, share of clipped values and a
 * histogram of the values the quantizer saw, and the per-channel ranges of its weight.
 *
 * "The model output" is the first graph output, or the logits when that output is a Softmax's (or
 * LogSoftmax's): softmax saturates, so a confident 0.99999 against 0.99990 hides a 10x error in the
 * logits, and on probabilities the SQNR is set by the few samples near the decision boundary. Top-1
 * agreement is the same either way (softmax keeps the order).
 */
import { softmaxLogits } from '../ir/output-chain.js';
import { OnnxPtqError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { loadModel } from '../onnx/io.js';
import { InferenceSession } from '../runtime/session.js';
import { createQdqRegistry } from '../runtime/integer/qdq-registry.js';
import type { Tensor } from '../tensor.js';
import type { Feeds } from '../ptq/calibrate.js';
import { progress } from '../util/progress.js';
import { foldedFloatLayers, keepOnlyLayers, qdqLayers, type QdqLayer } from './qdq-graph.js';
import { yieldToEventLoop } from '../util/yield.js';

export interface ErrorStats {
  sqnrDb: number;
  cosine: number;
  mse: number;
}

export interface Histogram {
  min: number;
  max: number;
  counts: number[];
}

export interface ActivationInfo {
  tensor: string;
  scale: number;
  zeroPoint: number;
  signed: boolean;
  /** The representable range [S (qmin - Z), S (qmax - Z)]. */
  clipMin: number;
  clipMax: number;
  observedMin: number;
  observedMax: number;
  /** Fraction of the values the quantizer saw that fell outside the clip range. */
  clippedShare: number;
  histogram: Histogram;
}

export interface WeightInfo {
  /** Scales: one per tensor or per output channel. */
  scaleMin: number;
  scaleMax: number;
  perChannel: boolean;
  /** Per output channel min and max of the dequantized weight. */
  channelMin: number[];
  channelMax: number[];
}

export interface LayerAnalysis {
  name: string;
  op: string;
  output: string;
  graphwise: ErrorStats;
  layerwise?: { outputSqnrDb: number; agreement: number };
  activation?: ActivationInfo;
  weight?: WeightInfo;
}

export interface AnalysisReport {
  samples: number;
  /**
   * The model output (`tensor`: the first output, or the logits before a final Softmax), everything
   * quantized. `kind`: 'classification' when the output has at most one non-batch dimension above 1
   * (scores per class: top-1 agreement means something), 'dense' otherwise (a map, boxes: judge it by
   * SQNR; its `agreement` is not shown). Absent: classification.
   */
  output: ErrorStats & { agreement: number; tensor: string; kind?: OutputKind };
  /** Sorted by sensitivity: layerwise output SQNR when measured, else graphwise SQNR (worst first). */
  layers: LayerAnalysis[];
}

export interface AnalyzeOptions {
  /** Use at most this many samples (default 64: enough for a ranking, cheap enough for layerwise). */
  maxSamples?: number;
  /** Run the layerwise pass (one extra run per layer over the data). Default true. */
  layerwise?: boolean;
  /** Histogram bins. Default 64. */
  bins?: number;
}

type Src = Model | string | Uint8Array;

export type OutputKind = 'classification' | 'dense';

/** 'classification' when at most one non-batch dimension exceeds 1 (see AnalysisReport.output). */
export function outputKind(dims: readonly number[]): OutputKind {
  return dims.slice(1).filter((d) => d > 1).length <= 1 ? 'classification' : 'dense';
}

class Acc {
  sig = 0;
  noise = 0;
  dot = 0;
  nq = 0;
  n = 0;
  add(f: ArrayLike<number>, q: ArrayLike<number>): void {
    for (let i = 0; i < f.length; i++) {
      const a = f[i],
        b = q[i],
        d = a - b;
      this.sig += a * a;
      this.noise += d * d;
      this.dot += a * b;
      this.nq += b * b;
    }
    this.n += f.length;
  }
  stats(): ErrorStats {
    return {
      sqnrDb: sqnr(this.sig, this.noise),
      cosine: this.sig === 0 || this.nq === 0 ? (this.sig === this.nq ? 1 : 0) : this.dot / Math.sqrt(this.sig * this.nq),
      mse: this.n ? this.noise / this.n : 0,
    };
  }
}

export function sqnr(sig: number, noise: number): number {
  return noise === 0 ? Infinity : sig === 0 ? -Infinity : 10 * Math.log10(sig / noise);
}

/**
 * Runs a (QDQ) model on `data` in the float engine with rounding Q/DQ ops and compares its measured
 * output (measuredOutput) with `ref`, the float model's on the same samples: top-1 agreement and SQNR
 * over the whole set.
 */
export async function compareOutput(
  model: Model,
  data: readonly Feeds[],
  ref: readonly Float32Array[],
): Promise<{ agreement: number; sqnrDb: number }> {
  const s = await InferenceSession.create(model, { registry: createQdqRegistry({ rounding: true }) });
  const at = measuredOutput(model);
  let sig = 0,
    noise = 0,
    ag = 0;
  for (let i = 0; i < data.length; i++) {
    const q = s.runSync(data[i], { outputs: [at] })[at].data as Float32Array,
      f = ref[i];
    for (let k = 0; k < f.length; k++) {
      sig += f[k] * f[k];
      noise += (f[k] - q[k]) ** 2;
    }
    if (argmax(q) === argmax(f)) ag++;
    if (i % 16 === 15) await yieldToEventLoop();
  }
  return { agreement: ag / data.length, sqnrDb: sqnr(sig, noise) };
}

/** The float model's measured output (measuredOutput) on each sample: the reference for compareOutput. */
export async function floatReference(floatModel: Model, data: readonly Feeds[]): Promise<Float32Array[]> {
  const s = await InferenceSession.create(floatModel);
  const at = measuredOutput(floatModel);
  return data.map((d) => (s.runSync(d, { outputs: [at] })[at].data as Float32Array).slice());
}

export function argmax(d: ArrayLike<number>): number {
  let b = 0;
  for (let j = 1; j < d.length; j++) if (d[j] > d[b]) b = j;
  return b;
}

/**
 * The tensor the model's output is measured on: the first graph output, or the input of the
 * Softmax/LogSoftmax that produces it (see the file comment). Shape-only ops around the Softmax are
 * looked through (they keep the values and their order): the opset-13 upgrade wraps an old
 * Softmax in Flatten ... Reshape, so the float and QDQ graphs meet at the same logits tensor.
 */
export function measuredOutput(model: Model): string {
  const out = model.graph.outputs[0]?.name;
  if (out === undefined) throw new OnnxPtqError('INVALID_MODEL', 'the model has no outputs');
  const logits = softmaxLogits(model.graph, out);
  return logits.length ? logits[logits.length - 1]! : out;
}

function floatData(t: Tensor | undefined, what: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw new OnnxPtqError('INVALID_DATA', `analyze: ${what} is not a float32 tensor`);
  return t.data;
}

function load(m: Src): Model {
  return typeof m === 'string' || m instanceof Uint8Array ? loadModel(m) : m;
}

function scalarOf(model: Model, name: string | undefined): { v: number; signed: boolean } | undefined {
  const t = name ? model.graph.initializers.get(name) : undefined;
  if (!t || t.size < 1) return undefined;
  return { v: Number((t.data as ArrayLike<number>)[0]), signed: t.dtype === 'int8' };
}

/**
 * The output-channel axis of a layer's weight: 0 for Conv and Gemm with transB, 1 for ConvTranspose
 * ([Cin, Cout/group, ...]), the last for MatMul and Gemm weights stored K x N.
 */
function outputChannelAxis(g: Model['graph'], l: { name: string; op: string }, rank: number): number {
  if (l.op === 'Conv') return 0;
  if (l.op === 'ConvTranspose') return 1;
  const transB = l.op === 'Gemm' ? g.nodes.find((n) => (n.name || n.outputs[0]) === l.name)?.attributes.get('transB') : undefined;
  return transB?.type === 'int' && transB.value === 1 ? 0 : rank - 1;
}

/** Per-channel [min, max] along `axis` of a tensor of shape `dims` whose element i (channel c) is value(i, c). */
function channelRanges(
  dims: readonly number[],
  axis: number,
  value: (i: number, c: number) => number,
): { channelMin: number[]; channelMax: number[] } {
  const ch = dims[axis] ?? 1;
  let inner = 1,
    size = 1;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i];
  for (const d of dims) size *= d;
  const mn = new Array<number>(ch).fill(Infinity),
    mx = new Array<number>(ch).fill(-Infinity);
  for (let i = 0; i < size; i++) {
    const c = Math.floor(i / inner) % ch,
      v = value(i, c);
    if (v < mn[c]) mn[c] = v;
    if (v > mx[c]) mx[c] = v;
  }
  return { channelMin: mn, channelMax: mx };
}

function weightInfo(model: Model, l: QdqLayer): WeightInfo | undefined {
  if (!l.weightDq) return undefined;
  const g = model.graph;
  const q = g.initializers.get(l.weightDq.inputs[0])!;
  const s = g.initializers.get(l.weightDq.inputs[1]);
  const z = g.initializers.get(l.weightDq.inputs[2] ?? '');
  if (!s) return undefined;
  const sd = s.data as ArrayLike<number>,
    zd = z ? (z.data as ArrayLike<number>) : undefined;
  // Per-channel scales run along the DequantizeLinear's axis (ONNX default 1); per-tensor ones say nothing.
  const dqAxis = l.weightDq.attributes.get('axis');
  const axis =
    sd.length > 1 ? ((dqAxis?.type === 'int' ? dqAxis.value : 1) + q.dims.length) % q.dims.length : outputChannelAxis(g, l, q.dims.length);
  const qd = q.data as ArrayLike<number>;
  const { channelMin: mn, channelMax: mx } = channelRanges(q.dims, axis, (i, c) => {
    const sc = sd.length > 1 ? sd[c] : sd[0];
    const zp = zd ? Number(zd[sd.length > 1 ? c : 0]) : 0;
    return (Number(qd[i]) - zp) * sc;
  });
  let smin = Infinity,
    smax = -Infinity;
  for (let i = 0; i < sd.length; i++) {
    smin = Math.min(smin, sd[i]);
    smax = Math.max(smax, sd[i]);
  }
  return { scaleMin: smin, scaleMax: smax, perChannel: sd.length > 1, channelMin: mn, channelMax: mx };
}

/** Materializes up to `max` samples (the analysis makes several passes over them). */
export async function takeSamples(data: Iterable<Feeds> | AsyncIterable<Feeds>, max: number): Promise<Feeds[]> {
  const out: Feeds[] = [];
  for await (const f of data as AsyncIterable<Feeds>) {
    if (out.length >= max) break;
    out.push(f);
  }
  if (out.length === 0) throw new OnnxPtqError('INVALID_DATA', 'analyze: the data set is empty');
  return out;
}

/** Checks that the QDQ model is a quantization of the float model: same inputs and outputs, layer outputs present. */
function checkCorrespondence(f: Model, q: Model, layers: QdqLayer[]): void {
  const names = (vs: { name: string }[]) => vs.map((v) => v.name).join(', ');
  const fin = f.graph.runtimeInputs,
    qin = q.graph.runtimeInputs;
  if (names(fin) !== names(qin) || names(f.graph.outputs) !== names(q.graph.outputs)) {
    throw new OnnxPtqError(
      'INVALID_MODEL',
      `the quantized model (inputs ${names(qin)}; outputs ${names(q.graph.outputs)}) does not correspond to the float model (inputs ${names(fin)}; outputs ${names(f.graph.outputs)}): pass the float model it was quantized from`,
    );
  }
  if (layers.length === 0) {
    throw new OnnxPtqError(
      'INVALID_MODEL',
      'the second model has no quantized layers (no Conv/Gemm/MatMul fed by DequantizeLinear): pass the QDQ model written by `onnx-ptq quantize`',
    );
  }
  const fv = f.graph.allValueNames();
  const missing = layers.filter((l) => !fv.has(l.output));
  // BN folding and opset upgrades keep names; a graph that lost most of them is another model.
  if (missing.length > layers.length / 2) {
    throw new OnnxPtqError(
      'INVALID_MODEL',
      `${missing.length} of ${layers.length} quantized layer outputs (${missing
        .slice(0, 3)
        .map((l) => l.output)
        .join(', ')}, ...) do not exist in the float model: the quantized model was not made from this float model`,
    );
  }
}

export async function analyze(
  floatSrc: Src,
  quantSrc: Src,
  data: Iterable<Feeds> | AsyncIterable<Feeds> | Feeds[],
  opts: AnalyzeOptions = {},
): Promise<AnalysisReport> {
  const bins = opts.bins ?? 64;
  const floatModel = load(floatSrc),
    quantModel = load(quantSrc);
  const layers = qdqLayers(quantModel);
  checkCorrespondence(floatModel, quantModel, layers);
  const samples = Array.isArray(data) ? data.slice(0, opts.maxSamples ?? data.length) : await takeSamples(data, opts.maxSamples ?? 64);
  if (samples.length === 0) throw new OnnxPtqError('INVALID_DATA', 'analyze: the data set is empty');
  const fSession = await InferenceSession.create(floatModel);
  const registry = createQdqRegistry({ rounding: true });
  const qSession = await InferenceSession.create(quantModel, { registry });
  const fNames = floatModel.graph.allValueNames();
  const compared = layers.filter((l) => fNames.has(l.output));
  // The same place in both graphs: before the final Softmax (in the QDQ graph, after its input's DQ).
  const outName = measuredOutput(floatModel),
    qOutName = measuredOutput(quantModel);
  // The activation each layer reports: its output pair, else its input pair.
  const act = new Map<QdqLayer, { q: import('../ir/graph.js').Node }>();
  for (const l of layers) {
    const p = l.activationPairs.find((pp) => pp.dq.outputs[0] === l.output) ?? l.activationPairs[0];
    if (p) act.set(l, p);
  }
  const preQ = [...new Set([...act.values()].map((p) => p.q.inputs[0]))];
  const accs = new Map<QdqLayer, Acc>(compared.map((l) => [l, new Acc()]));
  const outAcc = new Acc();
  const floatOut: Float32Array[] = [];
  let agree = 0;
  let kind: OutputKind = 'classification';
  // Activation ranges: one pass for extremes, then histograms (values are kept per tensor only as counts).
  const ext = new Map<string, { min: number; max: number; clipped: number; n: number }>(
    preQ.map((t) => [t, { min: Infinity, max: -Infinity, clipped: 0, n: 0 }]),
  );
  const clip = new Map<string, { lo: number; hi: number; scale: number; zp: number; signed: boolean }>();
  for (const [, p] of act) {
    const s = scalarOf(quantModel, p.q.inputs[1]),
      z = scalarOf(quantModel, p.q.inputs[2]);
    if (!s) continue;
    const signed = z?.signed ?? false,
      zp = z?.v ?? 0;
    const qmin = signed ? -128 : 0,
      qmax = signed ? 127 : 255;
    clip.set(p.q.inputs[0], { lo: s.v * (qmin - zp), hi: s.v * (qmax - zp), scale: s.v, zp, signed });
  }
  const bar = progress('analyzing (graphwise)');
  const qWanted = [...new Set([...compared.map((l) => l.output), ...preQ, qOutName])];
  const fWanted = [...new Set([...compared.map((l) => l.output), outName])];
  for (let i = 0; i < samples.length; i++) {
    let fo: Record<string, Tensor>, qo: Record<string, Tensor>;
    try {
      fo = fSession.runSync(samples[i], { outputs: fWanted });
      qo = qSession.runSync(samples[i], { outputs: qWanted });
    } catch (e) {
      if (e instanceof OnnxPtqError && (e.code === 'INVALID_INPUT' || e.code === 'SHAPE_MISMATCH')) {
        throw new OnnxPtqError('INVALID_DATA', `analyze: sample ${i} does not fit the models: ${e.message}`);
      }
      throw e;
    }
    for (const l of compared) {
      const f = floatData(fo[l.output], `float tensor '${l.output}'`),
        q = floatData(qo[l.output], `quantized tensor '${l.output}'`);
      if (f.length !== q.length)
        throw new OnnxPtqError(
          'INVALID_MODEL',
          `tensor '${l.output}' has ${f.length} values in the float model and ${q.length} in the quantized one: the models do not correspond`,
        );
      accs.get(l)!.add(f, q);
    }
    const f = floatData(fo[outName], `the float output '${outName}'`),
      q = floatData(qo[qOutName], `the quantized output '${qOutName}'`);
    if (f.length !== q.length)
      throw new OnnxPtqError(
        'INVALID_MODEL',
        `the float model gives ${f.length} output values, the quantized one ${q.length}: the models do not correspond`,
      );
    outAcc.add(f, q);
    if (i === 0) kind = outputKind(fo[outName].dims);
    floatOut.push(f.slice());
    if (argmax(f) === argmax(q)) agree++;
    for (const t of preQ) {
      const v = floatData(qo[t], `tensor '${t}'`);
      const e = ext.get(t)!,
        c = clip.get(t);
      for (let k = 0; k < v.length; k++) {
        const x = v[k];
        if (x < e.min) e.min = x;
        if (x > e.max) e.max = x;
        if (c && (x < c.lo - c.scale / 2 || x > c.hi + c.scale / 2)) e.clipped++;
      }
      e.n += v.length;
    }
    bar.tick(i + 1, samples.length);
    if (i % 8 === 7) await yieldToEventLoop();
  }
  bar.end();
  // Histograms over [min(observed, clip), max(observed, clip)]: a second pass only on the pre-Q tensors.
  const hist = new Map<string, Histogram>();
  for (const t of preQ) {
    const e = ext.get(t)!,
      c = clip.get(t);
    const lo = Math.min(e.min, c?.lo ?? e.min),
      hi = Math.max(e.max, c?.hi ?? e.max);
    hist.set(t, { min: lo, max: hi > lo ? hi : lo + 1, counts: new Array<number>(bins).fill(0) });
  }
  if (preQ.length) {
    for (const s of samples) {
      const qo = qSession.runSync(s, { outputs: preQ });
      for (const t of preQ) {
        const h = hist.get(t)!,
          v = qo[t].data as Float32Array,
          w = (h.max - h.min) / bins;
        for (let k = 0; k < v.length; k++) h.counts[Math.min(bins - 1, Math.max(0, Math.floor((v[k] - h.min) / w)))]++;
      }
      await yieldToEventLoop();
    }
  }
  const result: LayerAnalysis[] = layers.map((l) => {
    const p = act.get(l);
    let activation: ActivationInfo | undefined;
    if (p) {
      const t = p.q.inputs[0],
        c = clip.get(t),
        e = ext.get(t)!;
      if (c) {
        activation = {
          tensor: t,
          scale: c.scale,
          zeroPoint: c.zp,
          signed: c.signed,
          clipMin: c.lo,
          clipMax: c.hi,
          observedMin: e.min,
          observedMax: e.max,
          clippedShare: e.n ? e.clipped / e.n : 0,
          histogram: hist.get(t)!,
        };
      }
    }
    return {
      name: l.name,
      op: l.op,
      output: l.output,
      graphwise: accs.get(l)?.stats() ?? { sqnrDb: NaN, cosine: NaN, mse: NaN },
      activation,
      weight: weightInfo(quantModel, l),
    };
  });
  if (opts.layerwise ?? true) {
    const lbar = progress('analyzing (layerwise)');
    const floatWeights = foldedFloatLayers(floatModel, quantModel);
    for (let li = 0; li < layers.length; li++) {
      const m = keepOnlyLayers(quantModel, new Set([layers[li].name]), floatWeights);
      const c = await compareOutput(m, samples, floatOut);
      result[li].layerwise = { outputSqnrDb: c.sqnrDb, agreement: c.agreement };
      lbar.tick(li + 1, layers.length);
    }
    lbar.end();
  }
  const key = (l: LayerAnalysis) => (l.layerwise ? l.layerwise.outputSqnrDb : l.graphwise.sqnrDb);
  result.sort((a, b) => key(a) - key(b) || a.graphwise.sqnrDb - b.graphwise.sqnrDb);
  return {
    samples: samples.length,
    output: { ...outAcc.stats(), agreement: agree / samples.length, tensor: outName, kind },
    layers: result,
  };
}

/**
 * Per output channel [min, max] of each layer's float weight before any graph pass (after BN and
 * bias-Add folding, as quantize() sees it): the "before" of the equalization plot.
 */
export function floatWeightRanges(
  floatModel: Model,
  layers: readonly { name: string; op: string }[],
): Map<string, { channelMin: number[]; channelMax: number[] }> {
  const fl = foldedFloatLayers(floatModel);
  const out = new Map<string, { channelMin: number[]; channelMax: number[] }>();
  for (const l of layers) {
    const w = fl.get(l.name)?.weight;
    if (!w || !(w.data instanceof Float32Array)) continue;
    const d = w.data;
    out.set(
      l.name,
      channelRanges(w.dims, outputChannelAxis(floatModel.graph, l, w.dims.length), (i) => d[i]),
    );
  }
  return out;
}
