/**
 * quantize(): float ONNX model + calibration data -> standard QDQ ONNX model and a report.
 *   1. fold BatchNormalization (and exporters' separate bias Adds) into the layers;
 *   2. run the requested graph passes;
 *   3. plan where quantization goes (src/ptq/plan.ts);
 *   4. calibrate activations with the chosen observer;
 *   5. write QDQ: int8 weights (per tensor, channel or group), int32 biases, Q/DQ on activations;
 *      settings QDQ cannot carry go to metadata_props (onnx_ptq.*).
 */
import { createRequire } from 'node:module';
import { OnnxPtqError } from '../errors.js';
import type { Graph, Model } from '../ir/graph.js';
import { inferAndFold } from '../ir/infer.js';
import type { TypeInfo } from '../ops/index.js';
import { loadModel, modelToBytes } from '../onnx/io.js';
import { statSync } from 'node:fs';
import { cloneModel } from '../runtime/session.js';
import { dequantizeTensor, fakeQuantize, paramsForRange } from '../quant/scheme.js';
import { FoldBatchNormPass } from '../passes/fold-batchnorm.js';
import { FoldBiasAddPass } from '../passes/fold-bias-add.js';
import { FuseHardSwishPass } from '../passes/fuse-hardswish.js';
import { dropUnusedInits, type PassReport } from '../passes/pass.js';
import { EqualizationPass } from '../passes/equalization.js';
import { LayerSplitPass } from '../passes/layer-split.js';
import { SignMapPass } from '../passes/sign-map.js';
import { JoiningNodesPass } from '../passes/joining-nodes.js';
import { SingleShiftPass } from '../passes/single-shift.js';
import { AdaRoundPass } from '../passes/adaround.js';
import type { PassName } from '../passes/pipeline.js';
import type { QuantState } from '../passes/quant-state.js';
import { calibrate, type CalibrationData, type Feeds } from './calibrate.js';
import { resolveQuantizeOptions, type QuantizeOptions } from './options.js';
import { planQuantization } from './plan.js';
import {
  insertActivationQdq,
  insertParameterDq,
  layerWeightFakeQuant,
  layerWeightParams,
  quantizeLayerWeights,
  type ActivationParams,
  type LayerReport,
} from './qdq-export.js';
import { accumulateProbe, addBiasProbes, corrections, type BiasProbe } from './bias-correction.js';
import { Tensor } from '../tensor.js';
import { upgradeOpset } from './opset.js';
import { IntegerSession } from '../runtime/integer/session.js';
import { firstNonFinite } from '../util/finite.js';
import { softmaxLogits, throughShapes } from '../ir/output-chain.js';
import { saturatedInputRange } from './saturation.js';

/** Ops whose output range the op itself bounds: their outputs are never clipped by an observer. */
const SATURATING = new Set(['Sigmoid', 'HardSigmoid', 'Tanh', 'Softmax']);

export interface ActivationReport {
  tensor: string;
  scale: number;
  zeroPoint: number;
  /** The range quantized to (after the observer's clipping). */
  min: number;
  max: number;
  observedMin: number;
  observedMax: number;
  /** Tensors that share these parameters (data-movement outputs). */
  aliases: string[];
}

export interface QuantizeReport {
  options: QuantizeOptions;
  passes: PassReport[];
  calibration: { samples: number; seconds: number; observer: string };
  activations: ActivationReport[];
  layers: Omit<LayerReport, never>[];
  keptFloat: { node: string; why: string }[];
  /** Layers whose bias was corrected for weight rounding. */
  biasCorrected: string[];
  opset: { from: number; to: number };
  /** Things the user should know (e.g. a graph input or output clipped by the observer, with clipGraphIO). */
  warnings: string[];
  /** Encoded ONNX sizes in bytes: the float model as given, and the quantized model as saveModel writes it (without external data). */
  size: { floatBytes: number; quantizedBytes: number };
}

