/**
 * AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training Quantization"), as
 * AIMET ships it: instead of rounding each weight to the nearest grid point, learn per weight whether
 * to round down or up so that the layer's output on calibration data changes least.
 *
 * Per Conv/Gemm/MatMul layer with weight W (scale s and zero point z as the observer chose them,
 * per tensor, per channel or per group, any bit width), a continuous variable V per weight and
 *   h(V) = clip(sigmoid(V) * (zeta - gamma) + gamma, 0, 1),  zeta = 1.1, gamma = -0.1 (rectified sigmoid)
 *   W~   = s * (clamp(floor(W / s) + z + h(V), qmin, qmax) - z)
 * V starts where h(V) is the fractional part of W / s (so W~ = W before clamping), and Adam
 * minimises over minibatches of output positions
 *   L = mean_rows || W x_float - W~ x_quant ||^2 + lambda * sum_i (1 - |2 h(V_i) - 1|^beta)
 * where x_float is the layer's input in the float model and x_quant its input in the model whose
 * earlier layers already carry their final quantized weights (AIMET's way: the target is the float
 * output, so a layer also absorbs part of the error of the layers before it; activations stay float
 * here, as in AIMET, whose AdaRound runs with the activation quantizers disabled). The regulariser is
 * off during the first `warm_up` fraction of the iterations; then beta falls from beta_start to
 * beta_end on AIMET's cosine schedule,
 *   beta = beta_end + (beta_start - beta_end) / 2 * (1 + cos(pi * t)),  t in [0, 1] after warm-up,
 * which pushes every h(V) to 0 or 1. The integer weight is floor(W / s) + z + [h(V) >= 0.5], clamped.
 * The exported model is ordinary QDQ: quantize() writes these integers instead of round(W / s) + z.
 *
 * Rows of the reconstruction are output positions (one image pixel of a Conv, one row of a
 * Gemm/MatMul), drawn uniformly from all positions of all calibration samples with a seeded PRNG;
 * the loss is a sum over them, so a minibatch of rows is an unbiased estimate of the loss over the
 * whole data (AIMET draws whole images and uses all their positions: far more work per step on a CPU
 * for the same gradient quality). The products run on the backend's float GEMM (native when loaded);
 * grouped/depthwise layers use the exact loss over all rows through per-group second moments. The
 * reconstruction term is divided by the mean square of the layer's input (see optimise(): AIMET's
 * absolute loss made lambda's weight depend on the data's units). Deterministic for a seed on a given
 * backend (float sums may differ in the last ulps between backends).
 *
 * mode 'block' is BRECQ (Li et al. 2021) for residual blocks: the roundings of all layers of a block
 * are learned jointly against the block's output (the Add), backpropagating through the block.
 */
import { OnnxPtqError } from '../errors.js';
import type { Model, Node } from '../ir/graph.js';
import { getBackend } from '../backends/registry.js';
import { InferenceSession, cloneModel } from '../runtime/session.js';
import { layerWeightParams } from '../ptq/qdq-export.js';
import { dequantizeTensor, quantizeTensor, sliceIndexer, type QuantParams, type QuantScheme } from '../quant/scheme.js';
import { Tensor } from '../tensor.js';
import { mulberry32 } from '../util/prng.js';
import { progress } from '../util/progress.js';
import { GraphPass, intAttr, nodeLabel, type PassReport } from './pass.js';
import type { QuantState } from './quant-state.js';

export interface AdaRoundOptions {
  /**
   * Optimisation steps per layer. Default 2000 (the paper and AIMET use 10000): on mnist-8 w4a8 per
   * channel, 2000 steps reach the same accuracy as 10000 (bench/ptq-mnist.ts) in a fifth of the time,
   * and on a CPU the time per layer is what a user waits for. 0 keeps every layer at nearest rounding.
   */
  iterations: number;
  /**
   * Output positions (rows) per step. Default 512. When the data has fewer rows than this, every
   * step uses all of them (full-batch gradient, still a defined result).
   */
  batch_size: number;
  /** Weight of the rounding regulariser (AIMET's reg_param). Default 0.01. */
  lambda: number;
  /** Regulariser exponent at the end of warm-up (soft: h may sit anywhere). Default 20. */
  beta_start: number;
  /** Regulariser exponent at the last step (hard: pushes h to 0 or 1). Default 2. */
  beta_end: number;
  /** Fraction of the steps before the regulariser starts (AIMET's warm_start). Default 0.2. */
  warm_up: number;
  /** Adam learning rate on V. Default 1e-3 (paper, AIMET). */
  learning_rate: number;
  /** Seed of the row sampling. Default 0. */
  seed: number;
  /**
   * At most this many calibration samples are kept in memory (each layer's input and output for
   * each of them). Default 256.
   */
  samples: number;
  /** Layer (node) names to optimise; the others keep nearest rounding. Default []: every layer. */
  interested_layers: string[];
  /**
   * Reconstruction unit. 'layer' (default): each layer against its own output. 'block' (BRECQ, Li et
   * al. 2021): the layers of a residual block (findBlocks(): an Add whose inputs start from one value
   * through Convs, Relu/Clip/HardSwish/HardSigmoid/Sigmoid, GlobalAveragePool and Mul/Add, so ResNet
   * blocks and MobileNetV3 inverted residuals with squeeze-excitation) are optimised jointly against
   * the Add's output, backpropagating through the block; the minibatch is whole images (batch_size
   * output positions' worth). Layers outside blocks are optimised one by one as in 'layer'. Slower to
   * converge: on the PaddleOCR classifier it gives 16.4 dB against layer mode's 17.1 dB at 2000 steps,
   * in 7.5 times the time.
   */
  mode: 'layer' | 'block';
}

export const ADAROUND_DEFAULTS: Readonly<AdaRoundOptions> = Object.freeze({
  iterations: 2000,
  batch_size: 512,
  lambda: 0.01,
  beta_start: 20,
  beta_end: 2,
  warm_up: 0.2,
  learning_rate: 1e-3,
  seed: 0,
  samples: 256,
  interested_layers: [],
  mode: 'layer',
});

const ZETA = 1.1,
  GAMMA = -0.1;

type Feeds = Record<string, Tensor>;
type Backend = ReturnType<typeof getBackend>;
type WeightScaleAdjust = (scale: Float32Array, perChannel: boolean) => Float32Array;

/** What a layer's reconstruction needs, independent of its op. */
interface LayerProblem {
  /** Output channels (rows of the weight matrix). */
  M: number;
  /** Weights per output channel (columns of the weight matrix). */
  Kg: number;
  /** Values gathered per row (all groups). */
  Ktot: number;
  groups: number;
  /** Matrix index (m * Kg + k) -> index in the weight initializer. */
  toFlat: (i: number) => number;
  /** Total rows over all samples. */
  rows: number;
  /** Fills dst[off .. off + Ktot) with row r's input vector (x_quant). */
  gather(r: number, dst: Float32Array, off: number): void;
  /** rows x M targets: W x_float (no bias). */
  target: Float32Array;
  /** The layer's quantized-model inputs, one per sample. */
  inputs: Tensor[];
}

export class AdaRoundPass extends GraphPass<AdaRoundOptions> {
  readonly name = 'adaround';

