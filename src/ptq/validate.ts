/**
 * validate(): runs a float model and its quantized version on the same data and reports top-1
 * agreement, accuracy of each when labels are given, and the output SQNR in dB:
 *   SQNR = 10 log10( sum f^2 / sum (f - q)^2 ) over every output element of every sample.
 * The quantized model runs in our integer executor (default), in our float engine as a fake-quant
 * simulation, or in onnxruntime-node (an optional peer).
 */
import { OnnxPtqError } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { InferenceSession } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import type { BackendRequest } from '../backends/types.js';
import type { RequantMode } from '../quant/requant.js';
import type { Feeds } from './calibrate.js';
import { progress } from './calibrate.js';

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
  agreement: number;
  floatAccuracy?: number;
  quantAccuracy?: number;
  sqnrDb: number;
  /** Milliseconds per sample, each side. */
  floatMs: number;
  quantMs: number;
}

type Runner = (feeds: Feeds) => Promise<Float32Array>;

function argmax(d: Float32Array): number {
  let b = 0;
  for (let j = 1; j < d.length; j++) if (d[j] > d[b]) b = j;
  return b;
}

async function floatRunner(model: Model | string | Uint8Array): Promise<Runner> {
  const s = await InferenceSession.create(model);
  const out = s.outputNames[0];
  return async (feeds) => s.runSync(feeds)[out].data as Float32Array;
}

async function integerRunner(model: Model | string | Uint8Array, backend?: BackendRequest, requantMode?: RequantMode): Promise<Runner> {
  const mod = (await import('../runtime/integer/index.js')) as Record<string, unknown>;
  const IntegerSession = mod.IntegerSession as
    | { create(m: unknown, o: unknown): Promise<{ outputNames: string[]; run(f: Feeds): Promise<Record<string, Tensor>> }> }
    | undefined;
  if (!IntegerSession) throw new OnnxPtqError('BACKEND_UNAVAILABLE', 'the integer executor is not available in this build; use executor "float" or "onnxruntime"');
  const s = await IntegerSession.create(model, { backend, requantMode });
  const out = s.outputNames[0];
  return async (feeds) => (await s.run(feeds))[out].data as Float32Array;
}

async function ortRunner(model: Model | string | Uint8Array): Promise<Runner> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    throw new OnnxPtqError('BACKEND_UNAVAILABLE', 'onnxruntime-node is not installed: `npm install onnxruntime-node` to validate against it');
  }
  ort.env.logLevel = 'error';
  let bytes: Uint8Array | string;
  if (typeof model === 'string' || model instanceof Uint8Array) bytes = model;
  else bytes = (await import('../onnx/io.js')).modelToBytes(model);
  const s = typeof bytes === 'string' ? await ort.InferenceSession.create(bytes) : await ort.InferenceSession.create(bytes);
  const out = s.outputNames[0];
  return async (feeds) => {
    const f: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', t.data as Float32Array, [...t.dims]);
    return (await s.run(f))[out].data as Float32Array;
  };
}

export async function quantRunner(model: Model | string | Uint8Array, opts: ValidateOptions): Promise<Runner> {
  switch (opts.executor ?? 'integer') {
    case 'integer': return integerRunner(model, opts.backend, opts.requantMode);
    case 'float': return floatRunner(model);
    case 'onnxruntime': return ortRunner(model);
    default: throw new OnnxPtqError('INVALID_OPTION', `executor must be integer, float or onnxruntime, got '${opts.executor}'`);
  }
}

export async function validate(floatModel: Model | string | Uint8Array, quantModel: Model | string | Uint8Array, data: Iterable<Feeds>, opts: ValidateOptions = {}): Promise<ValidateResult> {
  const runF = await floatRunner(floatModel);
  const runQ = await quantRunner(quantModel, opts);
  let n = 0, agree = 0, okF = 0, okQ = 0, sig = 0, noise = 0, tF = 0, tQ = 0;
  const bar = progress('validating');
  for (const feeds of data) {
    let t0 = performance.now();
    const f = await runF(feeds);
    tF += performance.now() - t0;
    t0 = performance.now();
    const q = await runQ(feeds);
    tQ += performance.now() - t0;
    if (f.length !== q.length) throw new OnnxPtqError('SHAPE_MISMATCH', `validate: the float model gives ${f.length} output values, the quantized one ${q.length}: they are not the same model`);
    for (let i = 0; i < f.length; i++) {
      sig += f[i] * f[i];
      noise += (f[i] - q[i]) ** 2;
    }
    const af = argmax(f), aq = argmax(q);
    if (af === aq) agree++;
    if (opts.labels) {
      if (n >= opts.labels.length) throw new OnnxPtqError('INVALID_DATA', `validate: there are more samples than labels (${opts.labels.length})`);
      if (af === opts.labels[n]) okF++;
      if (aq === opts.labels[n]) okQ++;
    }
    n++;
    bar.tick(n, opts.total);
  }
  bar.end();
  if (n === 0) throw new OnnxPtqError('INVALID_DATA', 'validate: the data set is empty');
  if (opts.labels && opts.labels.length !== n) throw new OnnxPtqError('INVALID_DATA', `validate: ${opts.labels.length} labels for ${n} samples`);
  return {
    samples: n, executor: opts.executor ?? 'integer',
    agreement: agree / n,
    ...(opts.labels ? { floatAccuracy: okF / n, quantAccuracy: okQ / n } : {}),
    sqnrDb: noise === 0 ? Infinity : 10 * Math.log10(sig / noise),
    floatMs: tF / n, quantMs: tQ / n,
  };
}
