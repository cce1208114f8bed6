/**
 * validate(): runs a float model and its quantized version on the same data and reports top-1
 * agreement, accuracy of each when labels are given, and the output SQNR in dB:
 *   SQNR = 10 log10( sum f^2 / sum (f - q)^2 ) over every output element of every sample.
 * The quantized model runs in our integer executor (default), in our float engine as a fake-quant
 * simulation, or in onnxruntime-node (an optional peer).
 */
import { OnnxPtqError } from '../errors.js';
import { ORT_EXACT_INTEGER, ortExactModel } from './ort-options.js';
import type { Model } from '../ir/graph.js';
import { InferenceSession } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import type { BackendName, BackendRequest } from '../backends/types.js';
import type { RequantMode } from '../quant/requant.js';
import type { Feeds } from './calibrate.js';
import { progress } from '../util/progress.js';

export type QuantExecutor = 'integer' | 'float' | 'onnxruntime';

export interface ValidateOptions {
  executor?: QuantExecutor;
  backend?: BackendRequest;
  requantMode?: RequantMode;
  labels?: Int32Array;
  /** Total samples, for the progress bar only. */
  total?: number;
}

export interface ValidateResult {
  samples: number;
  executor: QuantExecutor;
  /** The backend the quantized model ran on (integer and float executors; never 'auto'). */
  backend?: BackendName;
  agreement: number;
  floatAccuracy?: number;
  quantAccuracy?: number;
  sqnrDb: number;
  /** Milliseconds per sample, each side. */
  floatMs: number;
  quantMs: number;
}

type Runner = ((feeds: Feeds) => Promise<Float32Array>) & { backend?: BackendName };

function argmax(d: Float32Array): number {
  let b = 0;
  for (let j = 1; j < d.length; j++) if (d[j] > d[b]) b = j;
  return b;
}

async function floatRunner(model: Model | string | Uint8Array): Promise<Runner> {
  const s = await InferenceSession.create(model);
  const out = s.outputNames[0];
  return Object.assign(async (feeds: Feeds) => s.runSync(feeds)[out].data as Float32Array, { backend: s.backendName });
}

async function integerRunner(model: Model | string | Uint8Array, backend?: BackendRequest, requantMode?: RequantMode): Promise<Runner> {
  const mod = (await import('../runtime/integer/index.js')) as Record<string, unknown>;
  const IntegerSession = mod.IntegerSession as
    | {
        create(
          m: unknown,
          o: unknown,
        ): Promise<{ outputNames: string[]; backendName: BackendName; run(f: Feeds): Promise<Record<string, Tensor>> }>;
      }
    | undefined;
  if (!IntegerSession)
    throw new OnnxPtqError(
      'BACKEND_UNAVAILABLE',
      'the integer executor is not available in this build; use executor "float" or "onnxruntime"',
    );
  // A batch loop timed per sample: on the calling thread (a worker adds a message round trip per run).
  const s = await IntegerSession.create(model, { backend, requantMode, runInWorker: false });
  const out = s.outputNames[0];
  return Object.assign(async (feeds: Feeds) => (await s.run(feeds))[out].data as Float32Array, { backend: s.backendName });
}

async function ortRunner(model: Model | string | Uint8Array): Promise<Runner> {
  const ort = await loadOrt();
  let bytes: Uint8Array | string;
  if (typeof model === 'string' || model instanceof Uint8Array) bytes = model;
  else bytes = (await import('../onnx/io.js')).modelToBytes(model);
  const what = typeof bytes === 'string' ? `model '${bytes}'` : 'the quantized model';
  const s = await ortCall('INVALID_MODEL', what, () =>
    typeof bytes === 'string' ? ort.InferenceSession.create(bytes) : ort.InferenceSession.create(bytes),
  );
  const out = s.outputNames[0];
  return async (feeds) => {
    const f: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', t.data as Float32Array, [...t.dims]);
    return (await ortCall('INVALID_INPUT', what, () => s.run(f)))[out].data as Float32Array;
  };
}