  constructor(
    options: Partial<AdaRoundOptions>,
    private readonly state: QuantState,
    private readonly data: readonly Feeds[],
    private readonly scheme: Omit<QuantScheme, 'axis'>,
    private readonly allowNonFinite = false,
  ) {
    super({ ...ADAROUND_DEFAULTS, interested_layers: [] }, options);
    const o = this.options;
    const int = (k: keyof AdaRoundOptions, lo: number) => {
      const v = o[k] as unknown;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo)
        this.fail(`option '${k}' must be an integer >= ${lo}, got ${JSON.stringify(v)}`);
    };
    const pos = (k: keyof AdaRoundOptions, allowZero = false) => {
      const v = o[k] as unknown;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0))
        this.fail(`option '${k}' must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(v)}`);
    };
    int('iterations', 0);
    int('batch_size', 1);
    int('samples', 1);
    int('seed', 0);
    pos('lambda', true);
    pos('beta_start');
    pos('beta_end');
    pos('learning_rate');
    if (typeof o.warm_up !== 'number' || !(o.warm_up >= 0 && o.warm_up < 1))
      this.fail(`option 'warm_up' must be a fraction in [0, 1), got ${JSON.stringify(o.warm_up)}`);
    if (o.mode !== 'layer' && o.mode !== 'block') this.fail(`option 'mode' must be 'layer' or 'block', got ${JSON.stringify(o.mode)}`);
    if (!Array.isArray(o.interested_layers) || o.interested_layers.some((s) => typeof s !== 'string'))
      this.fail(`option 'interested_layers' must be a list of node names`);
    if (!state.weightValues) this.fail('internal: the quantization state has no weight-value map');
  }

  apply(model: Model): PassReport {
    const g = model.graph,
      o = this.options,
      s = this.state;
    const report: PassReport = { pass: this.name, changed: 0, details: [], skipped: [] };
    for (const name of o.interested_layers)
      if (!s.layers.some((n) => n.name === name)) this.fail(`option 'interested_layers' names '${name}', which is not a quantized layer`);
    if (this.data.length === 0) this.fail('needs calibration data (none was given)');
    const floatSession = InferenceSession.createSync(model, { runInWorker: false, allowNonFinite: this.allowNonFinite });
    // The model the layers' quantized inputs come from: earlier layers get their final weights as they are decided.
    const qModel = cloneModel(model);
    const qNode = new Map(s.layers.map((n) => [n, qModel.graph.nodes.find((m) => m.outputs[0] === n.outputs[0])!] as const));
    const inputs = new Set(floatSession.inputNames);
    const be: Backend = getBackend(floatSession.backendName);
    const setQuantized = (n: Node, params: QuantParams, values: Int8Array | Uint8Array | undefined) => {
      const w = g.initializers.get(n.inputs[1])!;
      const q = values ?? quantizeTensor(w.data as Float32Array, w.dims, params);
      const name = qModel.graph.uniqueName(`${n.inputs[1]}__adaround`);
      qModel.graph.initializers.set(name, new Tensor('float32', dequantizeTensor(q, w.dims, params), w.dims));
      qNode.get(n)!.inputs[1] = name;
    };
    const wantedLayer = (n: Node) => o.interested_layers.length === 0 || o.interested_layers.includes(n.name);
    const blocks = o.mode === 'block' ? findBlocks(g, s.layers.filter(wantedLayer)) : [];
    const inBlock = new Map(blocks.flatMap((b) => b.layers.map((l) => [l, b] as const)));
    const doneBlocks = new Set<Block>();
    s.layers.forEach((n, li) => {
      const label = nodeLabel(n);
      const blk = inBlock.get(n);
      if (blk) {
        // The block's layers are decided together, when its first layer comes up.
        if (doneBlocks.has(blk)) return;
        doneBlocks.add(blk);
        const qSession = InferenceSession.createSync(qModel, { runInWorker: false, allowNonFinite: this.allowNonFinite });
        const paramsOf = new Map(blk.layers.map((l) => [l, this.weightParams(model, l)] as const));
        const bp = buildBlockProblem(blk, this.data, floatSession, qSession, inputs);
        const what = `block ${blk.layers.map(nodeLabel).join(' + ')} -> ${nodeLabel(blk.join)}`;
        if (bp.images.length === 0 || bp.images.every((im) => im.x.every((v) => v === 0))) {
          report.skipped!.push(`${what}: no calibration data reaches it (its input is zero in every sample); nearest rounding kept`);
        } else if (o.iterations === 0) {
          report.skipped!.push(`${what}: option 'iterations' is 0; nearest rounding kept`);
        } else {
          const r = optimiseBlock(blk, bp, g.initializers, paramsOf, o, li, be);
          for (const [l, v] of r.values) s.weightValues!.set(l, v);
          report.changed += blk.layers.length;
          report.details.push(
            `${what}: block output MSE ${r.mseNearest.toPrecision(4)} (nearest) -> ${r.mseLearned.toPrecision(4)} (adaround) on ${r.evalImages} images; ${r.flipped} of ${r.total} weights rounded the other way`,
          );
        }
        for (const l of blk.layers) setQuantized(l, paramsOf.get(l)!, s.weightValues!.get(l));
        return;
      }
      const params = this.weightParams(model, n);
      const w = g.initializers.get(n.inputs[1])!;
      const wanted = wantedLayer(n);
      let values: Int8Array | Uint8Array | undefined;
      const why = !wanted ? undefined : unsupported(n, w.dims.length);
      if (why) report.skipped!.push(`${label}: ${why}; nearest rounding kept`);
      if (wanted && !why) {
        const qSession = InferenceSession.createSync(qModel, { runInWorker: false, allowNonFinite: this.allowNonFinite });
        const p = buildProblem(n, w, this.data, floatSession, qSession, inputs, g.initializers);
        if (p.rows === 0 || isAllZero(p)) {
          report.skipped!.push(
            `${label}: no calibration data reaches it (its input is ${p.rows === 0 ? 'empty' : 'zero'} in every sample); nearest rounding kept`,
          );
        } else if (o.iterations === 0) {
          report.skipped!.push(`${label}: option 'iterations' is 0; nearest rounding kept`);
        } else {
          const r = optimise(p, w.data as Float32Array, w.dims, params, o, li, label, be);
          values = r.values;
          s.weightValues!.set(n, values);
          report.changed++;
          report.details.push(
            `${label}: output MSE ${r.mseNearest.toPrecision(4)} (nearest) -> ${r.mseLearned.toPrecision(4)} (adaround) on ${r.evalRows} rows; ${r.flipped} of ${values.length} weights rounded the other way${r.poolRows < p.rows ? `; optimised on ${r.poolRows} of ${p.rows} rows` : ''}${p.groups === 1 && r.poolRows <= o.batch_size ? `; batch_size ${o.batch_size} >= ${r.poolRows} rows: every step used all rows` : ''}`,
          );
        }
      }
      // The next layers see this one's final weights.
      setQuantized(n, params, values);
    });
    return report;
  }

  /** The weight's quantization parameters as the exporter will use them (single-shift's scales included). */
  private weightParams(model: Model, n: Node): QuantParams {
    let p = layerWeightParams(model.graph, n, this.scheme);
    const adjust: WeightScaleAdjust | undefined = this.state.weightScale.get(n);
    if (adjust) p = { ...p, scale: adjust(p.scale, this.scheme.granularity !== 'per-tensor') };
    return p;
  }
}

/** Why a layer cannot be optimised, or undefined when it can. */
function unsupported(n: Node, wRank: number): string | undefined {
  if (n.opType === 'Conv') return wRank === 3 || wRank === 4 ? undefined : `${wRank - 2}-D Conv is not supported (1-D and 2-D are)`;
  if (n.opType === 'Gemm' || n.opType === 'MatMul') return wRank === 2 ? undefined : 'weight is not a matrix';
  return `${n.opType} is not supported (Conv, Gemm, MatMul are)`;
}

/** Rows whose input is zero contribute nothing to the gradient: when all are, the data never reaches the layer. */
function isAllZero(p: LayerProblem): boolean {
  return p.inputs.every((x) => (x.data as Float32Array).every((v) => v === 0));
}

function floatTensor(t: Tensor | undefined, what: string): Tensor {
  if (!(t instanceof Tensor) || !(t.data instanceof Float32Array))
    throw new OnnxPtqError('INVALID_DATA', `adaround: ${what} is not a float32 tensor`);
  return t;
}

