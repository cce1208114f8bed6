// Float inference session: load, validate, fold constants for the bound input shapes, then run the
// nodes in topological order on the JS float kernels, freeing each intermediate after its last use.
import type { F32Kernels } from '../backends/kernels-f32.js';
import { getBackend } from '../backends/registry.js';
import { OnnxPtqError, check } from '../errors.js';
import { Graph, nodeLabel, type Model, type Node, type ValueInfo } from '../ir/graph.js';
import { inferAndFold, opContext } from '../ir/infer.js';
import { loadModel } from '../onnx/io.js';
import { defaultOps, type OpRegistry } from '../ops/index.js';
import type { OpContext, OpImpl, TypeInfo } from '../ops/types.js';
import { Tensor, dtypeOfData, sizeOf, type TensorData } from '../tensor.js';

export type BackendName = 'auto' | 'native' | 'wasm' | 'js';
const BACKENDS: readonly BackendName[] = ['auto', 'native', 'wasm', 'js'];

export interface SessionOptions {
  /**
   * Kernel backend for the heavy float kernels (conv, gemm/matmul, pooling): 'auto' (default:
   * ONNX_PTQ_BACKEND, else native, then wasm, then js), or one forced by name (fails loudly when it
   * cannot load). Other ops always run in TS.
   */
  backend?: BackendName;
  /** Binds dynamic input dimensions at creation (folds shape subgraphs right away). */
  inputShapes?: Record<string, readonly number[]>;
  /** Fold constants (default true). */
  optimize?: boolean;
  /** Op implementations (default: built-in ONNX ops). */
  registry?: OpRegistry;
}

/** A feed: a Tensor, a typed array (dims taken from the model's static input shape), or {data, dims}. */
export type Feed = Tensor | TensorData | { data: TensorData; dims: readonly number[] };

interface Step {
  node: Node;
  impl: OpImpl;
  ctx: OpContext;
  /** Values whose last reader is this step. */
  free: string[];
}

interface Plan {
  graph: Graph;
  steps: Step[];
  types: Map<string, TypeInfo>;
}

const MAX_PLANS = 8;

export class InferenceSession {
  /** The requested backend ('auto' or a name). */
  readonly backend: BackendName;
  /** The backend that actually runs the float kernels (resolved from `backend`). */
  readonly backendName: string;
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** Declared inputs (name, dtype, shape with symbols). */
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  private readonly model: Model;
  private readonly registry: OpRegistry;
  private readonly optimize: boolean;
  private readonly base: Plan;
  private readonly plans = new Map<string, Plan>();
  private readonly f32: F32Kernels;
  /** Shape signature the base plan was specialized for ('' when built for the declared shapes). */
  private readonly baseKey: string;

  private constructor(model: Model, opts: SessionOptions) {
    const backend = opts.backend ?? 'auto';
    check(
      BACKENDS.includes(backend),
      'INVALID_OPTION',
      () => `backend must be one of ${BACKENDS.join(', ')}; got '${String(backend)}'`,
    );
    this.backend = backend;
    const resolved = getBackend(backend);
    this.backendName = resolved.name;
    this.f32 = resolved;
    this.registry = opts.registry ?? defaultOps;
    this.optimize = opts.optimize ?? true;
    this.model = model;
    model.graph.validate();
    const unsupported = model.graph.nodes.filter((n) => !this.registry.has(n.opType, n.domain));
    if (unsupported.length) {
      const list = unsupported
        .slice(0, 10)
        .map((n) => `${n.domain ? n.domain + '::' : ''}${n.opType} (node '${n.name || n.outputs[0]}')`)
        .join(', ');
      throw new OnnxPtqError('UNSUPPORTED_OP', `model uses ops onnx-ptq does not implement: ${list}${unsupported.length > 10 ? ', ...' : ''}`);
    }
    this.inputs = model.graph.runtimeInputs.map((v) => ({ ...v }));
    this.outputs = model.graph.outputs.map((v) => ({ ...v }));
    this.inputNames = this.inputs.map((v) => v.name);
    this.outputNames = this.outputs.map((v) => v.name);
    if (opts.inputShapes) {
      for (const k of Object.keys(opts.inputShapes))
        check(this.inputNames.includes(k), 'INVALID_OPTION', () => `inputShapes names '${k}', which is not a model input (${this.inputNames.join(', ')})`);
    }
    this.base = this.buildPlan(opts.inputShapes);
    this.baseKey = opts.inputShapes ? shapeKey(this.inputNames.map((k) => [k, opts.inputShapes![k] ?? []])) : '';
  }

