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
import { nodeLabel, type Graph, type Model } from '../ir/graph.js';
import { inferAndFold } from '../ir/infer.js';
import type { TypeInfo } from '../ops/index.js';
import { loadModel, modelToBytes } from '../onnx/io.js';
import { readFileSync, statSync } from 'node:fs';
import { cloneModel } from '../runtime/session.js';
import { dequantizeTensor, fakeQuantize, paramsForRange } from '../quant/scheme.js';
import { foldIntoLayers } from '../passes/fold-into-layers.js';
import { dropUnusedInits, type PassReport } from '../passes/pass.js';
import { EqualizationPass } from '../passes/equalization.js';
import { LayerSplitPass } from '../passes/layer-split.js';
import { SmoothQuantPass } from '../passes/smooth-quant.js';
import { toMatMulNBits } from './matmul-nbits-export.js';
import { SignMapPass } from '../passes/sign-map.js';
import { JoiningNodesPass } from '../passes/joining-nodes.js';
import { SingleShiftPass } from '../passes/single-shift.js';
import { AdaRoundPass } from '../passes/adaround.js';
import type { PassName } from '../passes/pipeline.js';
import type { QuantState } from '../passes/quant-state.js';
import {
  defaultWorkers,
  runCalibration,
  startCalibrationWorkers,
  type CalibrationData,
  type CollectConfig,
  type Feeds,
  type ProbeSums,
} from './calibrate.js';
import type { CalibrationWorkers } from './calibrate-workers.js';
import { observerFromState, type Observer } from '../quant/observers/index.js';
import { ExactSum } from '../util/exact-sum.js';
import {
  STATS_FORMAT,
  STATS_VERSION,
  checkStatsFor,
  mergeStats,
  observersToStats,
  sha256,
  statsOptions,
  type CalibrationStats,
  type ProbeStats,
} from './stats.js';
import { resolveQuantizeOptions, type QuantizeOptions } from './options.js';
import { planQuantization, REQUANT_OPS } from './plan.js';
import { rewriteDynamic } from './dynamic.js';
import {
  insertActivationQdq,
  insertParameterDq,
  insertTableDq,
  layerWeightFakeQuant,
  layerWeightParams,
  quantizeLayerWeights,
  type ActivationParams,
  type LayerReport,
} from './qdq-export.js';
import { addBiasProbes, corrections, type BiasProbe } from './bias-correction.js';
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
  /** 8 (the activation type of the options) or 16 (A16W8: int16). */
  bits: number;
}