export interface QuantizeResult {
  model: Model;
  report: QuantizeReport;
}

export type QuantizeInput = Partial<QuantizeOptions> & {
  /** Calibration samples (feeds by input name). Required unless weightOnly. */
  calibration?: CalibrationData;
  /** Number of samples, for the progress bar only. */
  calibrationTotal?: number;
};

// The package's own version, recorded in the models it writes (package.json sits two levels up from
// both src/ptq/ and dist/ptq/).
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/**
 * The folds of step 1: decomposed HardSwish fused, then constant Add/Sub/Mul/Div and
 * BatchNormalization after a layer, into it.
 * Bias/scale folds run on both sides of the BN fold, for chains in either order (PP-OCRv4 det's
 * head: ConvTranspose -> Add(bias) -> BatchNormalization). analyze's float layers replay the same.
 */
export function foldIntoLayers(
  model: Model,
  types: ReadonlyMap<string, TypeInfo>,
  which: { batchNorm: boolean; hardSwish: boolean },
): PassReport[] {
  const out: PassReport[] = [];
  // HardSwish first: the input-side fold would otherwise take its decomposed form's final Div(6).
  if (which.hardSwish) out.push(new FuseHardSwishPass().apply(model));
  out.push(new FoldBiasAddPass({}, types).apply(model));
  if (which.batchNorm) {
    const bn = new FoldBatchNormPass().apply(model);
    out.push(bn);
    if (bn.changed) out.push(new FoldBiasAddPass({}, types).apply(model));
  }
  return out;
}