/** Runs both models over the data and sets up rows, gathering and targets for one layer. */
function buildProblem(
  n: Node,
  w: Tensor,
  data: readonly Feeds[],
  floatSession: InferenceSession,
  qSession: InferenceSession,
  inputs: ReadonlySet<string>,
  inits: ReadonlyMap<string, Tensor>,
): LayerProblem {
  const label = nodeLabel(n);
  const xName = n.inputs[0],
    yName = n.outputs[0];
  const xs: Tensor[] = [],
    ys: Tensor[] = [];
  for (let i = 0; i < data.length; i++) {
    const f = data[i];
    const yo = floatSession.runSync(f, { outputs: [yName] });
    ys.push(floatTensor(yo[yName], `layer '${label}' output in sample ${i}`));
    const x = inputs.has(xName) ? f[xName] : qSession.runSync(f, { outputs: [xName] })[xName];
    xs.push(floatTensor(x, `layer '${label}' input '${xName}' in sample ${i}`));
  }
  const bias = n.inputs[2] ? inits.get(n.inputs[2]) : undefined;
  return n.opType === 'Conv' ? convProblem(n, w, xs, ys, bias) : matrixProblem(n, w, xs, ys, bias);
}

function convProblem(n: Node, w: Tensor, xs: Tensor[], ys: Tensor[], bias: Tensor | undefined): LayerProblem {
  const label = nodeLabel(n);
  const is1d = w.dims.length === 3;
  const M = w.dims[0],
    Cg = w.dims[1],
    KH = is1d ? 1 : w.dims[2],
    KW = w.dims[w.dims.length - 1];
  const groups = intAttr(n, 'group', 1);
  const ints = (k: string, d: number[]) => {
    const a = n.attributes.get(k);
    return a && a.type === 'ints' ? [...a.value] : d;
  };
  const sp = is1d ? 1 : 2;
  const strides = ints('strides', new Array(sp).fill(1)),
    dil = ints('dilations', new Array(sp).fill(1));
  const autoPad = (() => {
    const a = n.attributes.get('auto_pad');
    return a && a.type === 'string' ? a.value : 'NOTSET';
  })();
  const [sh, sw] = is1d ? [1, strides[0]] : strides;
  const [dh, dw] = is1d ? [1, dil[0]] : dil;
  const Ktot = Cg * groups * KH * KW,
    Kg = Cg * KH * KW;
  // Per sample: geometry and row range (rows: batch x OH x OW).
  const geo = xs.map((x, i) => {
    const d = x.dims;
    const [N, C, H, W] = is1d ? [d[0], d[1], 1, d[2]] : [d[0], d[1], d[2], d[3]];
    if (C !== Cg * groups)
      throw new OnnxPtqError('SHAPE_MISMATCH', `adaround: layer '${label}': input has ${C} channels, the weight expects ${Cg * groups}`);
    const y = ys[i].dims;
    const [OH, OW] = is1d ? [1, y[2]] : [y[2], y[3]];
    let ph: number, pw: number;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const tot = (o: number, s: number, k: number, dl: number, sz: number) => Math.max(0, (o - 1) * s + (k - 1) * dl + 1 - sz);
      const th = tot(OH, sh, KH, dh, H),
        tw = tot(OW, sw, KW, dw, W);
      ph = autoPad === 'SAME_UPPER' ? Math.floor(th / 2) : th - Math.floor(th / 2);
      pw = autoPad === 'SAME_UPPER' ? Math.floor(tw / 2) : tw - Math.floor(tw / 2);
    } else if (autoPad === 'VALID') {
      ph = pw = 0;
    } else {
      const pads = ints('pads', new Array(2 * sp).fill(0));
      [ph, pw] = is1d ? [0, pads[0]] : [pads[0], pads[1]];
    }
    return { N, C, H, W, OH, OW, ph, pw, x: xs[i].data as Float32Array, y: ys[i].data as Float32Array };
  });
  const start: number[] = [];
  let rows = 0;
  for (const q of geo) {
    start.push(rows);
    rows += q.N * q.OH * q.OW;
  }
  const b = bias?.data as Float32Array | undefined;
  const target = new Float32Array(rows * M);
  geo.forEach((q, si) => {
    const P = q.OH * q.OW;
    for (let nb = 0; nb < q.N; nb++)
      for (let m = 0; m < M; m++) {
        const bm = b ? b[m] : 0;
        for (let p = 0; p < P; p++) target[(start[si] + nb * P + p) * M + m] = q.y[(nb * M + m) * P + p] - bm;
      }
  });
  const gather = (r: number, dst: Float32Array, off: number) => {
    const si = findSample(start, r);
    const q = geo[si];
    let p = r - start[si];
    const P = q.OH * q.OW;
    const nb = Math.floor(p / P);
    p -= nb * P;
    const oh = Math.floor(p / q.OW),
      ow = p - oh * q.OW;
    const h0 = oh * sh - q.ph,
      w0 = ow * sw - q.pw;
    const x = q.x;
    let k = off;
    for (let c = 0; c < q.C; c++) {
      const base = (nb * q.C + c) * q.H * q.W;
      for (let i = 0; i < KH; i++) {
        const hh = h0 + i * dh;
        const inH = hh >= 0 && hh < q.H;
        for (let j = 0; j < KW; j++) {
          const ww = w0 + j * dw;
          dst[k++] = inH && ww >= 0 && ww < q.W ? x[base + hh * q.W + ww] : 0;
        }
      }
    }
  };
  return { M, Kg, Ktot, groups, toFlat: (i) => i, rows, gather, target, inputs: xs };
}

function matrixProblem(n: Node, w: Tensor, xs: Tensor[], ys: Tensor[], bias: Tensor | undefined): LayerProblem {
  const label = nodeLabel(n);
  const gemm = n.opType === 'Gemm';
  const transB = gemm && intAttr(n, 'transB', 0) === 1;
  const transA = gemm && intAttr(n, 'transA', 0) === 1;
  const alphaA = gemm ? n.attributes.get('alpha') : undefined;
  const alpha = alphaA && alphaA.type === 'float' ? alphaA.value : 1;
  const betaA = gemm ? n.attributes.get('beta') : undefined;
  const beta = betaA && betaA.type === 'float' ? betaA.value : 1;
  const [K, M] = transB ? [w.dims[1], w.dims[0]] : [w.dims[0], w.dims[1]];
  const start: number[] = [];
  const rowsOf: number[] = [];
  let rows = 0;
  for (const x of xs) {
    const r = transA ? x.dims[1] : x.size / K;
    if (!Number.isInteger(r) || (transA ? x.dims[0] : x.dims[x.dims.length - 1]) !== K)
      throw new OnnxPtqError(
        'SHAPE_MISMATCH',
        `adaround: layer '${label}': input dims [${x.dims.join(', ')}] do not match the weight's K = ${K}`,
      );
    start.push(rows);
    rowsOf.push(r);
    rows += r;
  }
  const c = gemm ? (bias?.data as Float32Array | undefined) : undefined;
  const target = new Float32Array(rows * M);
  ys.forEach((y, si) => {
    const d = y.data as Float32Array;
    for (let r = 0; r < rowsOf[si]; r++)
      for (let m = 0; m < M; m++) {
        // Gemm's C broadcasts: a scalar, a row of M, or the full rows x M.
        const cv = !c ? 0 : c.length === 1 ? c[0] : c.length === M ? c[m] : c[r * M + m];
        target[(start[si] + r) * M + m] = d[r * M + m] - beta * cv;
      }
  });
  const gather = (r: number, dst: Float32Array, off: number) => {
    const si = findSample(start, r);
    const x = xs[si].data as Float32Array;
    const rr = r - start[si];
    const R = rowsOf[si];
    // alpha scales every product: folded into the input.
    if (transA) for (let k = 0; k < K; k++) dst[off + k] = alpha * x[k * R + rr];
    else for (let k = 0; k < K; k++) dst[off + k] = alpha * x[rr * K + k];
  };
  // The matrix is M x K (output channel major); a [K, M] initializer is its transpose.
  const toFlat = transB ? (i: number) => i : (i: number) => (i % K) * M + Math.floor(i / K);
  return { M, Kg: K, Ktot: K, groups: 1, toFlat, rows, gather, target, inputs: xs };
}