export interface QuantizeReport {
  options: QuantizeOptions;
  passes: PassReport[];
  /** workers: the threads that calibrated (the calling thread and its workers; 0: from statistics, no pass). */
  calibration: { samples: number; seconds: number; observer: string; workers: number };
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

// The package's own version, recorded in the models it writes (package.json sits two levels up from
// both src/ptq/ and dist/ptq/).
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The model, plan and calibration setup of one quantize()/calibrate() run, before any data is seen. */
interface Prepared {
  opts: QuantizeOptions;
  model: Model;
  types: ReadonlyMap<string, TypeInfo>;
  passes: PassReport[];
  plan: ReturnType<typeof planQuantization>;
  weightScheme: WeightScheme;
  floatBytes: number;
  /** Bias correction is on and has layers to correct. */
  correct: boolean;
  /** ...measured after single-shift, in a second data pass. */
  deferCorrection: boolean;
  calibModel: Model;
  probes: BiasProbe[];
  toCalibrate: string[];
}

type WeightScheme = {
  bits: number;
  signed: boolean;
  symmetric: boolean;
  granularity: QuantizeOptions['weightGranularity'];
  groupSize: number;
};

/** The statistics one calibration gathered (in this process, or merged from workers or files). */
interface Gathered {
  observers: Map<string, Observer>;
  probes: Map<string, ProbeSums>;
  samples: number;
  seconds: number;
  workers: number;
}

/** Execution settings that never change the result (so they are not QuantizeOptions, and not in the model's metadata). */
export interface RunSettings {
  /**
   * Calibration threads: the calling thread and `workers - 1` worker threads, which take samples
   * beside it. Default: the machine's cores (os.availableParallelism()), capped by the sample count
   * when it is known, the workers started once calibration proves long; 1 calibrates on the
   * calling thread alone. Statistics merge exactly, so any count gives the same bytes. The moving-average observer depends on sample
   * order: with it the default is 1 and more is an error.
   */
  workers?: number;
}

export type QuantizeInput = Partial<QuantizeOptions> &
  RunSettings & {
    /** Calibration samples (feeds by input name). Required unless weightOnly or stats. */
    calibration?: CalibrationData;
    /** Number of samples, for progress only. */
    calibrationTotal?: number;
    /**
     * Statistics from calibrate() (or loadStats()), one object or several to merge (shards): no
     * calibration pass is run. They must come from the same model and options (STATS_MISMATCH
     * otherwise). Work that needs data again (bias correction after single-shift) also needs
     * `calibration`.
     */
    stats?: CalibrationStats | readonly CalibrationStats[];
  };

export type CalibrateInput = Partial<QuantizeOptions> &
  RunSettings & {
    calibration: CalibrationData;
    calibrationTotal?: number;
    /**
     * This run's shard of the samples: sample i (counted after calibrationSamples) belongs to shard
     * i mod count, a deterministic, balanced split that needs no sample count. Default { index: 0, count: 1 }.
     */
    shard?: { index: number; count: number };
    /** The calibration data is already this shard's samples (a Dataset opened with `shard`): do not filter it again. */
    preSharded?: boolean;
    /** With preSharded: the number of samples in the whole list the shards split (recorded, and checked at merge). */
    listLength?: number;
  };

async function prepare(
  source: Model | string | Uint8Array,
  opts: QuantizeOptions,
  calibration: CalibrationData | undefined,
  withStats: boolean,
): Promise<Prepared> {
  const model = typeof source === 'string' || source instanceof Uint8Array ? loadModel(source) : cloneModel(source);
  const floatBytes =
    source instanceof Uint8Array ? source.length : typeof source === 'string' ? statSync(source).size : modelToBytes(model).length;
  // Old exporters list initializers as graph inputs (overridable defaults); a quantized model's
  // weights are constants, so they stop being inputs (as onnxruntime's remove_initializer_from_input does).
  model.graph.inputs = model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name));
  // Fold constants (exporter shape subgraphs) without binding dynamic dimensions: the exported model keeps them.
  let { types } = inferAndFold(model, { fold: true });
  const passes: PassReport[] = [];
  passes.push(
    ...foldIntoLayers(model, types, {
      batchNorm: opts.foldBatchNorm,
      hardSwish: opts.fuseHardSwish,
      gelu: opts.fuseGelu,
      layerNorm: opts.fuseLayerNorm,
    }),
  );
  const want = (p: PassName) => opts.passes.includes(p);
  const popts = (p: PassName) => (opts.passOptions[p] ?? {}) as Record<string, never>;
  // Phase 0: float-graph passes, in the listed order.
  for (const p of opts.passes) {
    if (p === 'layer-split') passes.push(new LayerSplitPass(popts(p)).apply(model));
    if (p === 'equalization') {
      const eq = new EqualizationPass(popts(p));
      let ranges: Map<string, Float32Array> | undefined;
      if (eq.options.including_activation) {
        // Its ranges change the model that calibration then observes: a pass over all the data before
        // the statistics, which shards cannot provide.
        if (withStats)
          throw new OnnxPtqError(
            'PASS_ERROR',
            `equalization: option 'including_activation' needs a pass over all the data before calibration; it cannot be sharded or taken from statistics (drop the option, or quantize with --calib)`,
          );
        if (!calibration) throw new OnnxPtqError('PASS_ERROR', `equalization: option 'including_activation' needs calibration data`);
        ranges = await channelRanges(
          model,
          new Map(eq.findPairs(model.graph).map((q) => [q.act, 1])),
          calibration,
          opts.calibrationSamples,
          opts.allowNonFinite,
          { pass: p, option: 'including_activation' },
        );
      }
      passes.push(new EqualizationPass(popts(p), ranges).apply(model));
    }
    if (p === 'smooth-quant') {
      // Options checked before any data is read.
      const sites = new SmoothQuantPass(popts(p)).findSites(model);
      // Like equalization's activation ranges: the smoothed model is what calibration observes, so
      // the ranges take a pass over all the data first, which shards cannot provide.
      if (withStats)
        throw new OnnxPtqError(
          'PASS_ERROR',
          `smooth-quant: needs per-channel activation ranges from a pass over all the data before calibration; it cannot be sharded or taken from statistics (drop the pass, or quantize with --calib)`,
        );
      if (!calibration) throw new OnnxPtqError('PASS_ERROR', `smooth-quant: needs calibration data (per-channel activation ranges)`);
      // Channels on the last axis (the MatMul/Gemm reduction axis).
      const ranges = sites.length
        ? await channelRanges(model, new Map(sites.map((s) => [s.act, -1])), calibration, opts.calibrationSamples, opts.allowNonFinite, {
            pass: p,
          })
        : undefined;
      passes.push(new SmoothQuantPass(popts(p), ranges).apply(model));
    }
  }
  model.graph.sortTopologically();
  ({ types } = inferAndFold(model, { fold: true }));

  const plan = planQuantization(model, types, opts);
  const weightScheme: WeightScheme = {
    bits: opts.weightBits,
    signed: true,
    symmetric: opts.weightSymmetric,
    granularity: opts.weightGranularity,
    groupSize: opts.weightGroupSize,
  };
  const hasData = calibration !== undefined || withStats;
  // Bias correction measures E[layer(x, w - w_q)] during the calibration pass, on a probed copy.
  if (want('bias-correction') && !hasData) throw new OnnxPtqError('PASS_ERROR', `bias-correction: needs calibration data`);
  const correct = (opts.biasCorrection || want('bias-correction')) && plan.layers.length > 0 && hasData;
  let calibModel = model;
  let probes: BiasProbe[] = [];
  // With single-shift the final weight scales are known only after calibration, and adaround's
  // weights only after it ran: bias correction then measures the final weights in a second pass over
  // the data (when it can be re-read; with statistics, always: quantize then needs the data again).
  const reiterable = calibration !== undefined && typeof (calibration as { next?: unknown }).next !== 'function';
  const deferCorrection = correct && (want('single-shift') || want('adaround')) && (reiterable || withStats);
  if (correct && !deferCorrection) {
    calibModel = cloneModel(model);
    // MatMul has no bias input to correct; Conv and Gemm do.
    const layers = calibModel.graph.nodes.filter((n) => n.opType !== 'MatMul' && plan.layers.some((l) => l.outputs[0] === n.outputs[0]));
    const fq = new Map(layers.map((n) => [n, layerWeightFakeQuant(calibModel.graph, n, weightScheme, !opts.noRounding)] as const));
    probes = addBiasProbes(calibModel.graph, layers, fq);
  }
  const toCalibrate = opts.weightOnly ? [] : plan.calibrated;
  return { opts, model, types, passes, plan, weightScheme, floatBytes, correct, deferCorrection, calibModel, probes, toCalibrate };
}