export async function quantRunner(model: Model | string | Uint8Array, opts: ValidateOptions): Promise<Runner> {
  switch (opts.executor ?? 'integer') {
    case 'integer':
      return integerRunner(model, opts.backend, opts.requantMode);
    case 'float':
      return floatRunner(model);
    case 'onnxruntime':
      return ortRunner(model);
    default:
      throw new OnnxPtqError('INVALID_OPTION', `executor must be integer, float or onnxruntime, got '${opts.executor}'`);
  }
}

export async function validate(
  floatModel: Model | string | Uint8Array,
  quantModel: Model | string | Uint8Array,
  data: Iterable<Feeds>,
  opts: ValidateOptions = {},
): Promise<ValidateResult> {
  const runF = await floatRunner(floatModel);
  const runQ = await quantRunner(quantModel, opts);
  let n = 0,
    agree = 0,
    okF = 0,
    okQ = 0,
    sig = 0,
    noise = 0,
    tF = 0,
    tQ = 0;
  const bar = progress('validating');
  for (const feeds of data) {
    let t0 = performance.now();
    const f = await runF(feeds);
    tF += performance.now() - t0;
    t0 = performance.now();
    const q = await runQ(feeds);
    tQ += performance.now() - t0;
    if (f.length !== q.length)
      throw new OnnxPtqError(
        'SHAPE_MISMATCH',
        `validate: the float model gives ${f.length} output values, the quantized one ${q.length}: they are not the same model`,
      );
    for (let i = 0; i < f.length; i++) {
      sig += f[i] * f[i];
      noise += (f[i] - q[i]) ** 2;
    }
    const af = argmax(f),
      aq = argmax(q);
    if (af === aq) agree++;
    if (opts.labels) {
      if (n >= opts.labels.length)
        throw new OnnxPtqError('INVALID_DATA', `validate: there are more samples than labels (${opts.labels.length})`);
      if (af === opts.labels[n]) okF++;
      if (aq === opts.labels[n]) okQ++;
    }
    n++;
    bar.tick(n, opts.total);
  }
  bar.end();
  if (n === 0) throw new OnnxPtqError('INVALID_DATA', 'validate: the data set is empty');
  if (opts.labels && opts.labels.length !== n)
    throw new OnnxPtqError('INVALID_DATA', `validate: ${opts.labels.length} labels for ${n} samples`);
  return {
    samples: n,
    executor: opts.executor ?? 'integer',
    ...(runQ.backend ? { backend: runQ.backend } : {}),
    agreement: agree / n,
    ...(opts.labels ? { floatAccuracy: okF / n, quantAccuracy: okQ / n } : {}),
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(sig / noise),
    floatMs: tF / n,
    quantMs: tQ / n,
  };
}

export interface CrossCheckEntry {
  /** Graph output name, or the layer (node) name. */
  name: string;
  /** The tensor compared (the layer's quantized output for layers). */
  tensor: string;
  bitExact: boolean;
  /** Largest difference in units of the last place (the tensor's quantization step). */
  maxLsb: number;
  /** Elements that differ, over all samples. */
  differing: number;
  elements: number;
  cause?: string;
}

export interface CrossCheckResult {
  samples: number;
  requantMode: RequantMode;
  backend: string;
  outputs: CrossCheckEntry[];
  layers: CrossCheckEntry[];
  bitExact: boolean;
}

async function loadOrt(): Promise<typeof import('onnxruntime-node')> {
  try {
    const ort = await import('onnxruntime-node');
    ort.env.logLevel = 'error';
    return ort;
  } catch {
    throw new OnnxPtqError(
      'BACKEND_UNAVAILABLE',
      'onnxruntime-node is not installed: `npm install onnxruntime-node` (an optional peer dependency) to validate against it',
    );
  }
}

/**
 * An onnxruntime call whose failure becomes an OnnxPtqError naming `what`: INVALID_MODEL when it
 * refuses the model (creating the session), INVALID_INPUT when a run fails.
 */
