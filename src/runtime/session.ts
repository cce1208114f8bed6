// Float inference session: load, validate, fold constants for the bound input shapes, then run the
// nodes in topological order on the JS float kernels, freeing each intermediate after its last use.
import type { F32Kernels } from '../backends/kernels-f32.js';
import { getBackend } from '../backends/registry.js';
import { OnnxPtqError, check } from '../errors.js';
import { Graph, type Model, type Node, type ValueInfo } from '../ir/graph.js';
import { inferAndFold, opContext } from '../ir/infer.js';
import { foldIntoLayers } from '../passes/fold-into-layers.js';
import { fuseConvActivations } from './fuse-conv-activation.js';
import { loadModel, modelToBytes } from '../onnx/io.js';
import { SessionRunner, runnerFinalizer } from './worker/session-runner.js';
import type { WorkerInit } from './worker/protocol.js';
import { defaultOps, type OpRegistry } from '../ops/index.js';
import type { OpContext, OpImpl, TypeInfo } from '../ops/types.js';
import type { Tensor } from '../tensor.js';
import { checkFeeds, runNode, type Feed } from './feeds.js';
import { ArrayPool, withArrayPool } from './array-pool.js';
import { divisibilityHint } from './divisibility.js';
import { fillPreallocated, resolveFetches, type FetchesType, type RunOptions } from './fetches.js';
import type { BackendName, BackendRequest, NativePlanApi } from '../backends/types.js';
import { FloatReplay, handOver, recordFloatRun, type ReplayRun, type TapKernels } from './float-replay.js';

export type { Feed, FetchesType, RunOptions };

const BACKENDS: readonly BackendRequest[] = ['auto', 'native', 'wasm', 'js'];

export interface SessionOptions {
  /**
   * Kernel backend for the heavy float kernels (conv, gemm/matmul, pooling): 'auto' (default:
   * ONNX_PTQ_BACKEND, else native, then wasm, then js), or one forced by name (fails loudly when it
   * cannot load). Other ops always run in TS.
   */
  backend?: BackendRequest;
  /** Binds dynamic input dimensions at creation (folds shape subgraphs right away). */
  inputShapes?: Record<string, readonly number[]>;
  /**
   * Fold constants and fold layers (default true): BatchNormalization and constant Add/Sub/Mul/Div
   * next to a Conv/ConvTranspose/Gemm go into its weights and bias, and decomposed HardSwish and
   * GELU each become one op (src/passes/fold-into-layers.ts), as onnxruntime's graph optimizer folds them;
   * a Relu or Clip after a Conv runs inside it (src/runtime/fuse-conv-activation.ts).
   * Outputs agree with the unfolded graph within float rounding. A value a run fetches is never
   * folded away: such a run gets a plan that keeps it.
   */
  optimize?: boolean;
  /** Op implementations (default: built-in ONNX ops). */
  registry?: OpRegistry;
  /**
   * Where `run()` executes: on a worker thread holding its own copy of the session (default, so
   * that awaiting it never blocks the event loop; runs are queued there in order), or on the
   * calling thread (false, as `runSync()`). A custom `registry` holds functions that cannot cross
   * threads, so with one the default is false and true is an error.
   */
  runInWorker?: boolean;
  /** Accept NaN and infinities in float feeds (default false: such a feed is refused with INVALID_INPUT). */
  allowNonFinite?: boolean;
  /**
   * Native backend: the second run of each input shape (and set of fetches) records the kernel calls
   * of the layers and later runs replay them, one N-API call per stretch of layers instead of one
   * per kernel (default true; the results are the same bits; src/runtime/float-replay.ts). false:
   * every step calls its kernel. Runs that tap values (calibration) replay too, handing each value
   * over when the stretch that computes it ends.
   */
  nativeReplay?: boolean;
}

interface Step {
  node: Node;
  impl: OpImpl;
  ctx: OpContext;
  /** Values whose last reader is this step. */
  free: string[];
}

/** Values handed to a callback as they are computed (runTapped). */
interface Tap {
  names: readonly string[];
  onValue: (name: string, value: Tensor) => void;
  kernels?: TapKernels;
}