function collectConfig(p: Prepared, probes: BiasProbe[]): CollectConfig {
  return {
    tensors: p.toCalibrate,
    observer: p.opts.observer,
    observerOptions: p.opts.observerOptions,
    probes: probes.map((q) => ({ output: q.output, axis: q.axis, channels: q.channels, fromInput: q.fromInput })),
    allowNonFinite: p.opts.allowNonFinite,
  };
}

/** Known sample count of the data, if any (arrays, and calibrationTotal). */
function knownCount(data: CalibrationData | undefined, total: number | undefined, maxSamples: number): number | undefined {
  const n = Array.isArray(data) ? data.length : total;
  return n === undefined ? undefined : maxSamples ? Math.min(n, maxSamples) : n;
}

/** Explicit workers are used from the start; the default (cores) only once calibration proves long (calibrate.ts). */
function resolveWorkers(
  settings: RunSettings,
  opts: QuantizeOptions,
  count: number | undefined,
): { workers: number; autoWorkers: boolean } {
  const w = settings.workers;
  if (w !== undefined) {
    if (!Number.isInteger(w) || w < 1 || w > 256)
      throw new OnnxPtqError('INVALID_OPTION', `workers must be an integer in [1, 256], got ${String(w)}`);
    return { workers: w, autoWorkers: false };
  }
  if (opts.observer === 'moving-average') return { workers: 1, autoWorkers: false };
  // A worker costs a model load: more workers than samples only costs.
  return { workers: Math.max(1, Math.min(defaultWorkers(), count ?? Infinity)), autoWorkers: true };
}

async function gather(
  p: Prepared,
  data: CalibrationData,
  settings: RunSettings & { total?: number; maxSamples?: number; started?: CalibrationWorkers },
): Promise<Gathered> {
  const count = knownCount(data, settings.total, settings.maxSamples ?? 0);
  const r = await runCalibration(p.calibModel, collectConfig(p, p.probes), data, {
    maxSamples: settings.maxSamples,
    total: count,
    ...resolveWorkers(settings, p.opts, count),
    started: settings.started,
  });
  return { observers: r.observers, probes: r.probes, samples: r.samples, seconds: r.seconds, workers: r.workers };
}

/**
 * Worker threads for a calibration with explicit `workers` (> 1), started before the model is
 * prepared so that their module loading overlaps it (gather takes them; PP-OCRv4 det prepares for
 * ~0.1 s). The default (auto) workers start only once a run proves long, so none start here.
 */
function startEarly(settings: RunSettings, opts: QuantizeOptions, count: number | undefined): CalibrationWorkers | undefined {
  if (settings.workers === undefined || opts.observer === 'moving-average') return undefined;
  const w = resolveWorkers(settings, opts, count);
  return w.autoWorkers ? undefined : startCalibrationWorkers(w.workers);
}

/** `work`'s result; early workers stopped if it fails (a thread waiting for its model would hold the process open). */
async function stopOnFailure<T>(started: CalibrationWorkers | undefined, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    started?.terminate();
    throw e;
  }
}