export async function ortCall<T>(code: 'INVALID_MODEL' | 'INVALID_INPUT', what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new OnnxPtqError(code, `onnxruntime-node failed on ${what}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Runs the QDQ model in onnxruntime-node and in our integer executor (float requantization, the
 * onnxruntime-compatible rule, unless told otherwise) on the same data and compares, per graph
 * output and per quantized layer output (its QuantizeLinear's integer tensor, exposed as an extra
 * graph output on both sides), the bits: exact or the largest difference in LSBs, with the cause
 * where known (the first differing layer is the cause of the ones after it).
 */
export async function crossCheckOnnxRuntime(
  quantSrc: Model | string | Uint8Array,
  data: Iterable<Feeds>,
  opts: { backend?: BackendRequest; requantMode?: RequantMode; total?: number; perLayer?: boolean } = {},
): Promise<CrossCheckResult> {
  const ort = await loadOrt();
  const io = await import('../onnx/io.js');
  const { cloneModel } = await import('../runtime/session.js');
  const { qdqLayers } = await import('../analysis/qdq-graph.js');
  const { IntegerSession } = await import('../runtime/integer/index.js');
  const base = typeof quantSrc === 'string' || quantSrc instanceof Uint8Array ? io.loadModel(quantSrc) : quantSrc;
  const model = cloneModel(base);
  const g = model.graph;
  const layers = qdqLayers(model);
  if (layers.length === 0)
    throw new OnnxPtqError(
      'INVALID_MODEL',
      'validate --against onnxruntime: the model has no quantized layers (no Conv/Gemm/MatMul fed by DequantizeLinear): pass a QDQ model',
    );
  // Per layer: the integer tensor written by the QuantizeLinear of the layer's output.
  const probes: { layer: string; tensor: string; op: string; weightWide: boolean }[] = [];
  if (opts.perLayer ?? true) {
    for (const l of layers) {
      // The first QuantizeLinear after the layer, through a short single-reader chain (Relu, MaxPool, ...).
      let q = g.nodes.find((nd) => (nd.name || nd.outputs[0]) === l.name);
      for (let step = 0; q && q.opType !== 'QuantizeLinear' && step < 4; step++) {
        const readers = g.consumersOf(q.outputs[0]);
        q = readers.length === 1 ? readers[0] : readers.find((r) => r.opType === 'QuantizeLinear');
      }
      if (q?.opType !== 'QuantizeLinear' || g.outputs.some((o) => o.name === q!.outputs[0])) continue;
      const zp = q.inputs[2] ? g.initializers.get(q.inputs[2]) : undefined;
      let weightWide = false;
      const w = l.weightDq ? g.initializers.get(l.weightDq.inputs[0]) : undefined;
      if (w && w.dtype === 'int8')
        for (const v of w.data as Int8Array)
          if (v < -64 || v > 63) {
            weightWide = true;
            break;
          }
      g.outputs.push({ name: q.outputs[0], dtype: zp?.dtype === 'int8' ? 'int8' : 'uint8', shape: undefined } as never);
      probes.push({ layer: l.name, tensor: q.outputs[0], op: l.op, weightWide });
    }
  }
  const requantMode = opts.requantMode ?? 'float';
  let ours: { outputNames: string[]; run(f: Feeds): Promise<Record<string, Tensor>>; backend: { name: string } };
  let usedProbes = probes;
  try {
    ours = (await IntegerSession.create(model, { backend: opts.backend, requantMode, runInWorker: false })) as never;
  } catch {
    // The executor could not expose the intermediate tensors: compare the graph outputs only.
    g.outputs = g.outputs.filter((o) => !probes.some((p) => p.tensor === o.name));
    usedProbes = [];
    ours = (await IntegerSession.create(model, { backend: opts.backend, requantMode, runInWorker: false })) as never;
  }
  const theirs = await ortCall('INVALID_MODEL', 'the QDQ model', () =>
    ort.InferenceSession.create(io.modelToBytes(ortExactModel(model)), { intraOpNumThreads: 1, ...ORT_EXACT_INTEGER }),
  );
  // The LSB of a float graph output: the scale of the DequantizeLinear writing it, when there is one.
  const lsb = new Map<string, number>();
  for (const o of base.graph.outputs) {
    const dq = g.producerOf(o.name);
    const s = dq && dq.opType === 'DequantizeLinear' ? g.initializers.get(dq.inputs[1]) : undefined;
    if (s && s.size === 1) lsb.set(o.name, Number((s.data as Float32Array)[0]));
  }
  const outNames = base.graph.outputs.map((o) => o.name);
  const acc = new Map<string, { max: number; differing: number; n: number }>(
    [...outNames, ...usedProbes.map((p) => p.tensor)].map((k) => [k, { max: 0, differing: 0, n: 0 }]),
  );
  let n = 0;
  const bar = progress('cross-checking');
  for (const feeds of data) {
    const mine = await ours.run(feeds);
    const f: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', t.data as Float32Array, [...t.dims]);
    const other = await ortCall('INVALID_INPUT', `the QDQ model (sample ${n})`, () => theirs.run(f));
    for (const [k, a] of acc) {
      const x = mine[k]?.data as ArrayLike<number> | undefined,
        y = other[k]?.data as ArrayLike<number> | undefined;
      if (!x || !y || x.length !== y.length)
        throw new OnnxPtqError('INTERNAL', `cross-check: tensor '${k}' is missing or differs in size between onnx-ptq and onnxruntime`);
      const step = lsb.get(k) ?? (outNames.includes(k) ? 0 : 1);
      for (let i = 0; i < x.length; i++) {
        const d = Math.abs(Number(x[i]) - Number(y[i]));
        if (d !== 0) {
          a.differing++;
          a.max = Math.max(a.max, step ? Math.round(d / step) : d);
        }
      }
      a.n += x.length;
    }
    n++;
    bar.tick(n, opts.total);
  }
  bar.end();
  if (n === 0) throw new OnnxPtqError('INVALID_DATA', 'cross-check: the data set is empty');
  const entry = (name: string, tensor: string): CrossCheckEntry => {
    const a = acc.get(tensor)!;
    return { name, tensor, bitExact: a.differing === 0, maxLsb: a.max, differing: a.differing, elements: a.n };
  };
  const layerEntries = usedProbes.map((p) => entry(p.layer, p.tensor));
  let firstBad: string | undefined;
  usedProbes.forEach((p, i) => {
    const e = layerEntries[i];
    if (e.bitExact) return;
    if (firstBad) {
      e.cause = `propagated from ${firstBad} (its inputs already differ)`;
      return;
    }
    firstBad = p.layer;
    // Only float requantization is onnxruntime's rule; in the other modes the rule is the first cause.
    e.cause =
      requantMode !== 'float'
        ? `requantization rule: onnx-ptq ran in '${requantMode}' mode, onnxruntime requantizes in float (use --requant-mode float to compare the kernels)`
        : p.weightWide
          ? `int8 weights outside [-64, 63] with uint8 activations: onnxruntime's x86 u8 x s8 kernels (AVX2 vpmaddubsw) saturate int16 pair sums; onnx-ptq never saturates`
          : `onnxruntime's ${p.op} kernel rounds differently here (not a known case: please report it with the model)`;
  });
  const outputs = outNames.map((o) => {
    const e = entry(o, o);
    if (!e.bitExact)
      e.cause = firstBad
        ? `propagated from ${firstBad}`
        : lsb.has(o)
          ? 'a non-layer op (QLinearAdd/Mul, pooling, lookup tables) rounds differently in onnxruntime'
          : 'a float output after the last quantized op: float32 results may differ in the last ulps';
    if (!lsb.has(o)) e.maxLsb = NaN;
    return e;
  });
  return {
    samples: n,
    requantMode,
    backend: ours.backend.name,
    outputs,
    layers: layerEntries,
    bitExact: outputs.every((e) => e.bitExact) && layerEntries.every((e) => e.bitExact),
  };
}