function findSample(start: readonly number[], r: number): number {
  let lo = 0,
    hi = start.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (start[mid] <= r) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

interface OptimiseResult {
  values: Int8Array | Uint8Array;
  mseNearest: number;
  mseLearned: number;
  evalRows: number;
  flipped: number;
  /** Rows the layer was optimised on. */
  poolRows: number;
}

/** P (B x M) = X (B x Ktot) . Wt^T, where Wt is M x Ktot (ungrouped layers). */
function forward(B: number, M: number, K: number, X: Float32Array, Wt: Float32Array, P: Float32Array, be: Backend): void {
  be.gemmF32({ M: B, N: M, K, a: X, b: Wt, transB: true, y: P });
}

/** P (B x M) for a grouped layer: row b, channel m reads its group's Kg inputs. */
function forwardGrouped(p: LayerProblem, B: number, X: Float32Array, Wt: Float32Array, P: Float32Array): void {
  const { M, Kg, Ktot, groups } = p;
  const mg = M / groups;
  for (let b = 0; b < B; b++)
    for (let m = 0; m < M; m++) {
      const xo = b * Ktot + Math.floor(m / mg) * Kg,
        wo = m * Kg;
      let acc = 0;
      for (let k = 0; k < Kg; k++) acc += X[xo + k] * Wt[wo + k];
      P[b * M + m] = acc;
    }
}

/** Rows kept in memory per layer: every row, or a seeded random subset of at most this many values. */
const POOL_VALUES = 1 << 24;

/**
 * The rounding variables of one weight tensor (in matrix order, M x Kg): V, its Adam moments, and
 * the constants of W~ = s (clamp(floor(W / s) + z + h(V), qmin, qmax) - z).
 */
class Rounding {
  readonly n: number;
  private readonly sc: Float32Array;
  private readonly fl: Float32Array;
  private readonly zp: Float32Array;
  private readonly V: Float64Array;
  private readonly sg: Float64Array;
  private readonly m1: Float64Array;
  private readonly m2: Float64Array;

  constructor(
    private readonly wData: Float32Array,
    private readonly wDims: readonly number[],
    private readonly params: QuantParams,
    private readonly toFlat: (i: number) => number,
  ) {
    const n = (this.n = wData.length);
    const slice = sliceIndexer(wDims, params);
    this.sc = new Float32Array(n);
    this.fl = new Float32Array(n);
    this.zp = new Float32Array(n);
    this.V = new Float64Array(n);
    this.sg = new Float64Array(n);
    this.m1 = new Float64Array(n);
    this.m2 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const f = toFlat(i),
        si = slice(f);
      const s = params.scale[si],
        z = params.zeroPoint[si];
      // The same float32 division as QuantizeLinear (quantizeValue), so nearest rounding is reproduced.
      const v = Math.fround(wData[f] / s);
      const lo = Math.floor(v);
      this.sc[i] = s;
      this.zp[i] = z;
      this.fl[i] = lo + z;
      // h(V) = frac: sigmoid(V) = (frac - gamma) / (zeta - gamma), strictly inside (0, 1).
      const t = (v - lo - GAMMA) / (ZETA - GAMMA);
      this.V[i] = Math.log(t / (1 - t));
    }
  }

  /** Wt = the soft-quantized weights for the current V (matrix order). */
  soft(Wt: Float32Array): void {
    const { qmin, qmax } = this.params;
    for (let i = 0; i < this.n; i++) {
      const e = 1 / (1 + Math.exp(-this.V[i]));
      this.sg[i] = e;
      const h = Math.min(1, Math.max(0, e * (ZETA - GAMMA) + GAMMA));
      Wt[i] = this.sc[i] * (Math.min(qmax, Math.max(qmin, this.fl[i] + h)) - this.zp[i]);
    }
  }

  /** One Adam step from G = d(reconstruction)/dW~ (after soft()), plus the regulariser when `beta` is set. */
  step(G: Float32Array, t: number, o: AdaRoundOptions, beta: number | undefined): void {
    const { qmin, qmax } = this.params;
    const b1 = 0.9,
      b2 = 0.999,
      eps = 1e-8;
    const c1 = 1 - b1 ** t,
      c2 = 1 - b2 ** t;
    const { V, sg, m1, m2, fl, sc } = this;
    for (let i = 0; i < this.n; i++) {
      const e = sg[i];
      const h = e * (ZETA - GAMMA) + GAMMA;
      // The clip has no gradient outside (0, 1): V there only moves by Adam's momentum.
      let g = 0;
      if (h > 0 && h < 1) {
        const q = fl[i] + h;
        if (q >= qmin && q <= qmax) g = G[i] * sc[i];
        if (beta !== undefined) {
          const u = 2 * h - 1;
          const a = Math.abs(u);
          // d/dh (1 - |2h - 1|^beta) = -2 beta |2h - 1|^(beta - 1) sign(2h - 1)
          if (a > 0) g -= o.lambda * 2 * beta * a ** (beta - 1) * Math.sign(u);
        }
        g *= e * (1 - e) * (ZETA - GAMMA);
      }
      m1[i] = b1 * m1[i] + (1 - b1) * g;
      m2[i] = b2 * m2[i] + (1 - b2) * g * g;
      V[i] -= (o.learning_rate * (m1[i] / c1)) / (Math.sqrt(m2[i] / c2) + eps);
    }
  }

  /** Hard rounding (up where h(V) >= 0.5): the integers (initializer order) and both weight matrices. */
  hard(): { values: Int8Array | Uint8Array; learnedW: Float32Array; nearestW: Float32Array; flipped: number } {
    const { qmin, qmax } = this.params;
    const n = this.n;
    const values = this.params.signed ? new Int8Array(n) : new Uint8Array(n);
    const nearest = quantizeTensor(this.wData, this.wDims, this.params);
    const learnedW = new Float32Array(n),
      nearestW = new Float32Array(n);
    let flipped = 0;
    for (let i = 0; i < n; i++) {
      const e = 1 / (1 + Math.exp(-this.V[i]));
      const h = Math.min(1, Math.max(0, e * (ZETA - GAMMA) + GAMMA));
      const q = Math.min(qmax, Math.max(qmin, this.fl[i] + (h >= 0.5 ? 1 : 0)));
      const f = this.toFlat(i);
      values[f] = q;
      if (q !== nearest[f]) flipped++;
      learnedW[i] = this.sc[i] * (q - this.zp[i]);
      nearestW[i] = this.sc[i] * (nearest[f] - this.zp[i]);
    }
    return { values, learnedW, nearestW, flipped };
  }
}

/** Beta of the regulariser at step `it`, or undefined during warm-up (AIMET's cosine schedule). */
function betaAt(it: number, o: AdaRoundOptions): number | undefined {
  const warm = Math.floor(o.warm_up * o.iterations);
  if (it < warm || o.lambda === 0) return undefined;
  const rel = o.iterations - warm > 0 ? (it - warm) / (o.iterations - warm) : 1;
  return o.beta_end + 0.5 * (o.beta_start - o.beta_end) * (1 + Math.cos(rel * Math.PI));
}

