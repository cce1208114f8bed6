// The integer-only executor: loads a QDQ (or QOperator) model, lowers it once into a plan of
// integer kernel calls on one backend, and runs it with 8-bit activations between layers.
import { getBackend } from '../../backends/registry.js';
import type { Backend, BackendName, BackendRequest } from '../../backends/types.js';
import { OnnxPtqError, check } from '../../errors.js';
import { nodeLabel, type Model, type ValueInfo } from '../../ir/graph.js';
import { inferAndFold } from '../../ir/infer.js';
import { defaultOps, OpRegistry } from '../../ops/index.js';
import { makeQdqOps } from '../../ops/qdq.js';
import { REQUANT_MODES, type RequantMode } from '../../quant/requant.js';
import { Tensor } from '../../tensor.js';
import { cloneModel } from '../session.js';
import { checkFeeds, type Feed } from '../feeds.js';
import { divisibilityHint } from '../divisibility.js';
import { fillPreallocated, resolveFetches, type FetchesType, type RunOptions } from '../fetches.js';
import { ArrayPool, withArrayPool } from '../array-pool.js';
import { IntKernels } from './kernels.js';
import { Lowering, type LoweringEntry, type Step } from './lower.js';
import { type Plan, RunValues, Tracer } from './plan.js';
import { recordRun } from './native-plan.js';
import { SessionRunner, runnerFinalizer } from '../worker/session-runner.js';
import type { WorkerInit } from '../worker/protocol.js';
import { loadModel, modelToBytes } from '../../onnx/io.js';

/** @deprecated The backend option's type is BackendRequest ('auto' | BackendName); this alias remains for old imports. */
export type IntegerBackendName = BackendRequest;
export type { LoweringEntry } from './lower.js';

export interface IntegerSessionOptions {
  /** Kernel backend (default 'auto': native, then wasm, then js; ONNX_PTQ_BACKEND overrides 'auto'). */
  backend?: BackendRequest;
  /**
   * Requantization rule (DESIGN.md "Arithmetic contract"). Default: the model's metadata_props
   * 'onnx_ptq.requant_mode' when present, else 'fixed-point'.
   */
  requantMode?: RequantMode;
  /**
   * Where `run()` executes (default true): on a worker thread that holds its own copy of the session,
   * so that awaiting it never blocks the event loop (concurrent runs are queued there, in order).
   * false: on the calling thread, as `runSync()` does.
   */
  runInWorker?: boolean;
  /** Largest arena a plan may need, in bytes (default: no limit but memory); a larger one is an INVALID_OPTION error. */
  arenaLimitBytes?: number;
  /** Accept NaN and infinities in float feeds (default false: such a feed is refused with INVALID_INPUT). */
  allowNonFinite?: boolean;
  /**
   * Refuse a model any node of which would run in float (default false: such nodes run on the float
   * engine between a dequantize and a requantize, and loweringReport() says why). true: creation
   * fails with FLOAT_FALLBACK naming the first such node and its reason.
   */
  strictInteger?: boolean;
  /**
   * Native backend: the first run of each input shape records its kernel calls and later runs replay
   * them, one N-API call per stretch of integer steps instead of one call per kernel (default true;
   * the results are the same bits). false: every step calls its kernel, as the wasm and js backends do.
   */
  nativeReplay?: boolean;
  /**
   * Threads for this session's kernels (1..256; native only, where kernels large enough to gain split
   * across them). Default: the backend's setThreads value for the calling JS thread (initially one
   * per core). Results never depend on it.
   */
  threads?: number;
}

const OPTION_KEYS = [
  'backend',
  'requantMode',
  'runInWorker',
  'arenaLimitBytes',
  'allowNonFinite',
  'strictInteger',
  'nativeReplay',
  'threads',
];

/** A feed: a Tensor, a typed array (dims from the model's static input shape), or {data, dims}. */
/** A feed: the same forms as the float session's. */
export type IntegerFeed = Feed;

export const REQUANT_MODE_METADATA_KEY = 'onnx_ptq.requant_mode';
/** Plans kept per session (input-shape signatures); the least recently used goes first. */
const MAX_PLANS = 4;