/** Statistics (merged, checked against this model and options) as what calibration would have gathered. */
function fromStats(p: Prepared, stats: CalibrationStats, what: string): Gathered {
  const want = [...p.toCalibrate].sort().join('\n');
  if (Object.keys(stats.tensors).sort().join('\n') !== want)
    throw new OnnxPtqError(
      'STATS_MISMATCH',
      `${what} observes other tensors than this run calibrates (${Object.keys(stats.tensors).length} vs ${p.toCalibrate.length}): another version of the model or of onnx-ptq`,
    );
  const observers = new Map<string, Observer>();
  for (const t of p.toCalibrate)
    observers.set(t, observerFromState(p.opts.observer, p.opts.observerOptions, stats.tensors[t], `${what}: tensor '${t}'`));
  const probes = new Map<string, ProbeSums>();
  for (const q of p.probes) {
    const s = stats.biasProbes[q.layer.outputs[0]!];
    if (!s || s.sums.length !== q.channels)
      throw new OnnxPtqError(
        'STATS_MISMATCH',
        `${what} has no bias-correction sums for layer '${q.layer.name || q.layer.outputs[0]}' (calibrated with other options?)`,
      );
    probes.set(q.output, { axis: q.axis, sum: s.sums.map((x) => ExactSum.parse(x)!), count: s.count });
  }
  return { observers, probes, samples: stats.samples, seconds: 0, workers: 0 };
}

function modelHash(source: Model | string | Uint8Array): string {
  if (typeof source === 'string') {
    try {
      return sha256(readFileSync(source));
    } catch (e) {
      throw new OnnxPtqError('IO_ERROR', `cannot read model '${source}': ${(e as Error).message}`);
    }
  }
  return sha256(source instanceof Uint8Array ? source : modelToBytes(source));
}

/**
 * Calibrates a float model (or one shard of its data) and returns the statistics quantize() needs,
 * as a plain, JSON-serializable object (saveStats writes it; docs/calibration.md describes it).
 * The options are quantize()'s: those that shape the statistics are recorded and must be the same
 * when quantizing.
 */
export async function calibrate(source: Model | string | Uint8Array, input: CalibrateInput): Promise<CalibrationStats> {
  const { calibration, calibrationTotal, shard = { index: 0, count: 1 }, preSharded, listLength, workers, ...rest } = input;
  const opts = resolveQuantizeOptions(rest, 'calibrate()');
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count)
    throw new OnnxPtqError(
      'INVALID_OPTION',
      `shard ${String(shard.index)}/${String(shard.count)} is out of range: the index must be an integer in [0, ${Number.isInteger(shard.count) && shard.count > 0 ? shard.count - 1 : 'count - 1'}]`,
    );
  if (!calibration) throw new OnnxPtqError('INVALID_DATA', 'calibrate: calibration data is required');
  if (opts.weightOnly) throw new OnnxPtqError('INVALID_OPTION', 'calibrate: weightOnly needs no calibration statistics');
  if (opts.mode === 'dynamic') throw new OnnxPtqError('INVALID_OPTION', `calibrate: mode 'dynamic' needs no calibration statistics`);
  if (shard.count > 1 && opts.observer === 'moving-average')
    throw new OnnxPtqError(
      'STATS_MISMATCH',
      `shard ${shard.index}/${shard.count}: the moving-average observer depends on the order of the samples, so shards cannot be merged; use an order-free observer (minmax, percentile, mse, kl)`,
    );
  const hash = modelHash(source);
  const data = preSharded || shard.count === 1 ? calibration : shardOf(calibration, shard, opts.calibrationSamples);
  const maxSamples = preSharded || shard.count === 1 ? opts.calibrationSamples : 0;
  const total =
    calibrationTotal !== undefined && !preSharded && shard.count > 1
      ? Math.floor(
          ((opts.calibrationSamples ? Math.min(opts.calibrationSamples, calibrationTotal) : calibrationTotal) +
            shard.count -
            1 -
            shard.index) /
            shard.count,
        )
      : calibrationTotal;
  const started = startEarly({ workers }, opts, knownCount(data, total, maxSamples));
  const p = await stopOnFailure(started, prepare(source, opts, calibration, true));
  const g = await gather(p, data, { workers, total, maxSamples, started });
  const biasProbes: Record<string, ProbeStats> = {};
  for (const q of p.probes) {
    const s = g.probes.get(q.output)!;
    biasProbes[q.layer.outputs[0]!] = { count: s.count, sums: s.sum.map(String) };
  }
  return {
    format: STATS_FORMAT,
    version: STATS_VERSION,
    model: { sha256: hash },
    options: statsOptions(opts),
    shards: [{ index: shard.index, count: shard.count }],
    samples: g.samples,
    ...(() => {
      const n = preSharded ? listLength : knownCount(calibration, calibrationTotal, opts.calibrationSamples);
      return n !== undefined ? { listLength: n } : {};
    })(),
    tensors: observersToStats(g.observers),
    biasProbes,
    needsData: [
      ...(p.deferCorrection ? ['bias-correction after single-shift or adaround (a second pass over the data with the final weights)'] : []),
      ...(opts.passes.includes('adaround') ? ["adaround (each layer's inputs, from the data)"] : []),
    ],
  };
}