function optimise(
  p: LayerProblem,
  wData: Float32Array,
  wDims: readonly number[],
  params: QuantParams,
  o: AdaRoundOptions,
  layerIndex: number,
  label: string,
  be: Backend,
): OptimiseResult {
  const { M, Kg, Ktot, groups } = p;
  const n = M * Kg;
  if (n !== wData.length) throw new OnnxPtqError('INTERNAL', `adaround: layer '${label}': ${n} matrix entries for ${wData.length} weights`);
  const rv = new Rounding(wData, wDims, params, p.toFlat);
  const rng = mulberry32((o.seed + Math.imul(layerIndex + 1, 0x9e3779b9)) >>> 0);
  // The row pool: every row when they fit in POOL_VALUES (im2col done once), else a seeded subset.
  const cap = Math.max(o.batch_size, Math.floor(POOL_VALUES / Ktot));
  const poolRows = Math.min(p.rows, cap);
  let pick: Int32Array;
  if (poolRows === p.rows) pick = Int32Array.from({ length: p.rows }, (_, i) => i);
  else {
    const idx = Int32Array.from({ length: p.rows }, (_, i) => i);
    for (let i = 0; i < poolRows; i++) {
      const j = i + Math.floor(rng() * (p.rows - i));
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    pick = idx.slice(0, poolRows).sort();
  }
  const Xp = new Float32Array(poolRows * Ktot),
    Tp = new Float32Array(poolRows * M);
  for (let b = 0; b < poolRows; b++) {
    const r = pick[b];
    p.gather(r, Xp, b * Ktot);
    Tp.set(p.target.subarray(r * M, r * M + M), b * M);
  }
  // The reconstruction term is divided by the mean square of the layer's input. AIMET's absolute
  // loss grows with the square of the activations' units, so lambda's balance against it depended
  // on them: on mnist-8, whose input is raw 0..255 pixels, the regulariser was ~10^4 times too weak
  // to make h(V) binary and hard rounding fell back to nearest. For inputs of unit scale
  // (normalized images) this is the paper's loss.
  let xx = 0;
  for (let i = 0; i < Xp.length; i++) xx += Xp[i] * Xp[i];
  const reconScale = xx > 0 ? Xp.length / xx : 1;

  const B = Math.min(o.batch_size, poolRows);
  const all = poolRows <= o.batch_size;
  const G = new Float32Array(n),
    Wt = new Float32Array(n);
  // Ungrouped layers: minibatches of rows, products on the backend's GEMM. Grouped (depthwise)
  // layers: the exact loss over the pool through per-group second moments S_g = mean(x_g x_g^T)
  // and c_m = mean(x_g t_m) (the gradient is 2 (S_g w~_m - c_m)): Kg^2 per group per step instead
  // of B x M x Kg in plain loops, which made a depthwise layer cost seconds per thousand steps.
  const X = groups === 1 ? (all ? Xp : new Float32Array(B * Ktot)) : new Float32Array(0),
    T = groups === 1 ? (all ? Tp : new Float32Array(B * M)) : new Float32Array(0),
    P = new Float32Array(groups === 1 ? B * M : 0);
  let S: Float64Array | undefined, C: Float64Array | undefined;
  if (groups > 1) {
    const mg = M / groups;
    S = new Float64Array(groups * Kg * Kg);
    C = new Float64Array(M * Kg);
    for (let b = 0; b < poolRows; b++) {
      const xo = b * Ktot;
      for (let gi = 0; gi < groups; gi++) {
        const xg = xo + gi * Kg,
          so = gi * Kg * Kg;
        for (let i = 0; i < Kg; i++) {
          const xi = Xp[xg + i];
          if (xi === 0) continue;
          for (let j = 0; j < Kg; j++) S[so + i * Kg + j] += xi * Xp[xg + j];
        }
        for (let m = gi * mg; m < (gi + 1) * mg; m++) {
          const t = Tp[b * M + m];
          if (t === 0) continue;
          for (let k = 0; k < Kg; k++) C[m * Kg + k] += t * Xp[xg + k];
        }
      }
    }
    for (let i = 0; i < S.length; i++) S[i] /= poolRows;
    for (let i = 0; i < C.length; i++) C[i] /= poolRows;
  }
  const gramGradient = (scale: number) => {
    const mg = M / groups;
    for (let m = 0; m < M; m++) {
      const so = Math.floor(m / mg) * Kg * Kg,
        wo = m * Kg;
      for (let i = 0; i < Kg; i++) {
        let acc = -C![wo + i];
        for (let j = 0; j < Kg; j++) acc += S![so + i * Kg + j] * Wt[wo + j];
        G[wo + i] = scale * acc;
      }
    }
  };
  const bar = progress(`adaround ${label}`);
  for (let it = 0; it < o.iterations; it++) {
    rv.soft(Wt);
    // d/dW~ of reconScale * mean_rows sum_m r^2.
    if (groups === 1) {
      if (!all)
        for (let b = 0; b < B; b++) {
          const r = Math.min(poolRows - 1, Math.floor(rng() * poolRows));
          X.set(Xp.subarray(r * Ktot, (r + 1) * Ktot), b * Ktot);
          T.set(Tp.subarray(r * M, (r + 1) * M), b * M);
        }
      forward(B, M, Kg, X, Wt, P, be);
      for (let i = 0; i < B * M; i++) P[i] -= T[i];
      be.gemmF32({ M, N: Kg, K: B, a: P, transA: true, b: X, alpha: (2 * reconScale) / B, y: G });
    } else gramGradient(2 * reconScale);
    rv.step(G, it + 1, o, betaAt(it, o));
    bar.tick(it + 1, o.iterations);
  }
  bar.end();
  const { values, learnedW, nearestW, flipped } = rv.hard();
  // Output MSE of both roundings on (up to) 8192 evenly spread rows of the pool: what the report shows.
  const evalRows = Math.min(poolRows, 8192);
  const mse = (Wq: Float32Array) => {
    let sum = 0;
    const chunk = 512;
    const Xe = new Float32Array(chunk * Ktot),
      Pe = new Float32Array(chunk * M);
    const rowOf = (j: number) => Math.floor((j * poolRows) / evalRows);
    for (let r0 = 0; r0 < evalRows; r0 += chunk) {
      const cnt = Math.min(chunk, evalRows - r0);
      for (let b = 0; b < cnt; b++) Xe.set(Xp.subarray(rowOf(r0 + b) * Ktot, (rowOf(r0 + b) + 1) * Ktot), b * Ktot);
      if (groups === 1) forward(cnt, M, Kg, Xe, Wq, Pe, be);
      else forwardGrouped(p, cnt, Xe, Wq, Pe);
      for (let b = 0; b < cnt; b++) {
        const r = rowOf(r0 + b);
        for (let m = 0; m < M; m++) sum += (Pe[b * M + m] - Tp[r * M + m]) ** 2;
      }
    }
    return sum / evalRows;
  };
  return { values, mseNearest: mse(nearestW), mseLearned: mse(learnedW), evalRows, flipped, poolRows };
}

// ---- block reconstruction (BRECQ) ----

interface Block {
  /** The value both branches start from. */
  input: string;
  /** The Add that joins them. */
  join: Node;
  /** Block nodes in graph order, the join excluded. */
  nodes: Node[];
  layers: Node[];
}

/** Elementwise ops inside a block the optimiser differentiates (besides Conv, GlobalAveragePool, Mul, Add). */
const UNARY_OPS = new Set(['Relu', 'Clip', 'HardSwish', 'HardSigmoid', 'Sigmoid']);
/** At most this many nodes in one block (the search gives up beyond: no residual block is that long). */
const MAX_BLOCK_NODES = 64;

/**
 * Residual blocks whose every node the block optimiser can differentiate (exported for tests): an
 * Add whose two inputs, followed backwards through 2-D Convs (quantized layers, any group), Relu,
 * constant Clip, HardSwish, HardSigmoid, Sigmoid, GlobalAveragePool, Mul and Add, all start from one
 * value X (the block input: one of the Add's inputs for an identity skip, or the input of a conv
 * shortcut), with no inner value read outside the block.
 */
export function findBlocks(g: Model['graph'], layers: readonly Node[]): Block[] {
  const layerSet = new Set(layers.filter((n) => n.opType === 'Conv' && g.initializers.get(n.inputs[1])?.rank === 4));
  const order = g.topologicalOrder();
  const pos = new Map(order.map((n, i) => [n, i] as const));
  const constant = (v: string) => !v || g.initializers.has(v);
  const ok = (p: Node) =>
    p.domain === '' &&
    (layerSet.has(p) ||
      (UNARY_OPS.has(p.opType) && p.inputs.slice(1).every(constant)) ||
      p.opType === 'GlobalAveragePool' ||
      ((p.opType === 'Mul' || p.opType === 'Add') && p.inputs.length === 2));
  /** The nodes between x and v (backwards from v), or undefined when a path leaves the allowed ops before reaching x. */
  const closure = (v: string, x: string, into: Set<Node>): boolean => {
    const stack = [v];
    while (stack.length) {
      const u = stack.pop()!;
      if (u === x || constant(u)) continue;
      const p = g.producerOf(u);
      if (!p || !ok(p)) return false;
      if (into.has(p)) continue;
      into.add(p);
      if (into.size > MAX_BLOCK_NODES) return false;
      // A Conv's weight and bias are constants; only its data input is followed.
      stack.push(...(p.opType === 'Conv' ? [p.inputs[0]] : p.inputs));
    }
    return true;
  };
  const blocks: Block[] = [];
  const used = new Set<Node>();
  for (const a of order) {
    if (a.opType !== 'Add' || a.domain !== '' || a.inputs.length !== 2 || a.inputs.some(constant)) continue;
    // Candidates for X: an input itself (identity skip), or where a chain of single-input ops from an input starts (conv shortcut).
    const cands: string[] = [...a.inputs];
    for (const i of a.inputs) {
      let v = i;
      for (let p = g.producerOf(v); p && ok(p) && (p.opType === 'Conv' || UNARY_OPS.has(p.opType)); p = g.producerOf(v)) {
        v = p.inputs[0];
        cands.push(v);
      }
    }
    for (const x of cands) {
      const nodes = new Set<Node>();
      if (!a.inputs.every((i) => closure(i, x, nodes))) continue;
      const list = [...nodes].sort((p, q) => pos.get(p)! - pos.get(q)!);
      const blockLayers = list.filter((n) => layerSet.has(n));
      if (blockLayers.length < 2 || list.some((n) => used.has(n))) continue;
      const inside = new Set([...list, a]);
      if (list.some((n) => g.consumersOf(n.outputs[0]).some((c) => !inside.has(c)) || g.outputs.some((o) => o.name === n.outputs[0])))
        continue;
      for (const n of list) used.add(n);
      blocks.push({ input: x, join: a, nodes: list, layers: blockLayers });
      break;
    }
  }
  return blocks;
}

interface ConvGeometry {
  C: number;
  H: number;
  W: number;
  M: number;
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  ph: number;
  pw: number;
}

/** Output size and begin pads of a 2-D Conv on a C x H x W input (ONNX pads and auto_pad). */
function convGeometry(n: Node, wDims: readonly number[], C: number, H: number, W: number): ConvGeometry {
  const ints = (k: string, d: number[]) => {
    const a = n.attributes.get(k);
    return a && a.type === 'ints' ? [...a.value] : d;
  };
  const [M, , KH, KW] = wDims;
  const [sh, sw] = ints('strides', [1, 1]),
    [dh, dw] = ints('dilations', [1, 1]);
  const ap = n.attributes.get('auto_pad');
  const autoPad = ap && ap.type === 'string' ? ap.value : 'NOTSET';
  let pads = ints('pads', [0, 0, 0, 0]);
  if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const oh = Math.ceil(H / sh),
      ow = Math.ceil(W / sw);
    const th = Math.max(0, (oh - 1) * sh + (KH - 1) * dh + 1 - H),
      tw = Math.max(0, (ow - 1) * sw + (KW - 1) * dw + 1 - W);
    const bh = autoPad === 'SAME_UPPER' ? Math.floor(th / 2) : th - Math.floor(th / 2);
    const bw = autoPad === 'SAME_UPPER' ? Math.floor(tw / 2) : tw - Math.floor(tw / 2);
    pads = [bh, bw, th - bh, tw - bw];
  }
  const OH = Math.floor((H + pads[0] + pads[2] - (KH - 1) * dh - 1) / sh) + 1;
  const OW = Math.floor((W + pads[1] + pads[3] - (KW - 1) * dw - 1) / sw) + 1;
  return { C, H, W, M, KH, KW, OH, OW, sh, sw, dh, dw, ph: pads[0], pw: pads[1] };
}