export class IntegerSession {
  /** The backend the kernels run on (resolved: `backend.name` is never 'auto'). */
  readonly backend: Backend;
  /** `backend.name`: the backend that actually runs, as InferenceSession.backendName. */
  readonly backendName: BackendName;
  readonly requantMode: RequantMode;
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  readonly inputNames: string[];
  readonly outputNames: string[];
  private readonly steps: Step[];
  private readonly entries: LoweringEntry[];
  private readonly initializers: Map<string, Tensor>;
  private readonly lastUse = new Map<string, number>();
  /**
   * Arrays of float steps (fallbacks, dynamic mode's float layers) recycled after their last use,
   * as in the float session: fresh memory costs a page fault per 4 KiB on first touch, and a
   * zeroed array costs a memset (array-pool.ts). Integer steps write into the arena instead.
   */
  private readonly pool = new ArrayPool();
  /** Plans by input-shape signature, most recently used last. */
  private readonly plans = new Map<string, Plan>();
  private readonly outputSet: Set<string>;
  private readonly arenaLimit: number;
  private readonly allowNonFinite: boolean;
  private runner: SessionRunner | undefined;
  private released = false;
  /** Inside divisibilityHint's probe runs (which must not diagnose their own failures). */
  private probing = false;
  private readonly nativeReplay: boolean;
  private readonly threads: number | undefined;

  private constructor(model: Model, opts: IntegerSessionOptions, workerSource?: () => WorkerInit) {
    check(opts && typeof opts === 'object', 'INVALID_OPTION', 'options must be an object');
    for (const k of Object.keys(opts))
      check(OPTION_KEYS.includes(k), 'INVALID_OPTION', () => `unknown IntegerSession option '${k}' (${OPTION_KEYS.join(', ')})`);
    check(opts.runInWorker === undefined || typeof opts.runInWorker === 'boolean', 'INVALID_OPTION', 'runInWorker must be a boolean');
    check(
      opts.arenaLimitBytes === undefined || (typeof opts.arenaLimitBytes === 'number' && opts.arenaLimitBytes >= 0),
      'INVALID_OPTION',
      'arenaLimitBytes must be a number >= 0',
    );
    this.arenaLimit = opts.arenaLimitBytes ?? Infinity;
    check(
      opts.allowNonFinite === undefined || typeof opts.allowNonFinite === 'boolean',
      'INVALID_OPTION',
      'allowNonFinite must be a boolean',
    );
    this.allowNonFinite = opts.allowNonFinite ?? false;
    check(opts.nativeReplay === undefined || typeof opts.nativeReplay === 'boolean', 'INVALID_OPTION', 'nativeReplay must be a boolean');
    this.nativeReplay = opts.nativeReplay ?? true;
    check(
      opts.threads === undefined || (Number.isInteger(opts.threads) && opts.threads >= 1 && opts.threads <= 256),
      'INVALID_OPTION',
      () => `threads must be an integer in [1, 256]; got ${String(opts.threads)}`,
    );
    this.threads = opts.threads;
    const backend = opts.backend ?? 'auto';
    check(
      ['auto', 'native', 'wasm', 'js'].includes(backend),
      'INVALID_OPTION',
      () => `backend must be auto, native, wasm or js; got '${String(backend)}'`,
    );
    const meta = model.metadata?.get(REQUANT_MODE_METADATA_KEY);
    const mode = opts.requantMode ?? (meta as RequantMode | undefined) ?? 'fixed-point';
    check(REQUANT_MODES.includes(mode), 'INVALID_OPTION', () =>
      opts.requantMode === undefined
        ? `metadata_props '${REQUANT_MODE_METADATA_KEY}' is '${String(meta)}'; expected one of ${REQUANT_MODES.join(', ')}`
        : `requantMode must be one of ${REQUANT_MODES.join(', ')}; got '${String(mode)}'`,
    );
    this.requantMode = mode;
    this.backend = getBackend(backend === 'auto' ? undefined : backend);
    this.backendName = this.backend.name;

    model.graph.validate();
    // QDQ nodes must survive constant folding: folding DQ(int8 weights) would turn them into float.
    const registry = new OpRegistry();
    for (const key of defaultOps.list()) {
      const cut = key.lastIndexOf('::');
      const domain = cut >= 0 ? key.slice(0, cut) : '';
      const op = cut >= 0 ? key.slice(cut + 2) : key;
      registry.register(op, defaultOps.get(op, domain)!, domain);
    }
    for (const [op, impl] of Object.entries(makeQdqOps(true))) registry.register(op, { ...impl, foldable: false });
    inferAndFold(model, { fold: true, registry });

    this.inputs = model.graph.runtimeInputs.map((v) => ({ ...v }));
    this.outputs = model.graph.outputs.map((v) => ({ ...v }));
    this.inputNames = this.inputs.map((v) => v.name);
    this.outputNames = this.outputs.map((v) => v.name);
    const lowering = new Lowering(model, { mode, kernels: new IntKernels(this.backend), registry });
    lowering.lower();
    this.steps = lowering.steps;
    this.initializers = model.graph.initializers;
    // Constants no step reads (weights packed or transposed into a step, folded-away float
    // originals a QDQ file still carries) are dropped: the session holds only what runs.
    const read = new Set(this.steps.flatMap((s) => s.inputs));
    for (const k of [...this.initializers.keys()]) if (!read.has(k) && !this.outputNames.includes(k)) this.initializers.delete(k);
    this.entries = model.graph
      .topologicalOrder()
      .map((n) => lowering.report.get(n) ?? { node: n.name || nodeLabel(n), opType: n.opType, execution: 'float', reason: 'not lowered' });
    check(opts.strictInteger === undefined || typeof opts.strictInteger === 'boolean', 'INVALID_OPTION', 'strictInteger must be a boolean');
    const fallback = opts.strictInteger ? this.entries.filter((e) => e.execution === 'float') : [];
    if (fallback.length) {
      const f = fallback[0]!;
      throw new OnnxPtqError(
        'FLOAT_FALLBACK',
        `${f.opType} node '${f.node}' would run in float (${f.reason ?? 'no reason given'})${
          fallback.length > 1
            ? ` (and ${fallback.length - 1} more: ${fallback
                .slice(1, 6)
                .map((e) => e.node)
                .join(', ')}${fallback.length > 6 ? ', ...' : ''})`
            : ''
        }; strictInteger refuses float fallbacks`,
      );
    }
    const keep = new Set(this.outputNames);
    this.outputSet = keep;
    this.steps.forEach((s, i) => s.inputs.forEach((x) => this.lastUse.set(x, i)));
    for (const k of keep) this.lastUse.delete(k);
    if (opts.runInWorker !== false && workerSource) {
      this.runner = new SessionRunner('IntegerSession', workerSource);
    }
  }