/** Sample i (of the first maxSamples) goes to shard i mod count. Re-iterable when the data is. */
function shardOf(data: CalibrationData, shard: { index: number; count: number }, maxSamples: number): CalibrationData {
  return {
    async *[Symbol.asyncIterator]() {
      let i = 0;
      for await (const s of data as AsyncIterable<Feeds>) {
        if (maxSamples && i >= maxSamples) break;
        if (i % shard.count === shard.index) yield s;
        i++;
      }
    },
  };
}

export async function quantize(source: Model | string | Uint8Array, input: QuantizeInput = {}): Promise<QuantizeResult> {
  const { calibration, calibrationTotal, stats, workers, ...rest } = input;
  const opts = resolveQuantizeOptions(rest);
  const statsList = stats === undefined ? [] : Array.isArray(stats) ? (stats as CalibrationStats[]) : [stats as CalibrationStats];
  if (stats !== undefined && statsList.length === 0) throw new OnnxPtqError('INVALID_ARGUMENT', 'quantize: stats is an empty list');
  const merged = statsList.length ? mergeStats(statsList, statsNames(statsList)) : undefined;
  if (merged) {
    if (opts.weightOnly) throw new OnnxPtqError('INVALID_OPTION', 'quantize: weightOnly takes no calibration statistics');
    checkStatsFor(merged, modelHash(source), opts, statsList.length > 1 ? 'the merged statistics' : 'the statistics');
  }
  if (opts.mode === 'dynamic') {
    if (merged) throw new OnnxPtqError('INVALID_OPTION', `quantize: mode 'dynamic' takes no calibration statistics`);
    return quantizeDynamic(source, opts, calibration);
  }
  if (!opts.weightOnly && !calibration && !merged) {
    throw new OnnxPtqError('INVALID_DATA', 'quantize: calibration data is required (or set weightOnly: true, or pass stats)');
  }
  // Stopped below unless calibration takes them (gather's runCalibration stops what it does not use).
  let started =
    calibration && !merged && !opts.weightOnly
      ? startEarly({ workers }, opts, knownCount(calibration, calibrationTotal, opts.calibrationSamples))
      : undefined;
  const p = await stopOnFailure(started, prepare(source, opts, calibration, merged !== undefined));
  if (!(p.toCalibrate.length || p.correct)) {
    started?.terminate();
    started = undefined;
  }
  if (merged && p.deferCorrection && !calibration)
    throw new OnnxPtqError(
      'INVALID_DATA',
      'quantize: bias correction after single-shift or adaround measures the final weights in a second pass over the data, which statistics cannot hold: pass the calibration data too (--calib), or set biasCorrection: false',
    );
  const { model, plan, types, passes, weightScheme } = p;
  const want = (q: PassName) => opts.passes.includes(q);
  const popts = (q: PassName) => (opts.passOptions[q] ?? {}) as Record<string, never>;
  let probes = p.probes;
  const activations: ActivationReport[] = [];
  const warnings: string[] = [];
  const params = new Map<string, ActivationParams>();
  let calib = { samples: 0, seconds: 0, workers: 0 };
  // The width of activations that are not 16-bit: activationBits, or 8 for the tensors that
  // activationBits 16 leaves 8-bit (wideTensors: ops with no 16-bit integer form).
  const narrowBits = opts.activationBits === 16 ? 8 : opts.activationBits;
  const state: QuantState = {
    ranges: new Map(),
    aliases: plan.aliases,
    bits: narrowBits,
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
    if (typeof (calibration as { next?: unknown }).next === 'function')
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
  const toCalibrate = p.toCalibrate;
  let probeSums = new Map<string, ProbeSums>();
  if (toCalibrate.length || p.correct) {
    const r = merged
      ? fromStats(p, merged, statsList.length > 1 ? 'the merged statistics' : 'the statistics')
      : await gather(p, calibration as CalibrationData, {
          workers,
          total: calibrationTotal,
          maxSamples: opts.calibrationSamples,
          started,
        });
    probeSums = r.probes;
    calib = { samples: r.samples, seconds: r.seconds, workers: r.workers };
    const target = { bits: narrowBits, signed: opts.activationSigned, symmetric: opts.activationSymmetric };
    const wide = wideTensors(opts, plan.aliases, toCalibrate, model.graph, warnings);
    // A 16-bit tensor keeps its observed range: with 65,536 levels clipping buys no resolution worth its error.
    for (const t of toCalibrate) state.ranges.set(t, r.observers.get(t)!.range(wide.has(t) ? { ...target, bits: 8 } : target));
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
    for (const t of wide) keepObserved(t);
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
      const q = producer.get(t);
      const bounded = q && !q.domain && (SATURATING.has(q.opType) || (q.opType === 'Clip' && !!q.inputs[1] && !!q.inputs[2]));
      if (bounded && clipped(t)) keepObserved(t);
      // A Softmax output is a probability: quantized over all of [0, 1], whatever calibration saw (an
      // input more confident than every calibration sample must not saturate below 1).
      if (q && !q.domain && q.opType === 'Softmax') state.ranges.set(t, { min: 0, max: 1 });
    }
    // Inputs read only by saturating ops: no levels where the output has none (saturation.ts).
    for (const t of toCalibrate) {
      const sat = saturatedInputRange(g0, t, wide.has(t) ? 16 : narrowBits);
      const rg = state.ranges.get(t)!;
      if (sat && (rg.min < sat.lo || rg.max > sat.hi))
        state.ranges.set(t, { min: Math.min(0, Math.max(rg.min, sat.lo)), max: Math.max(0, Math.min(rg.max, sat.hi)) });
    }
    // An embedding's output covers its whole table (plan.ts): a token calibration never saw must not clip.
    for (const { tensor, node } of plan.gatherTables) {
      const rg = state.ranges.get(node.outputs[0]!);
      if (!rg) continue;
      let { min, max } = rg;
      for (const v of g0.initializers.get(tensor)!.data as Float32Array) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      state.ranges.set(node.outputs[0]!, { min, max });
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
      if (wide.has(t)) {
        // A16W8: int16 with zero point 0 (TFLite's 16x8 convention). A non-negative tensor then uses
        // 15 of the 16 bits, and in exchange (x - 0) << 15 fits int32, which is what keeps the integer
        // Add/Mul of two 16-bit tensors inside the 32-bit fixed-point arithmetic of the 8-bit ones.
        const q = paramsForRange(min, max, 16, true, true);
        params.set(t, { scale: q.scale, zeroPoint: q.zeroPoint, signed: true, bits: 16 });
        continue;
      }
      const q = zero
        ? paramsForRange(0, max, target.bits, false, false)
        : paramsForRange(min, max, target.bits, target.signed, target.symmetric);
      params.set(t, { scale: q.scale, zeroPoint: q.zeroPoint, signed: zero ? false : opts.activationSigned });
    }
    if (want('joining-nodes')) passes.push(new JoiningNodesPass(popts('joining-nodes'), state).apply(model));
    if (want('single-shift')) passes.push(new SingleShiftPass(popts('single-shift'), state, opts.weightSymmetric).apply(model));
    if (want('adaround')) passes.push(await runAdaRound());
    if (p.deferCorrection) {
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
      const second = await runCalibration(
        cm,
        { ...collectConfig(p, probes), tensors: [], observer: 'minmax', observerOptions: {} },
        calibration as CalibrationData,
        {
          maxSamples: opts.calibrationSamples,
          total: knownCount(calibration, calibrationTotal, opts.calibrationSamples),
          ...resolveWorkers({ workers }, opts, knownCount(calibration, calibrationTotal, opts.calibrationSamples)),
          label: 'bias correction',
        },
      );
      probeSums = second.probes;
    }
    for (const t of toCalibrate) {
      const o = r.observers.get(t)!;
      const q = params.get(t)!,
        { min, max } = state.ranges.get(t)!;
      activations.push({
        tensor: t,
        scale: q.scale,
        zeroPoint: q.zeroPoint,
        min,
        max,
        observedMin: o.observedMin,
        observedMax: o.observedMax,
        aliases: [...plan.aliases].filter(([, src]) => src === t).map(([a]) => a),
        bits: q.bits ?? narrowBits,
      });
    }
  } else {
    for (const q of ['sign-map', 'joining-nodes', 'single-shift'] as const) {
      if (want(q))
        throw new OnnxPtqError(
          'PASS_ERROR',
          `${q}: needs calibrated activations (not available with weightOnly or without calibration data)`,
        );
    }
    // Weight-only: adaround still learns the rounding from the float activations.
    if (want('adaround')) passes.push(await runAdaRound());
  }
  const corrected: string[] = [];
  for (const q of probes) {
    const s = probeSums.get(q.output);
    if (s) {
      q.sum = s.sum;
      q.count = s.count;
    }
    // The probe was built on a copy: find the original layer by its output.
    const n = plan.layers.find((l) => l.outputs[0] === q.layer.outputs[0])!;
    const delta = corrections(q);
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
  if (p.correct)
    passes.push({
      pass: 'bias-correction',
      changed: corrected.length,
      details: corrected.map((c) => `${c}: bias corrected for the expected weight-rounding shift`),
    });
  // 16-bit and blocked QuantizeLinear/DequantizeLinear (and int4) exist from opset 21.
  const needs21 = [...params.values()].some((q) => q.bits === 16) || (weightScheme.granularity === 'per-block' && plan.layers.length > 0);
  const opset = upgradeOpset(model, types, needs21 ? 21 : undefined);
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
  for (const { tensor, node } of plan.gatherTables) {
    const q = params.get(node.outputs[0]!);
    if (q) insertTableDq(g, tensor, q);
  }
  for (const [t, q] of params) insertActivationQdq(g, t, q);
  for (const [t, src] of plan.aliases) {
    const q = params.get(src);
    if (q) insertActivationQdq(g, t, q);
  }
  // A Softmax the opset upgrade wrapped in Flatten ... Reshape (opset.ts): the wrapper's inner tensors
  // take the parameters of the tensors they reshape, so the op between them lowers to integer too.
  for (const w of opset.wrapped) {
    const pin = params.get(plan.aliases.get(w.input) ?? w.input);
    const pout = params.get(plan.aliases.get(w.output) ?? w.output);
    if (pin && pout && REQUANT_OPS.has(w.op.opType)) {
      insertActivationQdq(g, w.flat, pin);
      insertActivationQdq(g, w.opOutput, pout);
    }
  }
  if (opts.weightFormat === 'matmulnbits') {
    const rewritten = new Set(toMatMulNBits(model));
    for (const l of layers) if (rewritten.has(l.node)) l.format = 'MatMulNBits';
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
  model.metadata.set('onnx_ptq.passes', JSON.stringify(passes.filter((q) => q.changed).map((q) => q.pass)));
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
      opset: { from: opset.from, to: opset.to },
      warnings,
      size: { floatBytes: p.floatBytes, quantizedBytes: modelToBytes(model).length },
    },
  };
}