  /** Creates a session from a path, ONNX bytes or an already loaded Model (which is not modified). */
  static async create(source: string | Uint8Array | Model, opts: SessionOptions = {}): Promise<InferenceSession> {
    const model = typeof source === 'string' || source instanceof Uint8Array ? loadModel(source) : cloneModel(source);
    return new InferenceSession(model, opts);
  }

  /** The graph the session executes for its creation-time shapes (after folding). */
  get graph(): Graph {
    return this.base.graph;
  }

  /** Inferred types of every value for the creation-time shapes. */
  get valueTypes(): ReadonlyMap<string, TypeInfo> {
    return this.base.types;
  }

  /** Runs the model. Resolves to every graph output (or the requested `outputs`) by name. */
  async run(feeds: Record<string, Feed>, opts: { outputs?: string[] } = {}): Promise<Record<string, Tensor>> {
    return this.runSync(feeds, opts);
  }

  /** Synchronous run (the engine is synchronous; run() wraps this). */
  runSync(feeds: Record<string, Feed>, opts: { outputs?: string[] } = {}): Record<string, Tensor> {
    check(feeds && typeof feeds === 'object', 'INVALID_INPUT', 'feeds must be an object mapping input names to tensors');
    const tensors = this.checkFeeds(feeds);
    const plan = this.planFor(tensors);
    const wanted = opts.outputs ?? this.outputNames;
    for (const o of wanted)
      check(plan.graph.allValueNames().has(o), 'INVALID_INPUT', () => `unknown output '${o}'; outputs are ${this.outputNames.join(', ')}`);
    const values = new Map<string, Tensor>(plan.graph.initializers);
    for (const [k, t] of tensors) values.set(k, t);
    const keep = new Set(wanted);
    for (const step of plan.steps) {
      const { node, impl, ctx } = step;
      const ins = node.inputs.map((i) => {
        if (!i) return undefined;
        const t = values.get(i);
        if (!t) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)}: input '${i}' has no value`);
        return t;
      });
      let outs: Tensor[];
      try {
        outs = impl.run(ctx, ins);
      } catch (e) {
        if (e instanceof OnnxPtqError) throw e;
        throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)} failed: ${(e as Error).message}`, { cause: e });
      }
      node.outputs.forEach((o, k) => {
        if (!o) return;
        const t = outs[k];
        if (!t) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)} produced no output #${k} ('${o}')`);
        values.set(o, t);
      });
      for (const f of step.free) if (!keep.has(f)) values.delete(f);
    }
    const result: Record<string, Tensor> = {};
    for (const o of wanted) {
      const t = values.get(o);
      if (!t) throw new OnnxPtqError('INTERNAL', `output '${o}' was not computed`);
      result[o] = t;
    }
    return result;
  }

  private checkFeeds(feeds: Record<string, Feed>): Map<string, Tensor> {
    for (const k of Object.keys(feeds))
      check(this.inputNames.includes(k), 'INVALID_INPUT', () => `unknown input '${k}'; the model's inputs are: ${this.inputNames.join(', ')}`);
    const out = new Map<string, Tensor>();
    const symbols = new Map<string, number>();
    for (const v of this.inputs) {
      const f = feeds[v.name];
      check(f !== undefined && f !== null, 'INVALID_INPUT', () => `missing input '${v.name}' (${describe(v)})`);
      const t = toTensor(f, v);
      if (v.dtype) check(t.dtype === v.dtype, 'INVALID_INPUT', () => `input '${v.name}' must be ${v.dtype}, got ${t.dtype}`);
      if (v.shape) {
        check(t.rank === v.shape.length, 'INVALID_INPUT', () => `input '${v.name}' must have rank ${v.shape!.length} (${describe(v)}), got dims [${t.dims.join(', ')}]`);
        v.shape.forEach((d, i) => {
          const got = t.dims[i]!;
          if (typeof d === 'number') check(d === got, 'INVALID_INPUT', () => `input '${v.name}' must have dims ${describe(v)}, got [${t.dims.join(', ')}] (axis ${i})`);
          else if (typeof d === 'string') {
            const prev = symbols.get(d);
            check(prev === undefined || prev === got, 'INVALID_INPUT', () => `input '${v.name}' binds dimension '${d}' to ${got}, but another input bound it to ${prev}`);
            symbols.set(d, got);
          }
        });
      }
      out.set(v.name, t);
    }
    return out;
  }

  /** The plan for these input shapes: the base plan when it is already static, else a cached specialization. */
  private planFor(feeds: Map<string, Tensor>): Plan {
    if (!this.optimize) return this.base;
    const key = shapeKey([...feeds].map(([k, t]) => [k, t.dims]));
    if (key === this.baseKey) return this.base;
    // A base plan built for the declared shapes that has no Shape node left is valid for any shape.
    if (this.baseKey === '' && !this.base.graph.nodes.some((n) => n.opType === 'Shape')) return this.base;
    let p = this.plans.get(key);
    if (!p) {
      const shapes: Record<string, number[]> = {};
      for (const [k, t] of feeds) shapes[k] = [...t.dims];
      p = this.buildPlan(shapes);
      if (this.plans.size >= MAX_PLANS) this.plans.delete(this.plans.keys().next().value!);
      this.plans.set(key, p);
    }
    return p;
  }

  private buildPlan(inputShapes?: Record<string, readonly number[]>): Plan {
    const graph = cloneGraph(this.model.graph);
    const model = { opsetImports: this.model.opsetImports, graph };
    const { types } = inferAndFold(model, { inputShapes, fold: this.optimize, registry: this.registry });
    const order = graph.topologicalOrder();
    const lastUse = new Map<string, number>();
    order.forEach((n, i) => n.inputs.forEach((x) => x && lastUse.set(x, i)));
    const frees: string[][] = order.map(() => []);
    for (const [v, i] of lastUse) if (!graph.initializers.has(v)) frees[i]!.push(v);
    const steps = order.map((node, i) => ({
      node,
      impl: this.registry.get(node.opType, node.domain)!,
      ctx: opContext(model, node, this.f32),
      free: frees[i]!,
    }));
    return { graph, steps, types };
  }
}