  /** Creates a session from a path, ONNX bytes or a loaded Model (which is not modified). */
  static async create(source: string | Uint8Array | Model, opts: IntegerSessionOptions = {}): Promise<IntegerSession> {
    return IntegerSession.createSync(source, opts);
  }

  static createSync(source: string | Uint8Array | Model, opts: IntegerSessionOptions = {}): IntegerSession {
    const fromFile = typeof source === 'string' || source instanceof Uint8Array;
    const model = fromFile ? loadModel(source) : cloneModel(source);
    // The worker builds its own session from the source: a path or bytes as given, a Model as it was
    // at creation (this session folds its own clone), serialized only when the first run() needs it.
    const pristine = fromFile ? undefined : cloneModel(source);
    const workerOpts = {
      backend: opts.backend,
      requantMode: opts.requantMode,
      arenaLimitBytes: opts.arenaLimitBytes,
      allowNonFinite: opts.allowNonFinite,
      strictInteger: opts.strictInteger,
      nativeReplay: opts.nativeReplay,
      threads: opts.threads,
      runInWorker: false,
    };
    const workerSource = (): WorkerInit => ({
      kind: 'integer',
      source: fromFile ? source : modelToBytes(pristine!),
      options: JSON.parse(JSON.stringify(workerOpts)),
    });
    return new IntegerSession(model, opts, workerSource);
  }

