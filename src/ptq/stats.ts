/**
 * Calibration statistics as a value: what calibration learned about a model's activations (one
 * observer state per calibrated tensor) and bias correction's probe sums, with what identifies
 * them (the model's sha256, the options that shape them, the shards they cover). Statistics merge
 * exactly (observers/index.ts, util/exact-sum.ts): the merge of shards or workers is the
 * statistics of one pass over all the data, so `quantize({ stats })` writes the same bytes.
 * The file format is documented in docs/calibration.md; `version` changes with any change to it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OnnxPtqError } from '../errors.js';
import { observerFromState, type Observer, type ObserverState } from '../quant/observers/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ExactSum } from '../util/exact-sum.js';
import type { QuantizeOptions } from './options.js';

export const STATS_FORMAT = 'onnx-ptq-calibration-stats';
export const STATS_VERSION = 1;

/** One bias-correction probe: per-channel exact sums of layer(x, w - w_q) and the number of terms per channel. */
export interface ProbeStats {
  count: number;
  /** ExactSum text per channel: "<hex mantissa>*2^<exponent>". */
  sums: string[];
}

export interface CalibrationStats {
  format: typeof STATS_FORMAT;
  version: typeof STATS_VERSION;
  /** sha256 (hex) of the float model's bytes as given to calibrate(). */
  model: { sha256: string };
  /** The options that shape the statistics (statsOptions()); quantize() must be given the same. */
  options: Record<string, unknown>;
  /** The shards these statistics cover: {index, count} each (one run: [{ index: 0, count: 1 }]). */
  shards: { index: number; count: number }[];
  /** Samples observed. */
  samples: number;
  /**
   * Samples in the whole list the shards split (after calibrationSamples / --samples), when known:
   * shards must agree on it, and all of them together must have observed exactly that many.
   */
  listLength?: number;
  /** Observer state per calibrated tensor. */
  tensors: Record<string, ObserverState>;
  /** Bias-correction probe sums per layer (by the layer's output name). */
  biasProbes: Record<string, ProbeStats>;
  /** Work quantize() must still do on data (e.g. 'bias-correction after single-shift'): it then needs calibration too. */
  needsData: string[];
}

/**
 * Options that act only after the statistics (on ranges, checks, metadata): they may differ
 * between calibrate and quantize. Everything else (weights, passes, the plan, the observer's
 * state kind and bins) shapes what is observed and must match. Activation bit widths are among
 * the former: a 16-bit tensor takes its observed [min, max] from the same observer state, and the
 * bias-correction probes use the weights' bits only (so the mixed-precision search can try int16
 * sets from one calibration).
 */
const AFTER_STATS: readonly (keyof QuantizeOptions)[] = [
  'clipGraphIO',
  'requantMode',
  'strictInteger',
  'allowNonFinite',
  'activationBits',
  'activation16',
];

/**
 * The options a statistics file is tied to. The observer enters as the state it keeps
 * ('minmax', or 'histogram' with its bins), so percentile, mse and kl (same bins) share one file:
 * the clip is chosen at quantize time.
 */
export function statsOptions(opts: QuantizeOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if ((AFTER_STATS as readonly string[]).includes(k) || k === 'observer' || k === 'observerOptions') continue;
    out[k] = v;
  }
  out.statistics =
    opts.observer === 'minmax'
      ? 'minmax'
      : opts.observer === 'moving-average'
        ? 'moving-average'
        : `histogram:${opts.observerOptions.bins ?? (opts.observer === 'kl' ? 4096 : 2048)}`;
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Canonical JSON (sorted keys) for comparing option objects. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The first option that differs, as a message fragment, or undefined. */
function optionDiff(a: Record<string, unknown>, b: Record<string, unknown>): string | undefined {
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (canon(a[k]) !== canon(b[k])) {
      if (k === 'statistics') return `the observer statistics differ: ${String(a[k])} vs ${String(b[k])} (observer / observerOptions.bins)`;
      return `option '${k}' differs: ${canon(a[k]) ?? 'unset'} vs ${canon(b[k]) ?? 'unset'}`;
    }
  }
  return undefined;
}

export function observersToStats(observers: Map<string, Observer>): Record<string, ObserverState> {
  const out: Record<string, ObserverState> = {};
  for (const [t, o] of observers) out[t] = o.state();
  return out;
}

