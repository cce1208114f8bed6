/**
 * Calibration: run the float model over the data and let one observer per tensor see every value
 * the tensor takes, and bias correction's probes sum their outputs. Memory is the observers'
 * (histograms), not the data's: samples are streamed.
 *
 * With `workers` > 1, worker threads (calibrate-worker.ts, started by calibrate-workers.ts), each
 * holding its own float session built from the model's bytes and its own observers, take samples
 * beside this thread; their states are merged into this thread's at the end. Observers and probe
 * sums merge exactly (observers/index.ts, bias-correction.ts), so the result does not depend on the
 * number of threads or on which thread saw which sample.
 */
import { availableParallelism } from 'node:os';
import { InferenceSession } from '../runtime/session.js';
import type { Model } from '../ir/graph.js';
import { Tensor } from '../tensor.js';
import { OnnxPtqError } from '../errors.js';
import {
  createObserver,
  observerFromState,
  type Observer,
  type ObserverKind,
  type ObserverOptions,
  type ObserverState,
} from '../quant/observers/index.js';
import { modelToBytes } from '../onnx/io.js';
import { EXACT_SUM_WORDS, ExactSum } from '../util/exact-sum.js';
import type { WireError, WireTensor } from '../runtime/worker/protocol.js';
import { getBackend } from '../backends/registry.js';
import { CalibrationWorkers } from './calibrate-workers.js';
import type { ProbeStats } from './stats.js';
import { convProbeCount, convProbeKernel, inputProbeSums, type InputProbe } from './bias-correction.js';
import { scanInto, scanLong, scansOnKernel, statsKernelsOf, type StatsKernels } from '../backends/stats-kernels.js';
import type { TapKernels } from '../runtime/float-replay.js';

export type Feeds = Record<string, Tensor>;
export type CalibrationData = Iterable<Feeds> | AsyncIterable<Feeds>;

/**
 * A bias-correction probe as calibration sees it: summed from its layer's input (`fromInput`), or
 * an extra node output `output` summed per channel.
 */
export interface ProbeSpec {
  /** The probe's key (its node output when it has a node). */
  output: string;
  /** Channel axis of the probe output (negative: from the end). */
  axis: number;
  channels: number;
  fromInput?: InputProbe;
}

/** What to observe: plain data, so that it crosses to worker threads. */
export interface CollectConfig {
  tensors: string[];
  observer: ObserverKind;
  observerOptions: ObserverOptions;
  probes: ProbeSpec[];
  allowNonFinite: boolean;
  /** More values to compute per sample, for RunCalibrationOptions.onSample (equalization's ranges). */
  extra?: string[];
}

export interface ProbeSums {
  axis: number;
  sum: ExactSum[];
  count: number;
}

export interface CalibrationResult {
  observers: Map<string, Observer>;
  /** Per probe output: exact per-channel sums and the number of terms per channel. */
  probes: Map<string, ProbeSums>;
  samples: number;
  seconds: number;
  workers: number;
}

// The progress reporter lives in util/ (the CLI sets --quiet without loading the engine); re-exported here.
export { progress, setProgressEnabled } from '../util/progress.js';
import { progress } from '../util/progress.js';
import { firstNonFinite } from '../util/finite.js';

/** One thread's observers and probe sums over the samples it is handed. */
export class Collector {
  readonly observers: Map<string, Observer>;
  private readonly sums: Map<string, ProbeSums>;
  samples = 0;
  private readonly inputs: Set<string>;
  /** Observed tensors, probe outputs and probed layers' inputs (other than graph inputs), tapped during each run. */
  private readonly tapped: string[];
  private readonly extra: string[];
  /** Probes summed from a layer input, by that input. */
  private readonly byInput = new Map<string, ProbeSpec[]>();
  /**
   * Work on each tapped value that runs right after its layer (the scan every observer takes, the
   * Conv probes' sums) into the arrays below, recorded into the session's native replay with the
   * layer: see() and probeInput() then read results instead of calling kernels on values long out
   * of cache. Scans and conv sums land in `scans` / `convSums` (one array each, for the collector's
   * life: a replay writes them on every run).
   */
  private readonly tapKernels: TapKernels | undefined;
  /** The stats kernels the tap kernels call: the session's backend's, or none (statsKernelsOf). */
  private readonly k: StatsKernels | null;
  private readonly scans = new Map<string, Float64Array>();
  private readonly convSums = new Map<ProbeSpec, Float64Array>();
  /**
   * Where the native backend adds those sums exactly, in the replay too (exactSumAddF64: ~6 ns a
   * term, its 544-byte accumulators missing cache, against ~25 for ExactSum.add); moved into
   * `sums` by flushing. Every run with the TapKernels adds (warm() takes its run back out). Absent
   * on other backends: ExactSum.add takes the sums there (the same values: both are exact).
   */
  private readonly convAcc = new Map<ProbeSpec, BigInt64Array>();
  private static ids = 0;