  /** For every node, in execution order: integer (and the kernel), float (and why), fused, or a boundary Q/DQ. */
  loweringReport(): LoweringEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /**
   * Runs the model without blocking the event loop (on the session's worker thread unless
   * `runInWorker: false`); the outputs are bit-identical to runSync's. onnxruntime-shaped:
   * `run(feeds)`, `run(feeds, options)`, `run(feeds, ['y'])`, `run(feeds, { y: null }, options)`
   * (src/runtime/fetches.ts); fetches name graph outputs.
   */
  async run(feeds: Record<string, IntegerFeed>, fetches?: FetchesType | RunOptions, options?: RunOptions): Promise<Record<string, Tensor>> {
    this.checkLive();
    const f = this.fetches(fetches, options);
    if (!this.runner) return fillPreallocated(this.pick(this.runAll(feeds), f.names), f.preallocated);
    const out = await this.runner.run(this, checkFeeds(this.inputs, feeds, { allowNonFinite: this.allowNonFinite }));
    return fillPreallocated(this.pick(out, f.names), f.preallocated);
  }

  private fetches(fetches: unknown, options: unknown): ReturnType<typeof resolveFetches> {
    return resolveFetches(fetches, options, this.outputNames, (n) => this.outputSet.has(n));
  }

  private pick(out: Record<string, Tensor>, names: string[] | undefined): Record<string, Tensor> {
    if (!names) return out;
    const r: Record<string, Tensor> = {};
    for (const n of names) r[n] = out[n]!;
    return r;
  }

  /** Frees the session's plans and stops its worker; any later run is an error (onnxruntime's `release()`). */
  async release(): Promise<void> {
    this.released = true;
    for (const p of this.plans.values()) p.release();
    this.plans.clear();
    this.pool.clear();
    runnerFinalizer.unregister(this);
    await this.runner?.release();
  }

  private checkLive(): void {
    check(!this.released, 'INVALID_ARGUMENT', 'IntegerSession was released; create a new session to run');
  }

  /**
   * Runs the plan; outputs come back as the graph declares them (float32 after a graph-output DQ).
   * The first run of an input-shape signature traces the steps and plans the arena; later runs of
   * that signature write every intermediate into the arena and allocate only the outputs.
   */
  runSync(feeds: Record<string, IntegerFeed>, fetches?: FetchesType | RunOptions, options?: RunOptions): Record<string, Tensor> {
    this.checkLive();
    const f = this.fetches(fetches, options);
    return fillPreallocated(this.pick(this.runAll(feeds), f.names), f.preallocated);
  }

  private runAll(feeds: Record<string, IntegerFeed>): Record<string, Tensor> {
    const checked = checkFeeds(this.inputs, feeds, { allowNonFinite: this.allowNonFinite });
    const use = this.threads !== undefined ? this.backend.useThreads?.bind(this.backend) : undefined;
    use?.(this.threads!);
    try {
      return this.runChecked(checked);
    } catch (e) {
      // A shape mismatch with dynamic input dims: say which dims must divide by what (src/runtime/divisibility.ts).
      if (!(e instanceof OnnxPtqError) || e.code !== 'SHAPE_MISMATCH' || this.probing) throw e;
      this.probing = true;
      let hint: string | undefined;
      try {
        hint = divisibilityHint(this.inputs, checked, (f) => {
          try {
            this.runChecked(new Map(Object.entries(f)));
            return true;
          } catch {
            return false;
          }
        });
      } finally {
        this.probing = false;
      }
      if (!hint) throw e;
      throw new OnnxPtqError('SHAPE_MISMATCH', `${e.message}; ${hint}`, { cause: e });
    } finally {
      use?.(0);
    }
  }