/**
 * mode 'dynamic' (src/ptq/dynamic.ts): the float-graph folds and passes of prepare() (those that
 * need data refuse without it), then MatMul/Gemm rewritten to onnxruntime's dynamic form; no
 * calibration, no activation parameters.
 */
async function quantizeDynamic(
  source: Model | string | Uint8Array,
  opts: QuantizeOptions,
  calibration: CalibrationData | undefined,
): Promise<QuantizeResult> {
  for (const q of opts.passes)
    if (q !== 'layer-split' && q !== 'equalization' && q !== 'smooth-quant')
      throw new OnnxPtqError('INVALID_OPTION', `quantize: pass '${q}' works on static activation parameters; mode 'dynamic' has none`);
  const p = await prepare(source, { ...opts, weightOnly: true }, calibration, false);
  const g = p.model.graph;
  const rw = rewriteDynamic(g, p.plan.layers, p.weightScheme);
  const opset = upgradeOpset(p.model, p.types);
  g.sortTopologically();
  dropUnusedInits(g);
  g.validate();
  const model = p.model;
  model.metadata.set('onnx_ptq.version', VERSION);
  model.metadata.set('onnx_ptq.options', JSON.stringify(opts));
  model.producerName = 'onnx-ptq';
  model.producerVersion = VERSION;
  return {
    model,
    report: {
      options: opts,
      passes: p.passes,
      calibration: { samples: 0, seconds: 0, observer: 'dynamic', workers: 0 },
      activations: [],
      layers: rw.layers,
      keptFloat: [...p.plan.keptFloat, ...rw.keptFloat],
      biasCorrected: [],
      opset: { from: opset.from, to: opset.to },
      warnings: [],
      size: { floatBytes: p.floatBytes, quantizedBytes: modelToBytes(model).length },
    },
  };
}