/** Reads and checks a statistics file; every error names the file. */
export function loadStats(path: string): CalibrationStats {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OnnxPtqError('IO_ERROR', `cannot read statistics file '${path}': ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OnnxPtqError('INVALID_STATS', `statistics file '${path}' is not valid JSON (truncated?): ${(e as Error).message}`);
  }
  return checkStats(v, `statistics file '${path}'`);
}

/** Checks the shape of a statistics object (from a file or the API); `what` names it in errors. */
export function checkStats(v: unknown, what: string): CalibrationStats {
  const bad = (why: string): never => {
    throw new OnnxPtqError('INVALID_STATS', `${what}: ${why}`);
  };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('is not a JSON object');
  const s = v as Record<string, unknown>;
  if (s.format !== STATS_FORMAT)
    bad(`is not an onnx-ptq calibration statistics file (its "format" is ${JSON.stringify(s.format)}, expected "${STATS_FORMAT}")`);
  if (s.version !== STATS_VERSION)
    bad(`has format version ${JSON.stringify(s.version)}; this onnx-ptq reads version ${STATS_VERSION} (recalibrate with this version)`);
  const m = s.model as Record<string, unknown> | undefined;
  if (!m || typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) bad('has no model.sha256');
  if (!s.options || typeof s.options !== 'object' || Array.isArray(s.options)) bad('has no options object');
  if (!Array.isArray(s.shards) || s.shards.length === 0) bad('has no shards list');
  for (const sh of s.shards as unknown[]) {
    const x = sh as Record<string, unknown>;
    if (
      !x ||
      !Number.isInteger(x.count) ||
      !Number.isInteger(x.index) ||
      (x.count as number) < 1 ||
      (x.index as number) < 0 ||
      (x.index as number) >= (x.count as number)
    )
      bad(`has a bad shard entry ${JSON.stringify(sh)} (want { index, count } with 0 <= index < count)`);
  }
  if (!Number.isInteger(s.samples) || (s.samples as number) < 0) bad('has no sample count');
  if (s.listLength !== undefined && (!Number.isInteger(s.listLength) || (s.listLength as number) < 0))
    bad(`has a bad listLength ${JSON.stringify(s.listLength)}`);
  if (!s.tensors || typeof s.tensors !== 'object' || Array.isArray(s.tensors)) bad('has no tensors object');
  if (!s.biasProbes || typeof s.biasProbes !== 'object' || Array.isArray(s.biasProbes)) bad('has no biasProbes object');
  for (const [name, p] of Object.entries(s.biasProbes as Record<string, unknown>)) {
    const q = p as Record<string, unknown>;
    if (!q || !Number.isInteger(q.count) || !Array.isArray(q.sums) || q.sums.some((x) => ExactSum.parse(x) === undefined))
      bad(`bias probe '${name}' is malformed (want { count, sums: ["<hex>*2^<exp>", ...] })`);
  }
  if (!Array.isArray(s.needsData) || s.needsData.some((x) => typeof x !== 'string')) bad('has no needsData list');
  return s as unknown as CalibrationStats;
}

export function saveStats(stats: CalibrationStats, path: string): void {
  writeFileAtomic(path, `${JSON.stringify(stats)}\n`);
}

/**
 * Merges statistics of one model and one set of options (shards, or any partition of the data):
 * the result is exactly the statistics of one pass over the union. `names` name the inputs in
 * errors (file names from the CLI).
 */
export function mergeStats(list: readonly CalibrationStats[], names: readonly string[] = []): CalibrationStats {
  if (list.length === 0) throw new OnnxPtqError('INVALID_ARGUMENT', 'mergeStats: no statistics to merge');
  const name = (i: number) => names[i] ?? `statistics #${i}`;
  list.forEach((s, i) => checkStats(s, name(i)));
  const first = list[0]!;
  const seen = new Map<string, number>();
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    if (s.model.sha256 !== first.model.sha256)
      throw new OnnxPtqError(
        'STATS_MISMATCH',
        `${name(i)} was computed on another model (sha256 ${s.model.sha256.slice(0, 12)}...) than ${name(0)} (${first.model.sha256.slice(0, 12)}...)`,
      );
    const d = optionDiff(first.options, s.options);
    if (d) throw new OnnxPtqError('STATS_MISMATCH', `${name(i)} and ${name(0)} were computed with other options: ${d}`);
    for (const sh of s.shards) {
      if (sh.count !== first.shards[0]!.count)
        throw new OnnxPtqError(
          'STATS_MISMATCH',
          `${name(i)} is shard ${sh.index}/${sh.count} but ${name(0)} is of a split into ${first.shards[0]!.count} shards`,
        );
      const k = `${sh.index}`;
      if (seen.has(k))
        throw new OnnxPtqError(
          'STATS_MISMATCH',
          `shard ${sh.index}/${sh.count} is given twice (${name(seen.get(k)!)} and ${name(i)}): its samples would count twice`,
        );
      seen.set(k, i);
    }
    if (s.listLength !== undefined && first.listLength !== undefined && s.listLength !== first.listLength)
      throw new OnnxPtqError(
        'STATS_MISMATCH',
        `${name(i)} is a shard of a list of ${s.listLength} samples, ${name(0)} of ${first.listLength} (other data or --samples)`,
      );
    const keys = Object.keys(s.tensors).sort().join('\n');
    if (keys !== Object.keys(first.tensors).sort().join('\n'))
      throw new OnnxPtqError('STATS_MISMATCH', `${name(i)} and ${name(0)} observe different tensors (another plan of the model)`);
  }
  // Observers are rebuilt from their states and merged; the kind only needs to keep the same state.
  const kindOf = (st: ObserverState) => (st.kind === 'minmax' ? 'minmax' : 'mse');
  const tensors: Record<string, ObserverState> = {};
  for (const t of Object.keys(first.tensors)) {
    let acc: Observer | undefined;
    list.forEach((s, i) => {
      const st = s.tensors[t] as ObserverState | undefined;
      if (!st || typeof st !== 'object') throw new OnnxPtqError('INVALID_STATS', `${name(i)}: tensor '${t}' has no observer state`);
      if (st.kind === 'histogram' && !(Number.isInteger(st.bins) && st.bins >= 16 && st.bins <= 1 << 20 && st.bins % 2 === 0))
        throw new OnnxPtqError('INVALID_STATS', `${name(i)}: tensor '${t}' has a histogram of ${JSON.stringify(st.bins)} bins`);
      const o = observerFromState(kindOf(st), st.kind === 'histogram' ? { bins: st.bins } : {}, st, `${name(i)}: tensor '${t}'`);
      if (!acc) acc = o;
      else {
        try {
          acc.merge(o);
        } catch (e) {
          if (e instanceof OnnxPtqError) throw new OnnxPtqError(e.code, `${name(i)}: tensor '${t}': ${e.message}`, { cause: e });
          throw e;
        }
      }
    });
    tensors[t] = acc!.state();
  }
  const biasProbes: Record<string, ProbeStats> = {};
  for (const [layer, p0] of Object.entries(first.biasProbes)) {
    const sums = p0.sums.map(() => new ExactSum());
    let count = 0;
    list.forEach((s, i) => {
      const p = s.biasProbes[layer];
      if (!p || p.sums.length !== sums.length)
        throw new OnnxPtqError('STATS_MISMATCH', `${name(i)}: bias probe '${layer}' is missing or has another channel count`);
      p.sums.forEach((x, c) => sums[c]!.addSum(ExactSum.parse(x)!));
      count += p.count;
    });
    biasProbes[layer] = { count, sums: sums.map(String) };
  }
  return {
    format: STATS_FORMAT,
    version: STATS_VERSION,
    model: { sha256: first.model.sha256 },
    options: first.options,
    shards: list.flatMap((s) => s.shards).sort((a, b) => a.index - b.index),
    samples: list.reduce((a, s) => a + s.samples, 0),
    ...(list.every((s) => s.listLength !== undefined) ? { listLength: first.listLength } : {}),
    tensors,
    biasProbes,
    needsData: first.needsData,
  };
}