interface Plan {
  graph: Graph;
  steps: Step[];
  types: Map<string, TypeInfo>;
  /** Every value name of `graph`, for checking fetches. */
  known: Set<string>;
  /**
   * Native replays by feed signature and fetches: 'seen' after a first run, then the replay the
   * second run recorded, or null when nothing could be recorded.
   */
  replays?: Map<string, FloatReplay | null | 'seen'>;
}

const MAX_PLANS = 8;
/** Replays kept per plan (input shapes x fetch lists); the oldest goes first. */
const MAX_REPLAYS = 4;

export class InferenceSession {
  /** The requested backend ('auto' or a name). */
  readonly backend: BackendRequest;
  /** The backend that actually runs the float kernels (resolved from `backend`: never 'auto'). */
  readonly backendName: BackendName;
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** Declared inputs (name, dtype, shape with symbols). */
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  private readonly model: Model;
  private readonly registry: OpRegistry;
  private readonly optimize: boolean;
  private readonly allowNonFinite: boolean;
  private readonly base: Plan;
  private readonly plans = new Map<string, Plan>();
  /**
   * Intermediates freed after their last use, recycled by later runs, best fit (array-pool.ts;
   * outputs are settled to arrays of their own length before a run ends).
   */
  private readonly pool = new ArrayPool(undefined, true);
  private readonly f32: F32Kernels;
  /** Shape signature the base plan was specialized for ('' when built for the declared shapes). */
  private readonly baseKey: string;
  /** Whether the base plan serves every input shape (set on the first run). */
  private generic?: boolean;
  private lastKeep?: { wanted: string[]; taps: string[]; keepValues: string[]; key: string };
  private runner: SessionRunner | undefined;
  private valueNames: Set<string> | undefined;
  private released = false;
  /** Inside divisibilityHint's probe runs (which must not diagnose their own failures). */
  private probing = false;
  /** The backend's native plans when runs may replay them (float-replay.ts). */
  private readonly replayApi: NativePlanApi | undefined;
  private lastTaps?: { list: readonly string[]; set: Set<string>; key: string };

  private constructor(model: Model, opts: SessionOptions, workerSource?: () => WorkerInit) {
    const backend = opts.backend ?? 'auto';
    check(BACKENDS.includes(backend), 'INVALID_OPTION', () => `backend must be one of ${BACKENDS.join(', ')}; got '${String(backend)}'`);
    this.backend = backend;
    const resolved = getBackend(backend);
    this.backendName = resolved.name;
    this.f32 = resolved;
    this.registry = opts.registry ?? defaultOps;
    this.optimize = opts.optimize ?? true;
    this.allowNonFinite = opts.allowNonFinite ?? false;
    check(opts.nativeReplay === undefined || typeof opts.nativeReplay === 'boolean', 'INVALID_OPTION', 'nativeReplay must be a boolean');
    this.replayApi = opts.nativeReplay === false ? undefined : resolved.nativePlans;
    this.model = model;
    model.graph.validate();
    const unsupported = model.graph.nodes.filter((n) => !this.registry.has(n.opType, n.domain));
    if (unsupported.length) {
      const list = unsupported
        .slice(0, 10)
        .map((n) => `${n.domain ? `${n.domain}::` : ''}${n.opType} (node '${n.name || n.outputs[0]}')`)
        .join(', ');
      throw new OnnxPtqError(
        'UNSUPPORTED_OP',
        `model uses ops onnx-ptq does not implement: ${list}${unsupported.length > 10 ? ', ...' : ''}`,
      );
    }
    this.inputs = model.graph.runtimeInputs.map((v) => ({ ...v }));
    this.outputs = model.graph.outputs.map((v) => ({ ...v }));
    this.inputNames = this.inputs.map((v) => v.name);
    this.outputNames = this.outputs.map((v) => v.name);
    if (opts.inputShapes) {
      for (const k of Object.keys(opts.inputShapes))
        check(
          this.inputNames.includes(k),
          'INVALID_OPTION',
          () => `inputShapes names '${k}', which is not a model input (${this.inputNames.join(', ')})`,
        );
    }
    this.base = this.buildPlan(opts.inputShapes);
    this.baseKey = opts.inputShapes ? shapeKey(this.inputNames.map((k) => [k, opts.inputShapes![k] ?? []])) : '';
    check(opts.runInWorker === undefined || typeof opts.runInWorker === 'boolean', 'INVALID_OPTION', 'runInWorker must be a boolean');
    check(
      !(opts.runInWorker === true && opts.registry),
      'INVALID_OPTION',
      'runInWorker: a custom registry holds functions that cannot run on a worker thread; use runInWorker: false',
    );
    if ((opts.runInWorker ?? !opts.registry) && workerSource) {
      this.runner = new SessionRunner('InferenceSession', workerSource);
    }
  }