/**
 * The calibrated tensors held in 16 bits: all with activationBits 16, else those activation16 names
 * (a data-movement output names its source). A name that is not a calibrated tensor is refused, and
 * so are the passes that decide 8-bit parameters jointly (their arithmetic assumes one type).
 */
/**
 * Ops whose integer form keeps its input's scale and width (a window or a gather of the input's
 * values): their output takes the width of their input and the reverse, else the op would run in
 * float with "input and output types differ" (PP-OCRv4 det's GlobalAveragePool did).
 */
const SAME_WIDTH_OPS = new Set(['AveragePool', 'GlobalAveragePool', 'MaxPool', 'GlobalMaxPool', 'Resize', 'Upsample']);
/** Ops whose integer forms take and give 8-bit data only (src/runtime/integer/lower/: layernorm, softmax). */
const NARROW_ONLY_OPS = new Set(['LayerNormalization', 'Softmax']);

function wideTensors(
  opts: QuantizeOptions,
  aliases: ReadonlyMap<string, string>,
  calibrated: readonly string[],
  g: Graph,
  warnings: string[],
): Set<string> {
  const all = new Set(calibrated);
  const wide = new Set(opts.activationBits === 16 ? calibrated : []);
  for (const t of opts.activation16) {
    const src = aliases.get(t) ?? t;
    if (!all.has(src))
      throw new OnnxPtqError(
        'INVALID_OPTION',
        `quantize: activation16 names '${t}', which is not a quantized activation of the model (a node output or graph input that gets QuantizeLinear)`,
      );
    wide.add(src);
  }
  // Close over same-width ops until nothing changes (a chain of pools widens in one sweep or a few).
  const pairs = g.nodes
    .filter((n) => SAME_WIDTH_OPS.has(n.opType) && n.inputs[0] && n.outputs[0])
    .map((n) => [aliases.get(n.inputs[0]!) ?? n.inputs[0]!, aliases.get(n.outputs[0]!) ?? n.outputs[0]!] as const)
    .filter(([x, y]) => all.has(x) && all.has(y));
  for (let changed = wide.size > 0; changed; ) {
    changed = false;
    for (const [x, y] of pairs)
      if (wide.has(x) !== wide.has(y)) {
        wide.add(x).add(y);
        changed = true;
      }
  }
  // Ops with 8-bit integer forms only: a 16-bit tensor on either side would run them in float. Their
  // tensors stay 8-bit (said in the warnings), so that the model stays integer-only.
  const src = (t: string) => aliases.get(t) ?? t;
  for (const n of g.nodes) {
    const activations = n.inputs.filter((i) => all.has(src(i)));
    const narrow = NARROW_ONLY_OPS.has(n.opType) || (n.opType === 'MatMul' && activations.length === 2);
    if (!narrow) continue;
    for (const t of [...activations, ...n.outputs.filter((o) => all.has(src(o)))].map(src))
      if (wide.delete(t)) warnings.push(`activation16: '${t}' stays 8-bit: ${nodeLabel(n)} (${n.opType}) has no 16-bit integer form`);
  }
  // Narrowing travels back through same-width ops: a Reshape between a 16-bit and an 8-bit tensor
  // would have no integer form either.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [x, y] of pairs)
      if (wide.has(x) !== wide.has(y)) {
        const t = wide.has(x) ? x : y;
        wide.delete(t);
        warnings.push(`activation16: '${t}' stays 8-bit: it shares its parameters with an 8-bit tensor`);
        changed = true;
      }
  }
  if (wide.size)
    for (const pass of ['sign-map', 'joining-nodes', 'single-shift'])
      if (opts.passes.includes(pass))
        throw new OnnxPtqError(
          'INVALID_OPTION',
          `quantize: pass '${pass}' decides 8-bit activation parameters and does not take 16-bit activations`,
        );
  return wide;
}

