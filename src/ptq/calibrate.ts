/**
 * Calibration: run the float model over the data and let one observer per tensor see every value
 * the tensor takes. Memory is the observers' (histograms), not the data's: samples are streamed.
 */
import { InferenceSession } from '../runtime/session.js';
import type { Model } from '../ir/graph.js';
import { Tensor } from '../tensor.js';
import { OnnxPtqError } from '../errors.js';
import { createObserver, type Observer, type ObserverKind, type ObserverOptions } from '../quant/observers/index.js';

export type Feeds = Record<string, Tensor>;
export type CalibrationData = Iterable<Feeds> | AsyncIterable<Feeds>;

export interface CalibrationResult {
  observers: Map<string, Observer>;
  samples: number;
  seconds: number;
}

// The progress bar lives in util/ (the CLI sets --quiet without loading the engine); re-exported here.
export { progress, setProgressEnabled } from '../util/progress.js';
import { progress } from '../util/progress.js';
import { firstNonFinite } from '../util/finite.js';

export async function calibrate(
  model: Model,
  tensors: readonly string[],
  data: CalibrationData,
  opts: {
    observer: ObserverKind;
    observerOptions: ObserverOptions;
    maxSamples?: number;
    total?: number;
    /** More values to compute per sample, handed to onSample (bias-correction probes). */
    extra?: readonly string[];
    onSample?: (values: Record<string, Tensor>) => void;
    /** Accept NaN/infinity in the samples and the observed tensors (QuantizeOptions.allowNonFinite). */
    allowNonFinite?: boolean;
  },
): Promise<CalibrationResult> {
  const t0 = performance.now();
  const observers = new Map<string, Observer>(tensors.map((t) => [t, createObserver(opts.observer, opts.observerOptions)]));
  const allow = opts.allowNonFinite ?? false;
  const session = await InferenceSession.create(model, { allowNonFinite: allow });
  const inputs = new Set(session.inputNames);
  const wanted = [...tensors.filter((t) => !inputs.has(t)), ...(opts.extra ?? [])];
  const bar = progress('calibrating');
  let n = 0;
  for await (const feeds of data as AsyncIterable<Feeds>) {
    if (opts.maxSamples && n >= opts.maxSamples) break;
    if (!allow && feeds !== null && typeof feeds === 'object') {
      for (const [name, t] of Object.entries(feeds)) nonFinite(t instanceof Tensor ? t.data : undefined, `input '${name}'`, n);
    }
    const outs = session.runSync(feeds, { outputs: wanted });
    for (const t of tensors) {
      const v = inputs.has(t) ? feeds[t] : outs[t];
      if (!(v instanceof Tensor) || !(v.data instanceof Float32Array)) {
        throw new OnnxPtqError('INVALID_DATA', `calibration: tensor '${t}' is not float32 in sample ${n}`);
      }
      // A finite sample can still overflow to infinity inside the model: the observed tensor is checked too.
      if (!allow) nonFinite(v.data, `tensor '${t}'`, n);
      try {
        observers.get(t)!.observe(v.data);
      } catch (e) {
        // Name the tensor and sample: a NaN deep in the model is otherwise impossible to place.
        if (e instanceof OnnxPtqError)
          throw new OnnxPtqError(e.code, `calibration: tensor '${t}' in sample ${n}: ${e.message}`, { cause: e });
        throw e;
      }
    }
    opts.onSample?.(outs);
    n++;
    bar.tick(n, opts.maxSamples || opts.total);
  }
  bar.end();
  if (n === 0) throw new OnnxPtqError('INVALID_DATA', 'calibration data is empty: at least one sample is needed');
  return { observers, samples: n, seconds: (performance.now() - t0) / 1000 };
}

function nonFinite(data: unknown, what: string, sample: number): void {
  const i = firstNonFinite(data);
  if (i >= 0) {
    throw new OnnxPtqError(
      'INVALID_DATA',
      `calibration: ${what} in sample ${sample} has a non-finite value (${String((data as Float32Array)[i])} at index ${i}); fix the data or set allowNonFinite`,
    );
  }
}