  private runChecked(checked: Map<string, Tensor>): Record<string, Tensor> {
    const signature = [...checked.values()].map((t) => `${t.dtype}[${t.dims.join(',')}]`).join(';');
    const plan = this.plans.get(signature);
    if (!plan) {
      const tracer = new Tracer(this.steps, this.outputSet);
      const values = this.execute(checked, undefined, tracer);
      if (this.plans.size >= MAX_PLANS) {
        const oldest = this.plans.keys().next().value!;
        this.plans.get(oldest)!.release();
        this.plans.delete(oldest);
      }
      const be = this.backend;
      this.plans.set(signature, tracer.plan(signature, this.arenaLimit, be.residentArena ? (n) => be.residentArena!(n) : undefined));
      return this.outputsOf(values);
    }
    this.plans.delete(signature); // most recently used last
    this.plans.set(signature, plan);
    // A resident arena (wasm memory) is detached if the memory grows mid-run, and a step may then
    // have read a dead view: run again. prepare() reserves room so that this is rare; the third
    // try runs without the arena.
    for (let attempt = 0; ; attempt++) {
      const p = attempt < 2 ? plan : undefined;
      p?.prepare();
      let values: RunValues;
      try {
        values = this.execute(checked, p);
      } catch (e) {
        if (p?.moved) continue;
        throw e;
      }
      if (p?.moved) continue;
      return this.outputsOf(values, p);
    }
  }

  /** Runs every step over `values` (arena views from `plan`, fresh arrays without one). */
  private execute(feeds: Map<string, Tensor>, plan: Plan | undefined, tracer?: Tracer): RunValues {
    const values = new RunValues(this.initializers, plan?.views, plan && this.backend.allocOutput?.bind(this.backend));
    for (const [k, t] of feeds) values.set(k, t);
    const steps = this.steps;
    const pool = this.pool;
    // After step i: its outputs hold their arrays; inputs read for the last time go (their arrays
    // back to the pool when the pool made them: float steps' outputs, never arena views or feeds).
    const after = (i: number) => {
      const s = steps[i]!;
      for (const o of s.outputs) if (o) pool.ref(values.get(o));
      for (const x of s.inputs)
        if (this.lastUse.get(x) === i) {
          pool.unref(values.get(x));
          values.delete(x);
        }
    };
    try {
      withArrayPool(pool, () => {
        // Native backend, arena in memory of its own: the first planned run records the kernel
        // calls, later runs replay them (native-plan.ts).
        const api = this.backend.nativePlans;
        if (plan && api && !plan.resident && this.nativeReplay) {
          if (plan.replay === undefined) {
            plan.replay = recordRun(api, plan, steps, values, (n) => this.initializers.has(n)) ?? null;
            return;
          }
          if (plan.replay) {
            plan.replay.run(steps, values, after);
            return;
          }
        }
        for (let i = 0; i < steps.length; i++) {
          steps[i]!.run(values);
          tracer?.after(i, values);
          after(i);
        }
      });
    } finally {
      // What is still referenced (the outputs) belongs to the caller now.
      pool.endRun();
    }
    return values;
  }

  private outputsOf(values: RunValues, plan?: Plan): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const o of this.outputNames) {
      let t = values.get(o);
      if (!t) throw new OnnxPtqError('INTERNAL', `output '${o}' was not computed`);
      // An output must never be a view of the arena, which the next run overwrites.
      if (plan && ArrayBuffer.isView(t.data) && plan.holds(t.data)) t = new Tensor(t.dtype, this.copyOut(t.data) as never, t.dims);
      out[o] = t;
    }
    return out;
  }

  /** A copy of an arena view for the caller, in the backend's output pool when it has one. */
  private copyOut(d: ArrayBufferView): ArrayBufferView {
    const ab = this.backend.allocOutput?.(d.byteLength);
    if (!ab) return (d as Uint8Array).slice();
    const Ctor = d.constructor as new (b: ArrayBuffer, o: number, n: number) => Uint8Array;
    const c = new Ctor(ab, 0, (d as Uint8Array).length);
    c.set(d as Uint8Array);
    return c;
  }

  /** The arena plans made so far (one per input-shape signature), for reports and tests. */
  memoryPlans(): {
    signature: string;
    arenaBytes: number;
    unsharedBytes: number;
    tensors: Plan['tensors'];
    /** Native replay (after the second run of the signature): steps replayed, in how many native calls. */
    replay?: { steps: number; calls: number };
  }[] {
    return [...this.plans.values()].map((p) => ({
      signature: p.signature,
      arenaBytes: p.arenaBytes,
      unsharedBytes: p.unsharedBytes,
      tensors: p.tensors,
      ...(p.replay ? { replay: { steps: p.replay.replayedSteps, calls: p.replay.nativeCalls } } : {}),
    }));
  }
}