/** cols (C*KH*KW x OH*OW) of one image. */
function im2col(q: ConvGeometry, x: Float32Array, cols: Float32Array): void {
  const P = q.OH * q.OW;
  let row = 0;
  for (let c = 0; c < q.C; c++)
    for (let i = 0; i < q.KH; i++)
      for (let j = 0; j < q.KW; j++, row++) {
        const o = row * P;
        for (let oh = 0; oh < q.OH; oh++) {
          const hh = oh * q.sh - q.ph + i * q.dh;
          const inH = hh >= 0 && hh < q.H;
          const base = (c * q.H + hh) * q.W;
          for (let ow = 0; ow < q.OW; ow++) {
            const ww = ow * q.sw - q.pw + j * q.dw;
            cols[o + oh * q.OW + ow] = inH && ww >= 0 && ww < q.W ? x[base + ww] : 0;
          }
        }
      }
}

/** dx += col2im(dcols): the adjoint of im2col. */
function col2im(q: ConvGeometry, dcols: Float32Array, dx: Float32Array): void {
  const P = q.OH * q.OW;
  let row = 0;
  for (let c = 0; c < q.C; c++)
    for (let i = 0; i < q.KH; i++)
      for (let j = 0; j < q.KW; j++, row++) {
        const o = row * P;
        for (let oh = 0; oh < q.OH; oh++) {
          const hh = oh * q.sh - q.ph + i * q.dh;
          if (hh < 0 || hh >= q.H) continue;
          const base = (c * q.H + hh) * q.W;
          for (let ow = 0; ow < q.OW; ow++) {
            const ww = ow * q.sw - q.pw + j * q.dw;
            if (ww >= 0 && ww < q.W) dx[base + ww] += dcols[o + oh * q.OW + ow];
          }
        }
      }
}

interface BlockImage {
  /** Block input in the quantized-weight model (C x H x W). */
  x: Float32Array;
  /** The join's output in the float model (M x OH x OW). */
  t: Float32Array;
}

interface BlockProblem {
  images: BlockImage[];
  /** Input dims per image: [C, H, W]. */
  dims: number[];
}

function buildBlockProblem(
  b: Block,
  data: readonly Feeds[],
  floatSession: InferenceSession,
  qSession: InferenceSession,
  inputs: ReadonlySet<string>,
): BlockProblem {
  const label = nodeLabel(b.join);
  const images: BlockImage[] = [];
  let dims: number[] | undefined;
  for (let i = 0; i < data.length; i++) {
    const f = data[i];
    const y = floatTensor(
      floatSession.runSync(f, { outputs: [b.join.outputs[0]] })[b.join.outputs[0]],
      `block '${label}' output in sample ${i}`,
    );
    const x = floatTensor(
      inputs.has(b.input) ? f[b.input] : qSession.runSync(f, { outputs: [b.input] })[b.input],
      `block '${label}' input '${b.input}' in sample ${i}`,
    );
    if (x.dims.length !== 4) throw new OnnxPtqError('SHAPE_MISMATCH', `adaround: block '${label}': input '${b.input}' is not NCHW`);
    const d = x.dims.slice(1);
    if (dims && d.some((v, k) => v !== dims![k]))
      throw new OnnxPtqError(
        'SHAPE_MISMATCH',
        `adaround: block '${label}': block mode needs one input size, got [${dims.join(', ')}] and [${d.join(', ')}]`,
      );
    dims = d;
    const xs = x.size / x.dims[0],
      ys = y.size / y.dims[0];
    for (let nb = 0; nb < x.dims[0]; nb++)
      images.push({
        x: (x.data as Float32Array).subarray(nb * xs, (nb + 1) * xs),
        t: (y.data as Float32Array).subarray(nb * ys, (nb + 1) * ys),
      });
  }
  return { images, dims: dims ?? [0, 0, 0] };
}