export async function quantize(source: Model | string | Uint8Array, input: QuantizeInput = {}): Promise<QuantizeResult> {
  const { calibration, calibrationTotal, ...rest } = input;
  const opts = resolveQuantizeOptions(rest);
  const model = typeof source === 'string' || source instanceof Uint8Array ? loadModel(source) : cloneModel(source);
  const floatBytes =
    source instanceof Uint8Array ? source.length : typeof source === 'string' ? statSync(source).size : modelToBytes(model).length;
  if (!opts.weightOnly && !calibration) {
    throw new OnnxPtqError('INVALID_DATA', 'quantize: calibration data is required (or set weightOnly: true)');
  }
  // Old exporters list initializers as graph inputs (overridable defaults); a quantized model's
  // weights are constants, so they stop being inputs (as onnxruntime's remove_initializer_from_input does).
  model.graph.inputs = model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name));
  // Fold constants (exporter shape subgraphs) without binding dynamic dimensions: the exported model keeps them.
  let { types } = inferAndFold(model, { fold: true });
  const passes: PassReport[] = [];
  passes.push(...foldIntoLayers(model, types, { batchNorm: opts.foldBatchNorm, hardSwish: opts.fuseHardSwish }));
  const want = (p: PassName) => opts.passes.includes(p);
  const popts = (p: PassName) => (opts.passOptions[p] ?? {}) as Record<string, never>;
  // Phase 0: float-graph passes, in the listed order.
  for (const p of opts.passes) {
    if (p === 'layer-split') passes.push(new LayerSplitPass(popts(p)).apply(model));
    if (p === 'equalization') {
      const eq = new EqualizationPass(popts(p));
      let ranges: Map<string, Float32Array> | undefined;
      if (eq.options.including_activation) {
        if (!calibration) throw new OnnxPtqError('PASS_ERROR', `equalization: option 'including_activation' needs calibration data`);
        ranges = await channelRanges(
          model,
          eq.findPairs(model.graph).map((q) => q.act),
          calibration,
          opts.calibrationSamples,
          opts.allowNonFinite,
        );
      }
      passes.push(new EqualizationPass(popts(p), ranges).apply(model));
    }
  }
  model.graph.sortTopologically();
  ({ types } = inferAndFold(model, { fold: true }));

  const plan = planQuantization(model, types, opts);
  const weightScheme = {
    bits: opts.weightBits,
    signed: true,
    symmetric: opts.weightSymmetric,
    granularity: opts.weightGranularity,
    groupSize: opts.weightGroupSize,
  };
  // Bias correction measures E[layer(x, w - w_q)] during the calibration pass, on a probed copy.
  if (want('bias-correction') && !calibration) throw new OnnxPtqError('PASS_ERROR', `bias-correction: needs calibration data`);
  const correct = (opts.biasCorrection || want('bias-correction')) && plan.layers.length > 0 && calibration !== undefined;
  let calibModel = model;
  let probes: BiasProbe[] = [];
  // With single-shift the final weight scales are known only after calibration, and adaround's
  // weights only after it ran: bias correction then measures the final weights in a second pass
  // over the data (when it can be re-read).
  const reiterable = calibration !== undefined && typeof (calibration as { next?: unknown }).next !== 'function';
  const deferCorrection = correct && (want('single-shift') || want('adaround')) && reiterable;
  if (correct && !deferCorrection) {
    calibModel = cloneModel(model);
    // MatMul has no bias input to correct; Conv and Gemm do.
    const layers = calibModel.graph.nodes.filter((n) => n.opType !== 'MatMul' && plan.layers.some((l) => l.outputs[0] === n.outputs[0]));
    const fq = new Map(layers.map((n) => [n, layerWeightFakeQuant(calibModel.graph, n, weightScheme, !opts.noRounding)] as const));
    probes = addBiasProbes(calibModel.graph, layers, fq);
  }
  const activations: ActivationReport[] = [];
  const warnings: string[] = [];
  const params = new Map<string, ActivationParams>();
  let calib = { samples: 0, seconds: 0 };
  const state: QuantState = {
    ranges: new Map(),
    aliases: plan.aliases,
    bits: opts.activationBits,
    signed: opts.activationSigned,
    symmetric: opts.activationSymmetric,
    unsignedZero: new Set(),
    params,
    layers: plan.layers,
    weightScale: new Map(),
    weightValues: new Map(),
  };
  // adaround (phase 5): after every scale is fixed, on a copy of the first samples of the data.
  const runAdaRound = async (): Promise<PassReport> => {
    if (!calibration) throw new OnnxPtqError('PASS_ERROR', 'adaround: needs calibration data');
    if (opts.noRounding)
      throw new OnnxPtqError(
        'PASS_ERROR',
        "adaround: learns how each weight rounds, and option 'noRounding' keeps weights unrounded: use one or the other",
      );
    if (!reiterable)
      throw new OnnxPtqError(
        'PASS_ERROR',
        'adaround: reads the calibration data again after calibration: pass an array (or another re-iterable), not an iterator',
      );
    const max = Math.min(
      opts.calibrationSamples || Number.POSITIVE_INFINITY,
      new AdaRoundPass(popts('adaround'), state, [], weightScheme).options.samples,
    );
    const data: Feeds[] = [];
    for await (const f of calibration as AsyncIterable<Feeds>) {
      if (data.length >= max) break;
      data.push(f);
    }
    return new AdaRoundPass(popts('adaround'), state, data, weightScheme, opts.allowNonFinite).apply(model);
  };
  const toCalibrate = opts.weightOnly ? [] : plan.calibrated;
  if (toCalibrate.length || correct) {
    const r = await calibrate(calibModel, toCalibrate, calibration as CalibrationData, {
      observer: opts.observer,
      observerOptions: opts.observerOptions,
      maxSamples: opts.calibrationSamples,
      total: calibrationTotal,
      allowNonFinite: opts.allowNonFinite,
      extra: probes.map((p) => p.output),
      onSample: (values) => {
        for (const p of probes) accumulateProbe(p, values[p.output]);
      },
    });
    calib = { samples: r.samples, seconds: r.seconds };
    const target = { bits: opts.activationBits, signed: opts.activationSigned, symmetric: opts.activationSymmetric };
    for (const t of toCalibrate) state.ranges.set(t, r.observers.get(t)!.range(target));
    // Graph inputs and outputs: observed range unless clipGraphIO (options.ts says why). The logits
    // of a final Softmax count as an output: the class a user reads is their argmax.
    const g0 = model.graph;
    const io = new Set([
      ...g0.inputs.map((v) => v.name),
      ...g0.outputs.flatMap((o) => [...throughShapes(g0, o.name), ...softmaxLogits(g0, o.name)]),
    ]);
    for (const [a, src] of plan.aliases) if (io.has(a)) io.add(src);
    const clipped = (t: string) => {
      const o = r.observers.get(t)!,
        rg = state.ranges.get(t)!;
      return rg.min > o.observedMin || rg.max < o.observedMax;
    };
    const keepObserved = (t: string) => {
      const o = r.observers.get(t)!;
      state.ranges.set(t, { min: Math.min(0, o.observedMin), max: Math.max(0, o.observedMax) });
    };
    for (const t of toCalibrate) {
      if (!io.has(t) || !clipped(t)) continue;
      const o = r.observers.get(t)!,
        rg = state.ranges.get(t)!;
      if (!opts.clipGraphIO) keepObserved(t);
      else
        warnings.push(
          `graph input/output '${t}' clipped by the ${opts.observer} observer from [${o.observedMin.toPrecision(4)}, ${o.observedMax.toPrecision(4)}] to [${rg.min.toPrecision(4)}, ${rg.max.toPrecision(4)}] (clipGraphIO)`,
        );
    }
    // Outputs of saturating ops keep their observed range (options.ts, `observer`, says why).
    const producer = new Map(g0.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    for (const t of toCalibrate) {
      const p = producer.get(t);
      const bounded = p && !p.domain && (SATURATING.has(p.opType) || (p.opType === 'Clip' && !!p.inputs[1] && !!p.inputs[2]));
      if (bounded && clipped(t)) keepObserved(t);
    }
    // Inputs read only by saturating ops: no levels where the output has none (saturation.ts).
    for (const t of toCalibrate) {
      const sat = saturatedInputRange(g0, t, opts.activationBits);
      const rg = state.ranges.get(t)!;
      if (sat && (rg.min < sat.lo || rg.max > sat.hi))
        state.ranges.set(t, { min: Math.min(0, Math.max(rg.min, sat.lo)), max: Math.max(0, Math.min(rg.max, sat.hi)) });
    }
    // Parameter passes: the sign map decides types, then parameters, then joins and shifts.
    if (want('sign-map')) passes.push(new SignMapPass(popts('sign-map'), state).apply(model));
    for (const t of toCalibrate) {
      const { min, max } = state.ranges.get(t)!;
      const zero = state.unsignedZero.has(t);
      if (!Number.isFinite(min) || !Number.isFinite(max))
        throw new OnnxPtqError(
          'INVALID_DATA',
          `calibration: tensor '${t}' has a non-finite range [${min}, ${max}] (NaN or infinite values in the data or the model)`,
        );
      const p = zero
        ? paramsForRange(0, max, target.bits, false, false)
        : paramsForRange(min, max, target.bits, target.signed, target.symmetric);
      params.set(t, { scale: p.scale, zeroPoint: p.zeroPoint, signed: zero ? false : opts.activationSigned });
    }
    if (want('joining-nodes')) passes.push(new JoiningNodesPass(popts('joining-nodes'), state).apply(model));
    if (want('single-shift')) passes.push(new SingleShiftPass(popts('single-shift'), state, opts.weightSymmetric).apply(model));
    if (want('adaround')) passes.push(await runAdaRound());
    if (deferCorrection) {
      const cm = cloneModel(model);
      const layers = cm.graph.nodes.filter((n) => n.opType !== 'MatMul' && plan.layers.some((l) => l.outputs[0] === n.outputs[0]));
      const fq = new Map(
        layers.map((n) => {
          const adjust = state.weightScale.get(plan.layers.find((l) => l.outputs[0] === n.outputs[0])!);
          let wp = layerWeightParams(cm.graph, n, weightScheme);
          if (adjust) wp = { ...wp, scale: adjust(wp.scale, opts.weightGranularity !== 'per-tensor') };
          const w = cm.graph.initializers.get(n.inputs[1])!;
          const learned = state.weightValues!.get(plan.layers.find((l) => l.outputs[0] === n.outputs[0])!);
          return [
            n,
            learned ? dequantizeTensor(learned, w.dims, wp) : fakeQuantize(w.data as Float32Array, w.dims, wp, !opts.noRounding),
          ] as const;
        }),
      );
      probes = addBiasProbes(cm.graph, layers, fq);
      await calibrate(cm, [], calibration as CalibrationData, {
        observer: 'minmax',
        observerOptions: {},
        maxSamples: opts.calibrationSamples,
        total: calibrationTotal,
        allowNonFinite: opts.allowNonFinite,
        extra: probes.map((p) => p.output),
        onSample: (values) => {
          for (const p of probes) accumulateProbe(p, values[p.output]);
        },
      });
    }
    for (const t of toCalibrate) {
      const o = r.observers.get(t)!;
      const p = params.get(t)!,
        { min, max } = state.ranges.get(t)!;
      activations.push({
        tensor: t,
        scale: p.scale,
        zeroPoint: p.zeroPoint,
        min,
        max,
        observedMin: o.observedMin,
        observedMax: o.observedMax,
        aliases: [...plan.aliases].filter(([, src]) => src === t).map(([a]) => a),
      });
    }
  } else {
    for (const p of ['sign-map', 'joining-nodes', 'single-shift'] as const) {
      if (want(p))
        throw new OnnxPtqError(
          'PASS_ERROR',
          `${p}: needs calibrated activations (not available with weightOnly or without calibration data)`,
        );
    }
    // Weight-only: adaround still learns the rounding from the float activations.
    if (want('adaround')) passes.push(await runAdaRound());
  }
  const corrected: string[] = [];
  for (const p of probes) {
    // The probe was built on a copy: find the original layer by its output.
    const n = plan.layers.find((l) => l.outputs[0] === p.layer.outputs[0])!;
    const delta = corrections(p);
    const g0 = model.graph;
    const old = n.inputs[2] ? g0.initializers.get(n.inputs[2]) : undefined;
    if (n.inputs[2] && (old?.dtype !== 'float32' || old.size !== delta.length)) continue;
    const b = new Float32Array(delta.length);
    for (let c = 0; c < b.length; c++) b[c] = (old ? (old.data as Float32Array)[c] : 0) + delta[c];
    const name = g0.uniqueName(`${n.name || n.outputs[0]}_bias_corrected`);
    g0.initializers.set(name, new Tensor('float32', b, [b.length]));
    if (n.inputs.length < 3) n.inputs.push(name);
    else n.inputs[2] = name;
    corrected.push(n.name || n.outputs[0]);
  }
  if (correct)
    passes.push({
      pass: 'bias-correction',
      changed: corrected.length,
      details: corrected.map((c) => `${c}: bias corrected for the expected weight-rounding shift`),
    });
  const opset = upgradeOpset(model, types);
  const g = model.graph;
  const layers: LayerReport[] = [];
  for (const n of plan.layers) {
    const { params: _p, ...rep } = quantizeLayerWeights(
      g,
      n,
      weightScheme,
      params.get(plan.aliases.get(n.inputs[0]) ?? n.inputs[0]),
      opts.noRounding,
      state.weightScale.get(n),
      state.weightValues!.get(n),
    );
    layers.push(rep);
  }
  // Before the activations' Q/DQ, which renames each producer's output.
  for (const { tensor, node } of plan.parameters) {
    // The op's own 8-bit type (its output's, else its activation input's): qadd/qmul need one type.
    const ref = params.get(node.outputs[0]!) ?? node.inputs.map((i) => params.get(plan.aliases.get(i) ?? i)).find(Boolean);
    if (ref) insertParameterDq(g, tensor, node, ref.signed, state.requantMode === 'shift');
  }
  for (const [t, p] of params) insertActivationQdq(g, t, p);
  for (const [t, src] of plan.aliases) {
    const p = params.get(src);
    if (p) insertActivationQdq(g, t, p);
  }
  g.sortTopologically();
  // Folded-away float weights and quantized constants' float originals: nothing reads them.
  dropUnusedInits(g);
  g.validate();
  checkFiniteParameters(g);
  model.metadata.set('onnx_ptq.version', VERSION);
  // single-shift made every layer multiplier a power of two: the executor runs in shift mode.
  model.metadata.set('onnx_ptq.requant_mode', state.requantMode ?? opts.requantMode);
  model.metadata.set('onnx_ptq.no_rounding', String(opts.noRounding));
  model.metadata.set('onnx_ptq.options', JSON.stringify(opts));
  model.metadata.set('onnx_ptq.passes', JSON.stringify(passes.filter((p) => p.changed).map((p) => p.pass)));
  model.producerName = 'onnx-ptq';
  model.producerVersion = VERSION;
  // Lowered on the js backend: the plan (and so the float fallbacks) is the same on every backend.
  if (opts.strictInteger) void IntegerSession.createSync(model, { backend: 'js', runInWorker: false, strictInteger: true }).release();
  return {
    model,
    report: {
      options: opts,
      passes,
      calibration: { ...calib, observer: opts.observer },
      activations,
      layers,
      keptFloat: plan.keptFloat,
      biasCorrected: corrected,
      opset,
      warnings,
      size: { floatBytes, quantizedBytes: modelToBytes(model).length },
    },
  };
}