  constructor(
    private readonly session: InferenceSession,
    private readonly cfg: CollectConfig,
  ) {
    this.observers = new Map(cfg.tensors.map((t) => [t, createObserver(cfg.observer, cfg.observerOptions)]));
    this.sums = new Map(
      cfg.probes.map((p) => [p.output, { axis: p.axis, sum: Array.from({ length: p.channels }, () => new ExactSum()), count: 0 }]),
    );
    this.inputs = new Set(session.inputNames);
    for (const p of cfg.probes) if (p.fromInput) this.byInput.set(p.fromInput.input, [...(this.byInput.get(p.fromInput.input) ?? []), p]);
    const reads = [...cfg.tensors, ...this.byInput.keys()].filter((t) => !this.inputs.has(t));
    this.tapped = [...new Set([...reads, ...cfg.probes.filter((p) => !p.fromInput).map((p) => p.output)])];
    this.extra = cfg.extra ?? [];
    // Decided once: a replay repeats what the recording called, whatever the stats kernels are later.
    this.k = statsKernelsOf(session.backendName);
    if (this.k) {
      for (const t of this.tapped) if (this.observers.has(t)) this.scans.set(t, new Float64Array(4));
      for (const p of cfg.probes) {
        if (p.fromInput?.op !== 'Conv') continue;
        this.convSums.set(p, new Float64Array(p.channels));
        if (this.k.exactSumAddF64) this.convAcc.set(p, new BigInt64Array(p.channels * EXACT_SUM_WORDS));
      }
      this.tapKernels = { id: ++Collector.ids, run: (name, v) => this.runTapKernels(name, v) };
    }
  }

  /** The TapKernels of a tapped value: what they compute depends on its dtype and dims only. */
  private runTapKernels(name: string, v: Tensor): void {
    const k = this.k;
    const scan = this.scans.get(name);
    if (scan) scanInto(v.data as ArrayLike<number>, scan, k);
    for (const spec of this.byInput.get(name) ?? []) {
      const sums = this.convSums.get(spec);
      const acc = this.convAcc.get(spec);
      if (sums && convProbeKernel(spec.fromInput!, v, sums, k) && acc) k!.exactSumAddF64!(sums, acc);
    }
  }

  /** Per probe output: its exact per-channel sums so far and the number of terms per channel. */
  get probes(): Map<string, ProbeSums> {
    for (const [spec, acc] of this.convAcc) {
      const sum = this.sums.get(spec.output)!.sum;
      for (let c = 0; c < sum.length; c++) sum[c]!.addSum(ExactSum.fromWords(acc, c));
      acc.fill(0n);
    }
    return this.sums;
  }

  /**
   * Observes one sample; `n` is its index in the whole data, for messages. Observed tensors and
   * probes are tapped as the run computes them (InferenceSession.runTapped), so that their buffers
   * are recycled within the run; returns only the `extra` values, which are fetched.
   */
  observe(feeds: Feeds, n: number): Record<string, Tensor> {
    const allow = this.cfg.allowNonFinite;
    if (feeds === null || typeof feeds !== 'object')
      throw new OnnxPtqError('INVALID_DATA', `calibration: sample ${n} is not a feeds object ({ [inputName]: Tensor })`);
    if (!allow) {
      for (const [name, t] of Object.entries(feeds)) nonFinite(t instanceof Tensor ? t.data : undefined, `input '${name}'`, n);
    }
    // Graph inputs are not tapped: their scans and sums are taken here.
    for (const t of this.inputs) {
      const o = this.observers.get(t);
      if (o) this.see(t, o, feeds[t], n, false);
      if (this.byInput.has(t)) this.probeInput(t, feeds[t], n, false);
    }
    const tapped = this.tapKernels !== undefined;
    const outs = this.session.runTapped(
      feeds,
      this.tapped,
      (name, v) => {
        const o = this.observers.get(name);
        if (o) this.see(name, o, v, n, tapped);
        if (this.byInput.has(name)) this.probeInput(name, v, n, tapped);
        const p = this.sums.get(name);
        if (p) {
          // An observed value was checked by see() just now.
          if (!allow && !o) nonFinite(v.data, `bias probe '${name}'`, n);
          accumulateSums(p, v);
        }
      },
      this.extra,
      this.tapKernels,
    );
    this.samples++;
    return outs;
  }