/** Forward (and backward) through the block for one image, with the given weight matrices per layer (exported for tests). */
export class BlockNet {
  readonly geo = new Map<Node, ConvGeometry>();
  private readonly shapes = new Map<string, number[]>();
  private readonly bias = new Map<Node, Float32Array | undefined>();
  private readonly cols = new Map<Node, Float32Array>();
  private readonly bounds = new Map<Node, [number, number]>();
  private readonly consts = new Map<string, Float32Array>();
  private readonly groups = new Map<Node, number>();
  readonly outSize: number;
  readonly positions: number;

  constructor(
    private readonly b: Block,
    inits: ReadonlyMap<string, Tensor>,
    dims: number[],
    private readonly be: Backend,
  ) {
    this.shapes.set(b.input, dims);
    const label = nodeLabel(b.join);
    const shapeOf = (v: string): number[] => {
      const c = inits.get(v);
      if (c) {
        // A constant operand: a scalar, or one value per channel ([C], [C, 1, 1] or [1, C, 1, 1]).
        this.consts.set(v, c.data as Float32Array);
        return c.size === 1 ? [1, 1, 1] : [c.size, 1, 1];
      }
      return this.shapes.get(v)!;
    };
    for (const n of [...b.nodes, b.join]) {
      const [C, H, W] = shapeOf(n.inputs[0]);
      if (n.opType === 'Conv') {
        const w = inits.get(n.inputs[1])!;
        const q = convGeometry(n, w.dims, C, H, W);
        this.geo.set(n, q);
        this.groups.set(n, intAttr(n, 'group', 1));
        this.cols.set(n, new Float32Array(C * q.KH * q.KW * q.OH * q.OW));
        const bt = n.inputs[2] ? inits.get(n.inputs[2]) : undefined;
        this.bias.set(n, bt?.data as Float32Array | undefined);
        this.shapes.set(n.outputs[0], [q.M, q.OH, q.OW]);
      } else if (n.opType === 'GlobalAveragePool') {
        this.shapes.set(n.outputs[0], [C, 1, 1]);
      } else if (n.opType === 'Mul' || n.opType === 'Add') {
        const [x, y] = n.inputs.map(shapeOf);
        const big = x[1] * x[2] >= y[1] * y[2] ? x : y;
        const small = big === x ? y : x;
        // Same shape, or a per-channel / scalar operand broadcast over the other.
        const fits = (small[0] === big[0] || small[0] === 1) && ((small[1] === big[1] && small[2] === big[2]) || small[1] * small[2] === 1);
        if (!fits)
          throw new OnnxPtqError(
            'SHAPE_MISMATCH',
            `adaround: block '${label}': ${nodeLabel(n)} joins [${x.join(', ')}] and [${y.join(', ')}]`,
          );
        this.shapes.set(n.outputs[0], [Math.max(x[0], y[0]), big[1], big[2]]);
      } else {
        const attr = (k: string, d: number) => {
          const at = n.attributes.get(k);
          return at && at.type === 'float' ? at.value : d;
        };
        if (n.opType === 'Clip') {
          const v = (i: number, d: number) => {
            const t = n.inputs[i] ? inits.get(n.inputs[i]) : undefined;
            return t ? (t.data as Float32Array)[0] : attr(i === 1 ? 'min' : 'max', d);
          };
          this.bounds.set(n, [v(1, -Infinity), v(2, Infinity)]);
        }
        if (n.opType === 'HardSigmoid') this.bounds.set(n, [attr('alpha', 0.2), attr('beta', 0.5)]);
        this.shapes.set(n.outputs[0], [C, H, W]);
      }
    }
    const out = this.shapes.get(b.join.outputs[0])!;
    this.outSize = out[0] * out[1] * out[2];
    this.positions = out[1] * out[2];
  }

  private get(vals: Map<string, Float32Array>, v: string): Float32Array {
    return this.consts.get(v) ?? vals.get(v)!;
  }

  /** Index of `small`'s element that element i of a [C, H, W] tensor reads (broadcast). */
  private static bcast(small: number, HW: number): (i: number) => number {
    return small === 1 ? () => 0 : (i) => Math.floor(i / HW);
  }

  /** Values of one image; returns the join's output. */
  forward(x: Float32Array, wt: ReadonlyMap<Node, Float32Array>, vals: Map<string, Float32Array>): Float32Array {
    vals.clear();
    vals.set(this.b.input, x);
    for (const n of [...this.b.nodes, this.b.join]) {
      const xin = this.get(vals, n.inputs[0]);
      let y: Float32Array;
      switch (n.opType) {
        case 'Conv': {
          const q = this.geo.get(n)!;
          const cols = this.cols.get(n)!;
          im2col(q, xin, cols);
          const P = q.OH * q.OW,
            G = this.groups.get(n)!,
            Kg = (q.C / G) * q.KH * q.KW,
            Mg = q.M / G;
          const w = wt.get(n)!;
          y = new Float32Array(q.M * P);
          if (G === 1) this.be.gemmF32({ M: q.M, N: P, K: Kg, a: w, b: cols, y });
          else
            for (let m = 0; m < q.M; m++) {
              const co = Math.floor(m / Mg) * Kg * P;
              for (let k = 0; k < Kg; k++) {
                const wv = w[m * Kg + k];
                if (wv === 0) continue;
                const ro = co + k * P;
                for (let p = 0; p < P; p++) y[m * P + p] += wv * cols[ro + p];
              }
            }
          const bias = this.bias.get(n);
          if (bias) for (let m = 0; m < q.M; m++) for (let p = 0; p < P; p++) y[m * P + p] += bias[m];
          break;
        }
        case 'GlobalAveragePool': {
          const [C, H, W] = this.shapes.get(n.inputs[0])!;
          y = new Float32Array(C);
          for (let c = 0; c < C; c++) {
            let acc = 0;
            for (let i = 0; i < H * W; i++) acc += xin[c * H * W + i];
            y[c] = acc / (H * W);
          }
          break;
        }
        case 'Mul':
        case 'Add': {
          const [oc, oh, ow] = this.shapes.get(n.outputs[0])!;
          const HW = oh * ow;
          const [a, c] = n.inputs.map((v) => this.get(vals, v));
          const ia = a.length === oc * HW ? (i: number) => i : BlockNet.bcast(a.length, HW);
          const ic = c.length === oc * HW ? (i: number) => i : BlockNet.bcast(c.length, HW);
          y = new Float32Array(oc * HW);
          if (n.opType === 'Mul') for (let i = 0; i < y.length; i++) y[i] = a[ia(i)] * c[ic(i)];
          else for (let i = 0; i < y.length; i++) y[i] = a[ia(i)] + c[ic(i)];
          break;
        }
        default: {
          const f = this.unary(n);
          y = xin.map((v) => f(v)[0]);
        }
      }
      vals.set(n.outputs[0], y);
    }
    return vals.get(this.b.join.outputs[0])!;
  }

  /** An elementwise op's value and derivative at v. */
  private unary(n: Node): (v: number) => [number, number] {
    switch (n.opType) {
      case 'Relu':
        return (v) => (v > 0 ? [v, 1] : [0, 0]);
      case 'Clip': {
        const [lo, hi] = this.bounds.get(n)!;
        return (v) => (v < lo ? [lo, 0] : v > hi ? [hi, 0] : [v, 1]);
      }
      case 'HardSwish':
        // x * relu6(x + 3) / 6
        return (v) => (v <= -3 ? [0, 0] : v >= 3 ? [v, 1] : [(v * (v + 3)) / 6, (2 * v + 3) / 6]);
      case 'HardSigmoid': {
        const [al, be] = this.bounds.get(n)!;
        return (v) => {
          const t = al * v + be;
          return t <= 0 ? [0, 0] : t >= 1 ? [1, 0] : [t, al];
        };
      }
      default: {
        // Sigmoid
        return (v) => {
          const e = 1 / (1 + Math.exp(-v));
          return [e, e * (1 - e)];
        };
      }
    }
  }