  /** Creates a session from a path, ONNX bytes or an already loaded Model (which is not modified). */
  static async create(source: string | Uint8Array | Model, opts: SessionOptions = {}): Promise<InferenceSession> {
    return InferenceSession.createSync(source, opts);
  }

  /** create() on the calling thread, as IntegerSession.createSync. */
  static createSync(source: string | Uint8Array | Model, opts: SessionOptions = {}): InferenceSession {
    const fromFile = typeof source === 'string' || source instanceof Uint8Array;
    const model = fromFile ? loadModel(source) : cloneModel(source);
    // The worker builds its own session: from the path or bytes, or from this session's model
    // (never mutated: plans fold clones of it), serialized when the first run() needs it.
    const options = {
      backend: opts.backend,
      inputShapes: opts.inputShapes,
      optimize: opts.optimize,
      allowNonFinite: opts.allowNonFinite,
      nativeReplay: opts.nativeReplay,
      runInWorker: false,
    };
    const workerSource = (): WorkerInit => ({
      kind: 'float',
      source: fromFile ? source : modelToBytes(model),
      options: JSON.parse(JSON.stringify(options)),
    });
    return new InferenceSession(model, opts, workerSource);
  }

  /** The graph the session executes for its creation-time shapes (after folding). */
  get graph(): Graph {
    return this.base.graph;
  }

  /** Inferred types of every value for the creation-time shapes. */
  get valueTypes(): ReadonlyMap<string, TypeInfo> {
    return this.base.types;
  }

  /**
   * Runs the model, onnxruntime-style: `run(feeds)`, `run(feeds, options)`, `run(feeds, ['y'])` or
   * `run(feeds, { y: null }, options)` (src/runtime/fetches.ts; the older `run(feeds, { outputs })`
   * still works). Resolves to the requested outputs by name (every graph output by default; any
   * intermediate value may be fetched too), on the session's worker thread unless
   * `runInWorker: false`, with the results runSync() gives.
   */
  async run(feeds: Record<string, Feed>, fetches?: FetchesType | RunOptions, options?: RunOptions): Promise<Record<string, Tensor>> {
    this.checkLive();
    const f = this.fetches(fetches, options);
    if (!this.runner) return fillPreallocated(this.execute(feeds, f.names), f.preallocated);
    const checked = checkFeeds(this.inputs, feeds, { allowNonFinite: this.allowNonFinite });
    return fillPreallocated(await this.runner.run(this, checked, f.names), f.preallocated);
  }

  private fetches(fetches: unknown, options: unknown): ReturnType<typeof resolveFetches> {
    // Any value of the model may be fetched, also one the base plan folded away (planFor keeps it).
    this.valueNames ??= new Set([...this.model.graph.allValueNames(), ...this.base.graph.allValueNames()]);
    const names = this.valueNames;
    return resolveFetches(fetches, options, this.outputNames, (n) => names.has(n));
  }

  /** Stops the session's worker thread and frees its plans; any later run is an error (onnxruntime's `release()`). */
  async release(): Promise<void> {
    this.pool.clear();
    this.released = true;
    releaseReplays(this.base);
    for (const p of this.plans.values()) releaseReplays(p);
    this.plans.clear();
    runnerFinalizer.unregister(this);
    await this.runner?.release();
  }