function statsNames(list: readonly CalibrationStats[]): string[] {
  return list.map((_, i) => `statistics #${i}`);
}

/**
 * max |value| per channel of each tensor over the calibration data (every axis but the channel
 * axis), with the channel axis given per tensor (negative: from the end): equalization's activation
 * ranges (axis 1), SmoothQuant's (the last axis). `who` names the pass (and option) needing them.
 */
async function channelRanges(
  model: Model,
  tensors: ReadonlyMap<string, number>,
  data: CalibrationData,
  maxSamples: number,
  allowNonFinite: boolean,
  who: { pass: PassName; option?: string },
): Promise<Map<string, Float32Array>> {
  const what = who.option ? `${who.pass}: option '${who.option}'` : who.pass;
  const it = data as { next?: unknown; [Symbol.iterator]?: () => unknown };
  if (typeof it.next === 'function')
    throw new OnnxPtqError(
      'PASS_ERROR',
      `${what} reads the calibration data twice: pass an array (or another re-iterable), not an iterator`,
    );
  const out = new Map<string, Float32Array>();
  const names = [...tensors.keys()];
  await runCalibration(model, { tensors: [], observer: 'minmax', observerOptions: {}, probes: [], allowNonFinite, extra: names }, data, {
    maxSamples,
    label: `${who.pass} ranges`,
    onSample: (values) => {
      for (const [t, axis] of tensors) {
        const v = values[t];
        if (!v) throw new OnnxPtqError('INTERNAL', `${what}: calibration did not return tensor '${t}'`);
        const ax = axis < 0 ? v.rank + axis : axis;
        const c = v.dims[ax] ?? 1,
          inner = v.dims.slice(ax + 1).reduce((a, b) => a * b, 1);
        const r = out.get(t) ?? new Float32Array(c);
        if (r.length !== c)
          throw new OnnxPtqError(
            'PASS_ERROR',
            `${what}: tensor '${t}' has ${c} channels on axis ${ax} in one sample, ${r.length} in another`,
          );
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