  /** Accumulates dLoss/dW~ per layer into `grads` from dLoss/d(join output), after forward() of the same image. */
  backward(dOut: Float32Array, wt: ReadonlyMap<Node, Float32Array>, vals: Map<string, Float32Array>, grads: Map<Node, Float32Array>): void {
    const d = new Map<string, Float32Array>();
    const addGrad = (v: string, g: Float32Array) => {
      // Nothing to learn before the block or in a constant.
      if (v === this.b.input || this.consts.has(v)) return;
      const cur = d.get(v);
      if (!cur) d.set(v, Float32Array.from(g));
      else for (let i = 0; i < g.length; i++) cur[i] += g[i];
    };
    d.set(this.b.join.outputs[0], dOut);
    const nodes = [...this.b.nodes, this.b.join];
    for (let k = nodes.length - 1; k >= 0; k--) {
      const n = nodes[k];
      const dy = d.get(n.outputs[0]);
      if (!dy) continue;
      const xin = this.get(vals, n.inputs[0]);
      switch (n.opType) {
        case 'Conv': {
          const q = this.geo.get(n)!;
          const P = q.OH * q.OW,
            G = this.groups.get(n)!,
            Kg = (q.C / G) * q.KH * q.KW,
            Mg = q.M / G;
          // This image's columns: backward() follows forward() of the same image.
          const cols = this.cols.get(n)!;
          const w = wt.get(n)!;
          const acc = grads.get(n)!;
          const needDx = n.inputs[0] !== this.b.input;
          const dcols = needDx ? new Float32Array(q.C * q.KH * q.KW * P) : undefined;
          if (G === 1) {
            const gw = new Float32Array(q.M * Kg);
            this.be.gemmF32({ M: q.M, N: Kg, K: P, a: dy, b: cols, transB: true, y: gw });
            for (let i = 0; i < gw.length; i++) acc[i] += gw[i];
            if (dcols) this.be.gemmF32({ M: Kg, N: P, K: q.M, a: w, transA: true, b: dy, y: dcols });
          } else
            for (let m = 0; m < q.M; m++) {
              const co = Math.floor(m / Mg) * Kg * P;
              for (let kk = 0; kk < Kg; kk++) {
                const ro = co + kk * P;
                let gsum = 0;
                for (let p = 0; p < P; p++) gsum += dy[m * P + p] * cols[ro + p];
                acc[m * Kg + kk] += gsum;
                if (dcols) {
                  const wv = w[m * Kg + kk];
                  for (let p = 0; p < P; p++) dcols[ro + p] += wv * dy[m * P + p];
                }
              }
            }
          if (dcols) {
            const dx = new Float32Array(q.C * q.H * q.W);
            col2im(q, dcols, dx);
            addGrad(n.inputs[0], dx);
          }
          break;
        }
        case 'GlobalAveragePool': {
          const [C, H, W] = this.shapes.get(n.inputs[0])!;
          const dx = new Float32Array(C * H * W);
          for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) dx[c * H * W + i] = dy[c] / (H * W);
          addGrad(n.inputs[0], dx);
          break;
        }
        case 'Mul':
        case 'Add': {
          const [oc, oh, ow] = this.shapes.get(n.outputs[0])!;
          const HW = oh * ow;
          const ins = n.inputs.map((v) => this.get(vals, v));
          for (let s = 0; s < 2; s++) {
            const me = ins[s],
              other = ins[1 - s];
            const im = me.length === oc * HW ? (i: number) => i : BlockNet.bcast(me.length, HW);
            const io = other.length === oc * HW ? (i: number) => i : BlockNet.bcast(other.length, HW);
            // Broadcast operands sum the gradient over the positions they were repeated at.
            const g = new Float32Array(me.length);
            if (n.opType === 'Mul') for (let i = 0; i < dy.length; i++) g[im(i)] += dy[i] * other[io(i)];
            else for (let i = 0; i < dy.length; i++) g[im(i)] += dy[i];
            addGrad(n.inputs[s], g);
          }
          break;
        }
        default: {
          const f = this.unary(n);
          addGrad(
            n.inputs[0],
            dy.map((g, i) => g * f(xin[i])[1]),
          );
        }
      }
    }
  }
}

function optimiseBlock(
  b: Block,
  bp: BlockProblem,
  inits: ReadonlyMap<string, Tensor>,
  paramsOf: ReadonlyMap<Node, QuantParams>,
  o: AdaRoundOptions,
  layerIndex: number,
  be: Backend,
): {
  values: Map<Node, Int8Array | Uint8Array>;
  mseNearest: number;
  mseLearned: number;
  evalImages: number;
  flipped: number;
  total: number;
} {
  const net = new BlockNet(b, inits, bp.dims, be);
  const rv = new Map(
    b.layers.map((l) => {
      const w = inits.get(l.inputs[1])!;
      return [l, new Rounding(w.data as Float32Array, w.dims, paramsOf.get(l)!, (i) => i)] as const;
    }),
  );
  const wt = new Map(b.layers.map((l) => [l, new Float32Array(rv.get(l)!.n)] as const));
  const grads = new Map(b.layers.map((l) => [l, new Float32Array(rv.get(l)!.n)] as const));
  const N = bp.images.length;
  // batch_size counts output positions, as in layer mode: that many positions' worth of whole images.
  const B = Math.min(N, Math.max(1, Math.round(o.batch_size / net.positions)));
  let xx = 0,
    xn = 0;
  for (const im of bp.images) {
    for (const v of im.x) xx += v * v;
    xn += im.x.length;
  }
  const reconScale = xx > 0 ? xn / xx : 1;
  const rng = mulberry32((o.seed + Math.imul(layerIndex + 1, 0x9e3779b9)) >>> 0);
  const vals = new Map<string, Float32Array>();
  const bar = progress(`adaround block ${nodeLabel(b.join)}`);
  for (let it = 0; it < o.iterations; it++) {
    for (const l of b.layers) {
      rv.get(l)!.soft(wt.get(l)!);
      grads.get(l)!.fill(0);
    }
    const scale = (2 * reconScale) / (B * net.positions);
    for (let k = 0; k < B; k++) {
      const im = bp.images[B === N ? k : Math.min(N - 1, Math.floor(rng() * N))];
      const y = net.forward(im.x, wt, vals);
      for (let i = 0; i < y.length; i++) y[i] = scale * (y[i] - im.t[i]);
      net.backward(y, wt, vals, grads);
    }
    const beta = betaAt(it, o);
    for (const l of b.layers) rv.get(l)!.step(grads.get(l)!, it + 1, o, beta);
    bar.tick(it + 1, o.iterations);
  }
  bar.end();
  const hard = new Map(b.layers.map((l) => [l, rv.get(l)!.hard()] as const));
  const evalImages = Math.min(N, 64);
  const mse = (pick: 'learnedW' | 'nearestW') => {
    const w = new Map(b.layers.map((l) => [l, hard.get(l)![pick]] as const));
    let e = 0;
    for (let k = 0; k < evalImages; k++) {
      const im = bp.images[Math.floor((k * N) / evalImages)];
      const y = net.forward(im.x, w, vals);
      for (let i = 0; i < y.length; i++) e += (y[i] - im.t[i]) ** 2;
    }
    return e / (evalImages * net.positions);
  };
  let flipped = 0,
    total = 0;
  for (const h of hard.values()) {
    flipped += h.flipped;
    total += h.values.length;
  }
  return {
    values: new Map([...hard].map(([l, h]) => [l, h.values] as const)),
    mseNearest: mse('nearestW'),
    mseLearned: mse('learnedW'),
    evalImages,
    flipped,
    total,
  };
}