  private checkLive(): void {
    check(!this.released, 'INVALID_ARGUMENT', 'InferenceSession was released; create a new session to run');
  }

  /** Synchronous run on the calling thread; takes the arguments run() takes. */
  runSync(feeds: Record<string, Feed>, fetches?: FetchesType | RunOptions, options?: RunOptions): Record<string, Tensor> {
    this.checkLive();
    const f = this.fetches(fetches, options);
    return fillPreallocated(this.execute(feeds, f.names), f.preallocated);
  }

  /**
   * Runs on the calling thread and hands every value named in `taps` to `onValue` once it is
   * computed (graph inputs and constants first; a native replay hands over those of a stretch of
   * layers when the stretch ends), then lets the run recycle its buffer: the tensor is valid only
   * during the call. Calibration observes activations this way instead of fetching them, so a run
   * holds little more memory than an ordinary one. Returns the values `fetch` names. `kernels`
   * run on each value as soon as it is computed, recorded into the native replay with its layer
   * (float-replay.ts TapKernels says what they may do).
   * @internal
   */
  runTapped(
    feeds: Record<string, Feed>,
    taps: readonly string[],
    onValue: (name: string, value: Tensor) => void,
    fetch: string[] = [],
    kernels?: TapKernels,
  ): Record<string, Tensor> {
    this.checkLive();
    return this.execute(feeds, fetch, { names: taps, onValue, kernels });
  }