/** max |value| per channel (axis 1) of `tensors` over the calibration data (equalization's activation ranges). */
async function channelRanges(
  model: Model,
  tensors: string[],
  data: CalibrationData,
  maxSamples: number,
  allowNonFinite: boolean,
): Promise<Map<string, Float32Array>> {
  const it = data as { next?: unknown; [Symbol.iterator]?: () => unknown };
  if (typeof it.next === 'function')
    throw new OnnxPtqError(
      'PASS_ERROR',
      `equalization: option 'including_activation' reads the calibration data twice: pass an array (or another re-iterable), not an iterator`,
    );
  const out = new Map<string, Float32Array>();
  await calibrate(model, [], data, {
    observer: 'minmax',
    observerOptions: {},
    maxSamples,
    extra: tensors,
    allowNonFinite,
    onSample: (values) => {
      for (const t of tensors) {
        const v = values[t];
        const c = v.dims[1] ?? 1,
          inner = v.size / ((v.dims[0] ?? 1) * c);
        const r = out.get(t) ?? new Float32Array(c);
        out.set(t, r);
        const d = v.data as Float32Array;
        for (let i = 0; i < d.length; i++) {
          const ch = Math.floor(i / inner) % c;
          const a = Math.abs(d[i]);
          if (a > r[ch]) r[ch] = a;
        }
      }
    },
  });
  return out;
}

export type { CalibrationData, Feeds };

/**
 * A quantized model never carries a NaN or infinite parameter (scale, float bias, kept-float weight):
 * one came from non-finite calibration data (allowNonFinite) or degenerate statistics, and the file
 * would load and silently compute garbage.
 */
function checkFiniteParameters(g: Graph): void {
  for (const [name, t] of g.initializers) {
    const i = firstNonFinite(t.data);
    if (i >= 0) {
      throw new OnnxPtqError(
        'INVALID_DATA',
        `quantize: the quantized model would have a non-finite parameter: initializer '${name}' is ${String((t.data as Float32Array)[i])} at index ${i} (non-finite calibration data or statistics); no model is returned`,
      );
    }
  }
}