function shapeKey(entries: [string, readonly number[]][]): string {
  return entries.map(([k, d]) => `${k}:${d.join('x')}`).join(',');
}

function describe(v: ValueInfo): string {
  return `${v.dtype ?? '?'}[${(v.shape ?? []).map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

function toTensor(f: Feed, v: ValueInfo): Tensor {
  try {
    if (f instanceof Tensor) return f;
    if (ArrayBuffer.isView(f) || Array.isArray(f)) {
      const data = f as TensorData;
      const shape = v.shape;
      check(
        shape && shape.every((d) => typeof d === 'number') && sizeOf(shape as number[]) === data.length,
        'INVALID_INPUT',
        () => `input '${v.name}' was given as a bare array of ${data.length} elements; pass a Tensor with dims (declared ${describe(v)})`,
      );
      return new Tensor(dtypeOfData(data), data, shape as number[]);
    }
    if (typeof f === 'object' && 'data' in f && 'dims' in f) return new Tensor(dtypeOfData(f.data), f.data, f.dims);
  } catch (e) {
    if (e instanceof OnnxPtqError && e.code !== 'INVALID_INPUT') throw new OnnxPtqError('INVALID_INPUT', `input '${v.name}': ${e.message}`);
    throw e;
  }
  throw new OnnxPtqError('INVALID_INPUT', `input '${v.name}' must be a Tensor, a typed array or {data, dims}`);
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