/**
 * Checks that statistics belong to this model and these options and cover every shard; `what`
 * names them in errors.
 */
export function checkStatsFor(stats: CalibrationStats, modelSha256: string, opts: QuantizeOptions, what: string): void {
  if (stats.model.sha256 !== modelSha256)
    throw new OnnxPtqError(
      'STATS_MISMATCH',
      `${what} was computed on another model: its model sha256 is ${stats.model.sha256.slice(0, 16)}..., this model's is ${modelSha256.slice(0, 16)}...`,
    );
  const d = optionDiff(stats.options, statsOptions(opts));
  if (d) throw new OnnxPtqError('STATS_MISMATCH', `${what} was computed with other options than this run (${d}; first: the file)`);
  const n = stats.shards[0]!.count;
  const have = new Set(stats.shards.map((s) => s.index));
  const missing = [...Array(n).keys()].filter((k) => !have.has(k));
  if (missing.length)
    throw new OnnxPtqError(
      'STATS_MISMATCH',
      `${what} covers ${have.size} of ${n} shards: shard${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${n}`).join(', ')} missing`,
    );
  if (stats.listLength !== undefined && stats.samples !== stats.listLength)
    throw new OnnxPtqError(
      'STATS_MISMATCH',
      `${what} observed ${stats.samples} samples of a list of ${stats.listLength}: a shard saw other data than the others`,
    );
}