  /**
   * Runs a sample once without observing it: the session builds its plan (folds, shapes, the JIT's
   * first pass) for the runs observe() makes; the first of those records the native replay
   * (float-replay.ts). One run, not two: on PP-OCRv4 det a second one cost ~0.1 s of a worker's
   * time and gained nothing measurable (2 threads, 16 pages: 1.89 s with one warm-up run, 2.03 s
   * with two, 1.92 s with none; the classifier, 1,024 lines: 1.27, 1.30, 1.32 s).
   */
  warm(feeds: Feeds): void {
    this.session.runTapped(feeds, this.tapped, () => {}, this.extra, this.tapKernels);
    // The TapKernels' exact adds ran on it: not observed, so taken back out.
    for (const acc of this.convAcc.values()) acc.fill(0n);
  }

  /** Adds one sample's sums to the probes summed from layer input `t` (`tapped`: its TapKernels ran). */
  private probeInput(t: string, v: unknown, n: number, tapped: boolean): void {
    if (!(v instanceof Tensor)) throw new OnnxPtqError('INVALID_DATA', `calibration: tensor '${t}' is missing in sample ${n}`);
    const checked = this.observers.has(t) || this.inputs.has(t);
    for (const spec of this.byInput.get(t)!) {
      const pre = tapped ? this.convSums.get(spec) : undefined;
      const preCount = pre && convProbeCount(spec.fromInput!, v, this.k);
      const onKernel = pre && preCount !== undefined;
      const { sums, count } = onKernel ? { sums: pre, count: preCount } : inputProbeSums(spec.fromInput!, v);
      // Sums of finite float32 values cannot overflow a double: an input observed here (or a feed)
      // was checked already, so only an unobserved one is (a channel loop per probe and sample).
      if (!this.cfg.allowNonFinite && !checked) nonFinite(sums, `bias probe '${spec.output}'`, n);
      // Added already, by the kernel after the probe's (runTapKernels), when there is an accumulator.
      const p = this.sums.get(spec.output)!;
      if (!(onKernel && this.convAcc.has(spec))) for (let c = 0; c < p.sum.length && c < sums.length; c++) p.sum[c]!.add(sums[c]!);
      p.count += count;
    }
  }