  private execute(feeds: Record<string, Feed>, names: string[] | undefined, tap?: Tap): Record<string, Tensor> {
    const tensors = checkFeeds(this.inputs, feeds, { allowNonFinite: this.allowNonFinite });
    try {
      return this.executeChecked(tensors, names, tap);
    } catch (e) {
      // A shape mismatch with dynamic input dims: say which dims must divide by what (src/runtime/divisibility.ts).
      if (!(e instanceof OnnxPtqError) || e.code !== 'SHAPE_MISMATCH' || this.probing) throw e;
      this.probing = true;
      let hint: string | undefined;
      try {
        hint = divisibilityHint(this.inputs, tensors, (f) => {
          try {
            this.executeChecked(new Map(Object.entries(f)), names);
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
    }
  }

  private executeChecked(tensors: Map<string, Tensor>, names: string[] | undefined, tap?: Tap): Record<string, Tensor> {
    const wanted = names ?? this.outputNames;
    const plan = this.planFor(tensors, wanted, tap?.names);
    const known = plan.known;
    for (const o of [...wanted, ...(tap?.names ?? [])])
      check(known.has(o), 'INVALID_INPUT', () => `unknown output '${o}'; outputs are ${this.outputNames.join(', ')}`);
    if (this.replayApi) {
      const r = this.replayed(this.replayApi, plan, tensors, wanted, tap);
      if (r) return r;
    }
    const values = new Map<string, Tensor>(plan.graph.initializers);
    for (const [k, t] of tensors) values.set(k, t);
    const keep = new Set(wanted);
    const tapped = tap ? new Set(tap.names) : undefined;
    if (tap) for (const t of tap.names) if (values.has(t)) handOver(tap, t, values.get(t)!);
    const pool = this.pool;
    try {
      withArrayPool(pool, () => {
        for (const step of plan.steps) {
          runNode(step.impl, step.ctx, step.node, values);
          for (const o of step.node.outputs) if (o) pool.ref(values.get(o));
          if (tapped) for (const o of step.node.outputs) if (o && tapped.has(o)) handOver(tap!, o, values.get(o)!);
          for (const f of step.free)
            if (!keep.has(f)) {
              pool.unref(values.get(f));
              values.delete(f);
            }
        }
      });
      pool.settleAll(values, wanted);
    } finally {
      pool.endRun();
    }
    const result: Record<string, Tensor> = {};
    for (const o of wanted) {
      const t = values.get(o);
      if (!t) throw new OnnxPtqError('INTERNAL', `output '${o}' was not computed`);
      result[o] = t;
    }
    return result;
  }

  /**
   * The native replays recorded so far, per plan and feed signature: steps in the plan, steps
   * replayed, and the N-API calls a run makes for them. For reports and tests.
   * @internal
   */
  nativeReplays(): { steps: number; replayedSteps: number; calls: number }[] {
    const out: { steps: number; replayedSteps: number; calls: number }[] = [];
    for (const p of [this.base, ...this.plans.values()])
      for (const r of p.replays?.values() ?? [])
        if (r instanceof FloatReplay) out.push({ steps: p.steps.length, replayedSteps: r.replayedSteps, calls: r.nativeCalls });
    return out;
  }

  /**
   * A run by native replay (float-replay.ts): the second run of a feed signature and fetch list
   * records, later ones replay; undefined when this run goes the usual way (the first, or nothing
   * recordable).
   */
  private replayed(
    api: NativePlanApi,
    plan: Plan,
    feeds: Map<string, Tensor>,
    wanted: readonly string[],
    tap: Tap | undefined,
  ): Record<string, Tensor> | undefined {
    const replays = (plan.replays ??= new Map());
    // Calibration taps the same list on every run: its set and key are made once.
    if (tap && this.lastTaps?.list !== tap.names)
      this.lastTaps = { list: tap.names, set: new Set(tap.names), key: `|${tap.names.join(',')}` };
    // A replay's recorded TapKernels write their owner's buffers: one owner's replays are not another's.
    const taps = tap ? `${this.lastTaps!.key}#${tap.kernels?.id ?? ''}` : '';
    const key = `${shapeKey([...feeds].map(([k, t]) => [`${k}/${t.dtype}`, t.dims]))}|${wanted.join(',')}${taps}`;
    const run: ReplayRun = {
      steps: plan.steps,
      consts: plan.graph.initializers,
      feeds,
      wanted,
      pool: this.pool,
      tap: tap && { names: this.lastTaps!.set, onValue: tap.onValue, kernels: tap.kernels },
    };
    const r = replays.get(key);
    if (r === null) return undefined;
    if (r === undefined) {
      if (replays.size >= MAX_REPLAYS) {
        const [oldest, old] = replays.entries().next().value!;
        if (old instanceof FloatReplay) old.release();
        replays.delete(oldest);
      }
      replays.set(key, 'seen');
      return undefined;
    }
    if (r === 'seen') {
      const { result, replay } = recordFloatRun(api, run);
      replays.set(key, replay ?? null);
      return result;
    }
    // The key names the dims, so this holds unless two inputs swapped names and shapes.
    if (!r.matches(feeds)) return undefined;
    const { result, stale } = r.run(run);
    if (stale) {
      // What recorded calls read moved (float-replay.ts): this signature runs step by step from now on.
      r.release();
      replays.set(key, null);
    }
    return result;
  }

  /**
   * The plan for these input shapes and fetches: the base plan when it is already static and the
   * fetches are graph outputs, else a cached specialization (shapes bound, fetched intermediates
   * kept out of the layer folds).
   */
  private planFor(feeds: Map<string, Tensor>, wanted: readonly string[], taps: readonly string[] = []): Plan {
    if (!this.optimize) return this.base;
    const { keepValues, key: keepKey } = this.keepFor(wanted, taps);
    // A base plan built for the declared shapes that has no Shape node left is valid for any shape.
    this.generic ??= this.baseKey === '' && !this.base.graph.nodes.some((n) => n.opType === 'Shape');
    const generic = this.generic;
    const shapes = generic ? '' : shapeKey([...feeds].map(([k, t]) => [k, t.dims]));
    if (keepValues.length === 0 && (generic || shapes === this.baseKey)) return this.base;
    const key = `${shapes}|${keepKey}`;
    let p = this.plans.get(key);
    if (!p) {
      let bound: Record<string, number[]> | undefined;
      if (!generic) {
        bound = {};
        for (const [k, t] of feeds) bound[k] = [...t.dims];
      }
      p = this.buildPlan(bound, keepValues);
      if (this.plans.size >= MAX_PLANS) {
        const oldest = this.plans.keys().next().value!;
        releaseReplays(this.plans.get(oldest)!);
        this.plans.delete(oldest);
      }
      this.plans.set(key, p);
    }
    return p;
  }

  /**
   * The fetched and tapped intermediates, sorted, and their key; remembered for the last lists seen,
   * since calibration and repeated runs pass the same ones every time.
   */
  private keepFor(wanted: readonly string[], taps: readonly string[]): { keepValues: string[]; key: string } {
    const last = this.lastKeep;
    if (last && sameList(last.wanted, wanted) && sameList(last.taps, taps)) return last;
    const keepValues = [...new Set([...wanted, ...taps])].filter((n) => !this.outputNames.includes(n)).sort();
    this.lastKeep = { wanted: [...wanted], taps: [...taps], keepValues, key: keepValues.join(',') };
    return this.lastKeep;
  }

  private buildPlan(inputShapes?: Record<string, readonly number[]>, keepValues: readonly string[] = []): Plan {
    const graph = cloneGraph(this.model.graph);
    const model: Model = { ...this.model, graph };
    const infer = () => inferAndFold(model, { inputShapes, fold: this.optimize, registry: this.registry }).types;
    let types = infer();
    if (this.optimize && foldLayers(model, types, keepValues)) types = infer();
    const order = graph.topologicalOrder();
    const lastUse = new Map<string, number>();
    order.forEach((n, i) => n.inputs.forEach((x) => x && lastUse.set(x, i)));
    const frees: string[][] = order.map(() => []);
    for (const [v, i] of lastUse) if (!graph.initializers.has(v)) frees[i]!.push(v);
    // An output nothing reads (a probe, an unread BatchNormalization statistic) is freed by its
    // producer, so that its buffer is recycled unless the run fetches it.
    order.forEach((n, i) => n.outputs.forEach((o) => o && !lastUse.has(o) && frees[i]!.push(o)));
    const steps = order.map((node, i) => ({
      node,
      impl: this.registry.get(node.opType, node.domain)!,
      ctx: opContext(model, node, this.f32),
      free: frees[i]!,
    }));
    return { graph, steps, types, known: graph.allValueNames() };
  }
}

function releaseReplays(p: Plan): void {
  for (const r of p.replays?.values() ?? []) if (r instanceof FloatReplay) r.release();
  p.replays = undefined;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Runs the layer folds on a plan's graph with the fetched intermediates `keep` held as graph
 * outputs for the duration (the folds never remove a graph output). True when anything changed.
 */
function foldLayers(model: Model, types: ReadonlyMap<string, TypeInfo>, keep: readonly string[]): boolean {
  const g = model.graph;
  const outputs = g.outputs;
  const held = keep.filter((n) => !outputs.some((o) => o.name === n)).map((name): ValueInfo => ({ name }));
  g.outputs = [...outputs, ...held];
  try {
    const folded = foldIntoLayers(model, types, { batchNorm: true, hardSwish: true, gelu: true, layerNorm: true }).some(
      (r) => r.changed > 0,
    );
    return fuseConvActivations(model) > 0 || folded;
  } finally {
    g.outputs = outputs;
  }
}

function shapeKey(entries: [string, readonly number[]][]): string {
  return entries.map(([k, d]) => `${k}:${d.join('x')}`).join(',');
}

/** Structural copy: nodes, value lists and maps are new; tensors are shared (never mutated). */
export function cloneGraph(g: Graph): Graph {
  return new Graph({
    name: g.name,
    docString: g.docString,
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attributes: new Map(n.attributes) })),
    initializers: new Map(g.initializers),
    inputs: g.inputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : undefined })),
    outputs: g.outputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : undefined })),
    valueInfo: new Map([...g.valueInfo].map(([k, v]) => [k, { ...v }])),
  });
}

export function cloneModel(m: Model): Model {
  return { ...m, opsetImports: m.opsetImports.map((o) => ({ ...o })), metadata: new Map(m.metadata), graph: cloneGraph(m.graph) };
}