  /** Observes tensor `t` (`tapped`: its TapKernels ran). */
  private see(t: string, o: Observer, v: unknown, n: number, tapped: boolean): void {
    if (!(v instanceof Tensor) || !(v.data instanceof Float32Array)) {
      throw new OnnxPtqError('INVALID_DATA', `calibration: tensor '${t}' is not float32 in sample ${n}`);
    }
    // A finite sample can still overflow to infinity inside the model: the observed tensor is checked
    // too, from the same scan the observer takes (the TapKernels' when it ran there).
    const pre = tapped ? this.scans.get(t) : undefined;
    const scanned = pre && scansOnKernel(v.data, this.k) ? pre : scanLong(v.data);
    if (!this.cfg.allowNonFinite) nonFinite(v.data, `tensor '${t}'`, n, scanned);
    try {
      o.observe(v.data, scanned);
    } catch (e) {
      // Name the tensor and sample: a NaN deep in the model is otherwise impossible to place.
      if (e instanceof OnnxPtqError)
        throw new OnnxPtqError(e.code, `calibration: tensor '${t}' in sample ${n}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** Frees the session's plans (its arena): observers and sums stay. */
  async release(): Promise<void> {
    await this.session.release();
  }

  /** Plain state for the wire (worker -> main). */
  state(): WorkerStats {
    const tensors: Record<string, ObserverState> = {};
    for (const [t, o] of this.observers) tensors[t] = o.state();
    const probes: Record<string, ProbeStats> = {};
    for (const [out, p] of this.probes) probes[out] = { count: p.count, sums: p.sum.map(String) };
    return { tensors, probes, samples: this.samples };
  }
}

export interface WorkerStats {
  tensors: Record<string, ObserverState>;
  probes: Record<string, ProbeStats>;
  samples: number;
}

/**
 * Per-channel sums of one sample: float64 in the tensor's order (the same on every thread), then
 * added exactly, so any split of the samples gives the same sums.
 */
export function accumulateSums(p: ProbeSums, t: Tensor): void {
  const d = t.data as Float32Array;
  const dims = t.dims;
  const axis = p.axis < 0 ? dims.length - 1 : p.axis;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const ch = dims[axis];
  const s = new Float64Array(ch);
  // Channel by channel over contiguous runs: each channel's terms are added in index order, as a
  // flat loop over i would add them.
  for (let i = 0; i < d.length; )
    for (let c = 0; c < ch; c++) {
      let acc = s[c];
      for (const end = i + inner; i < end; i++) acc += d[i];
      s[c] = acc;
    }
  for (let c = 0; c < ch && c < p.sum.length; c++) p.sum[c].add(s[c]);
  p.count += d.length / ch;
}

export interface RunCalibrationOptions {
  maxSamples?: number;
  /** Number of samples, for progress only. */
  total?: number;
  /**
   * Threads that calibrate: this one and `workers - 1` worker threads. Default 1. This thread takes
   * a sample whenever no worker is ready with room, so the workers' start-up (a module and a model
   * load each) costs no time.
   */
  workers?: number;
  /**
   * Start the worker threads only once the run proves long (a worker costs a model load and, under
   * tsx, seconds of module loading, which short calibrations never win back). The result is the same
   * either way.
   */
  autoWorkers?: boolean;
  /** Called with each sample's computed values (this thread only: workers must be 1). */
  onSample?: (values: Record<string, Tensor>) => void;
  /** Progress label. Default 'calibrating'. */
  label?: string;
  /**
   * Worker threads started before the model was ready (startCalibrationWorkers, with the same
   * `workers`): used instead of starting new ones, or stopped when this run has no use for them.
   */
  started?: CalibrationWorkers;
}

/**
 * autoWorkers: start the workers after this long on one thread, when the rest is expected to take
 * at least `rest`. ONNX_PTQ_TEST_AUTO_WORKERS_MS sets both (tests: 0 starts them after the first sample).
 */
const autoMs = () => {
  const t = Number(process.env.ONNX_PTQ_TEST_AUTO_WORKERS_MS);
  return Number.isFinite(t) && process.env.ONNX_PTQ_TEST_AUTO_WORKERS_MS !== '' && process.env.ONNX_PTQ_TEST_AUTO_WORKERS_MS !== undefined
    ? { after: t, rest: t }
    : { after: 1500, rest: 3000 };
};

/** Tests only: this thread hands every sample to `workers` worker threads (the worker paths, whatever the timing). */
const workersOnly = () => process.env.ONNX_PTQ_TEST_CALIBRATION_WORKERS_ONLY === '1';

/** One turn of the event loop: worker messages ('ready', 'done') are delivered in it. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runCalibration(
  model: Model,
  cfg: CollectConfig,
  data: CalibrationData,
  opts: RunCalibrationOptions = {},
): Promise<CalibrationResult> {
  const t0 = performance.now();
  const workers = opts.workers ?? 1;
  const total = opts.maxSamples && opts.total ? Math.min(opts.maxSamples, opts.total) : opts.maxSamples || opts.total;
  let it: ReturnType<typeof iteratorOf>;
  try {
    if (!Number.isInteger(workers) || workers < 1 || workers > 256)
      throw new OnnxPtqError('INVALID_OPTION', `workers must be an integer in [1, 256], got ${String(workers)}`);
    if (workers > 1 && cfg.observer === 'moving-average')
      throw new OnnxPtqError(
        'STATS_MISMATCH',
        `workers: ${workers}: the moving-average observer depends on the order of the samples and cannot be split across workers; use workers: 1 or an order-free observer (minmax, percentile, mse, kl)`,
      );
    it = iteratorOf(data);
  } catch (e) {
    // Workers started early (opts.started) are stopped when the run fails before it takes them.
    opts.started?.terminate();
    throw e;
  }
  const bar = progress(opts.label ?? 'calibrating', total);
  const parallel = workers > 1 && !opts.onSample;
  const only = parallel && workersOnly();
  const auto = autoMs();
  let c: Collector | undefined;
  let group: CalibrationWorkers | undefined;
  let used = 1;
  let done = 0;
  let backend: { getThreads?: () => number; setThreads?: (n: number) => void } = {};
  const threads = threadsPer(workers);
  let restoreThreads: number | undefined;
  let started = opts.started;
  const start = () => {
    const count = workerThreads(workers, only);
    if (started && (started.count !== count || started.threads !== threads)) started.terminate();
    else group = started;
    started = undefined;
    group ??= new CalibrationWorkers(count, threads, workerLabel(count));
    group.load(modelToBytes(model), cfg, () => bar.tick(++done));
    used = workers;
    shareCores();
  };
  // Once there are workers and this thread's backend is known.
  const shareCores = () => {
    if (!group || restoreThreads !== undefined || !backend.getThreads || !backend.setThreads) return;
    restoreThreads = backend.getThreads();
    backend.setThreads(threads);
  };
  let warmed = false;
  let n = 0;
  let stats: WorkerStats[] = [];
  try {
    // Workers start now, while this thread builds its own session (start-up overlapped: ~0.4 s to
    // ready on PaddleOCR cls, about half of it module loading), and warm up on the first sample.
    if (parallel && !opts.autoWorkers) start();
    // Started early for a run that turned out not to want them now (auto workers start later, if at all).
    started?.terminate();
    started = undefined;
    const session = await InferenceSession.create(model, { allowNonFinite: cfg.allowNonFinite, runInWorker: false });
    c = new Collector(session, cfg);
    backend = getBackend(session.backendName) as typeof backend;
    shareCores();
    // Time per sample from here: the session's creation is not a cost the workers would save.
    const ts = performance.now();
    for (;;) {
      if (opts.maxSamples && n >= opts.maxSamples) break;
      const next = await it.next();
      if (next.done) break;
      // The workers warm up on the first sample while this thread observes it.
      if (group && !warmed) {
        group.warm(next.value);
        warmed = true;
      }
      if (group) {
        const w = only ? await group.waitFree() : group.free();
        if (w) {
          group.send(w, next.value, n++);
          continue;
        }
      }
      const outs = c.observe(next.value, n++);
      opts.onSample?.(outs);
      bar.tick(++done);
      if (group) await turn();
      else if (parallel && opts.autoWorkers) {
        const ms = performance.now() - ts;
        const rest = total !== undefined ? ((total - n) * ms) / n : Infinity;
        if (ms >= auto.after && rest >= auto.rest && rest > 0) {
          start();
          group!.warm(next.value);
          warmed = true;
        }
      }
    }
    if (group) {
      // The samples still queued behind a worker's running one: this thread would only wait for
      // them (PP-OCRv4 det, 16 pages: 0.04-0.29 s of a 1.6-2.2 s run), so it takes them back.
      if (!only)
        for (const s of group.takeBack()) {
          c.observe(s.feeds, s.n);
          bar.tick(++done);
        }
      stats = await group.finish();
    }
  } finally {
    bar.end();
    started?.terminate();
    group?.terminate();
    if (restoreThreads !== undefined) backend.setThreads!(restoreThreads);
    await c?.release();
    // A generator stopped early (maxSamples, an error) gets to clean up.
    try {
      await it.return?.();
    } catch {
      // the data source's own cleanup failing must not hide the calibration's result or error
    }
  }
  // Merge: order-free states, so which thread saw which sample does not matter.
  for (const s of stats) {
    if (s.samples === 0) continue;
    for (const [t, o] of c.observers)
      o.merge(observerFromState(cfg.observer, cfg.observerOptions, s.tensors[t], `calibration worker: tensor '${t}'`));
    for (const [out, p] of c.probes) {
      const q = s.probes[out]!;
      q.sums.forEach((x, i) => p.sum[i]!.addSum(ExactSum.parse(x)!));
      p.count += q.count;
    }
  }
  const samples = c.samples + stats.reduce((a, s) => a + s.samples, 0);
  if (samples === 0) throw new OnnxPtqError('INVALID_DATA', 'calibration data is empty: at least one sample is needed');
  return { observers: c.observers, probes: c.probes, samples, seconds: (performance.now() - t0) / 1000, workers: used };
}

/** Worker threads of a run with `workers` threads: all but this one (all of them in the workers-only test mode). */
const workerThreads = (workers: number, only: boolean) => (only ? workers : workers - 1);
const workerLabel = (count: number) => (id: number) => `calibration worker ${id + 1} of ${count}`;
/** Kernel threads per calibrating thread: the cores shared out (n pools of every core would oversubscribe n-fold). */
const threadsPer = (workers: number) => Math.max(1, Math.floor(availableParallelism() / workers));

/**
 * Starts the worker threads of a run with `workers` threads (explicit, not auto) before its model is
 * ready, so that their module loading overlaps the model's preparation (PP-OCRv4 det: ~0.1 s);
 * runCalibration takes them through RunCalibrationOptions.started. Undefined when the run has none.
 * The caller stops them (terminate) if it fails before calibrating.
 */
export function startCalibrationWorkers(workers: number): CalibrationWorkers | undefined {
  if (!Number.isInteger(workers) || workers < 2 || workers > 256) return undefined;
  const count = workerThreads(workers, workersOnly());
  return new CalibrationWorkers(count, threadsPer(workers), workerLabel(count));
}

/** One iterator over sync or async data, advanced by hand: a for-await that breaks would close it (and a generator with it). */
function iteratorOf(data: CalibrationData): AsyncIterator<Feeds> | Iterator<Feeds> {
  const d = data as Partial<AsyncIterable<Feeds> & Iterable<Feeds>>;
  if (d && typeof d[Symbol.asyncIterator] === 'function') return d[Symbol.asyncIterator]!();
  if (d && typeof d[Symbol.iterator] === 'function') return d[Symbol.iterator]!();
  throw new OnnxPtqError('INVALID_DATA', 'calibration data must be an iterable (or async iterable) of feeds');
}

/** What a calibration worker is started with (workerData); its model comes by message ('init'). */
export interface CalibrationWorkerInit {
  /** Kernel threads for the worker's own pool (each JS thread has one, sized to every core by default). */
  threads: number;
  /**
   * Who takes each sample sent (calibrate-workers.ts, shared with this thread): slot `seq % SAMPLE_SLOTS`
   * of the worker's `seq`-th sample is 0 while queued, then 1 when the worker starts it or 2 when the
   * calling thread took it back; a compare-and-exchange decides, so exactly one thread observes it.
   */
  slots: SharedArrayBuffer;
}

/** Slots of CalibrationWorkerInit.slots: more than the samples a worker has in flight. */
export const SAMPLE_SLOTS = 4;
export type ToCalibrationWorker =
  /** The model to calibrate (after passes and probes) and what to observe: the worker builds its session. */
  | { type: 'init'; model: Uint8Array; cfg: CollectConfig }
  /**
   * A sample to warm up on before the worker says it is ready (Collector.warm: its plan built,
   * nothing observed), so that a ready worker's first samples are not its slowest; no feeds when the
   * sample is not a feeds object (this thread reports that).
   */
  | { type: 'warm'; feeds?: Record<string, WireTensor> }
  /** Sample `n`, the `seq`-th sent to this worker: observed unless the calling thread took it back (slots). */
  | { type: 'sample'; n: number; seq: number; feeds: Record<string, WireTensor> }
  | { type: 'finish' }
  /** Exit: the run ended before this worker was ready (it has no sample). */
  | { type: 'stop' };
export type FromCalibrationWorker =
  | { type: 'ready' }
  /** Sample `n` observed, or (`skipped`) taken back by the calling thread before the worker started it. */
  | { type: 'done'; n: number; skipped?: boolean }
  | { type: 'stats'; stats: WorkerStats }
  | { type: 'error'; error: WireError };

/** The default worker count: the machine's cores. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

function nonFinite(data: unknown, what: string, sample: number, scanned?: Float64Array): void {
  const i = firstNonFinite(data, scanned);
  if (i >= 0) {
    throw new OnnxPtqError(
      'INVALID_DATA',
      `calibration: ${what} in sample ${sample} has a non-finite value (${String((data as Float32Array)[i])} at index ${i}); fix the data or set allowNonFinite`,
    );
  }
}
