// The integer-only executor: loads a QDQ (or QOperator) model, lowers it once into a plan of
// integer kernel calls on one backend, and runs it with 8-bit activations between layers.
import { getBackend } from '../../backends/registry.js';
import type { Backend } from '../../backends/types.js';
import { OnnxPtqError, check } from '../../errors.js';
import { nodeLabel, type Model, type ValueInfo } from '../../ir/graph.js';
import { inferAndFold } from '../../ir/infer.js';
import { loadModel } from '../../onnx/io.js';
import { defaultOps, OpRegistry } from '../../ops/index.js';
import { makeQdqOps } from '../../ops/qdq.js';
import { REQUANT_MODES, type RequantMode } from '../../quant/requant.js';
import { Tensor } from '../../tensor.js';
import { cloneModel } from '../session.js';
import { checkFeeds, type Feed } from '../feeds.js';
import { IntKernels } from './kernels.js';
import { Lowering, type LoweringEntry, type Step, type Values } from './lower.js';

export type IntegerBackendName = 'auto' | 'native' | 'wasm' | 'js';
export type { LoweringEntry } from './lower.js';

export interface IntegerSessionOptions {
  /** Kernel backend (default 'auto': native, then wasm, then js; ONNX_PTQ_BACKEND overrides 'auto'). */
  backend?: IntegerBackendName;
  /**
   * Requantization rule (DESIGN.md "Arithmetic contract"). Default: the model's metadata_props
   * 'onnx_ptq.requant_mode' when present, else 'fixed-point'.
   */
  requantMode?: RequantMode;
}

/** A feed: a Tensor, a typed array (dims from the model's static input shape), or {data, dims}. */
/** A feed: the same forms as the float session's. */
export type IntegerFeed = Feed;

export const REQUANT_MODE_METADATA_KEY = 'onnx_ptq.requant_mode';

export class IntegerSession {
  readonly backend: Backend;
  readonly requantMode: RequantMode;
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  readonly inputNames: string[];
  readonly outputNames: string[];
  private readonly steps: Step[];
  private readonly entries: LoweringEntry[];
  private readonly initializers: Map<string, Tensor>;
  private readonly lastUse = new Map<string, number>();

  private constructor(model: Model, opts: IntegerSessionOptions) {
    check(opts && typeof opts === 'object', 'INVALID_OPTION', 'options must be an object');
    for (const k of Object.keys(opts)) check(k === 'backend' || k === 'requantMode', 'INVALID_OPTION', () => `unknown IntegerSession option '${k}' (backend, requantMode)`);
    const backend = opts.backend ?? 'auto';
    check(['auto', 'native', 'wasm', 'js'].includes(backend), 'INVALID_OPTION', () => `backend must be auto, native, wasm or js; got '${String(backend)}'`);
    const meta = model.metadata?.get(REQUANT_MODE_METADATA_KEY);
    const mode = opts.requantMode ?? (meta as RequantMode | undefined) ?? 'fixed-point';
    check(REQUANT_MODES.includes(mode), 'INVALID_OPTION', () =>
      opts.requantMode === undefined
        ? `metadata_props '${REQUANT_MODE_METADATA_KEY}' is '${String(meta)}'; expected one of ${REQUANT_MODES.join(', ')}`
        : `requantMode must be one of ${REQUANT_MODES.join(', ')}; got '${String(mode)}'`);
    this.requantMode = mode;
    this.backend = getBackend(backend === 'auto' ? undefined : backend);

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
    this.entries = model.graph.topologicalOrder().map((n) => lowering.report.get(n) ?? { node: n.name || nodeLabel(n), opType: n.opType, execution: 'float', reason: 'not lowered' });
    const keep = new Set(this.outputNames);
    this.steps.forEach((s, i) => s.inputs.forEach((x) => this.lastUse.set(x, i)));
    for (const k of keep) this.lastUse.delete(k);
  }

  /** Creates a session from a path, ONNX bytes or a loaded Model (which is not modified). */
  static async create(source: string | Uint8Array | Model, opts: IntegerSessionOptions = {}): Promise<IntegerSession> {
    return IntegerSession.createSync(source, opts);
  }

  static createSync(source: string | Uint8Array | Model, opts: IntegerSessionOptions = {}): IntegerSession {
    const model = typeof source === 'string' || source instanceof Uint8Array ? loadModel(source) : cloneModel(source);
    return new IntegerSession(model, opts);
  }

  /** For every node, in execution order: integer (and the kernel), float (and why), fused, or a boundary Q/DQ. */
  loweringReport(): LoweringEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  async run(feeds: Record<string, IntegerFeed>): Promise<Record<string, Tensor>> {
    return this.runSync(feeds);
  }

  /** Runs the plan; outputs come back as the graph declares them (float32 after a graph-output DQ). */
  runSync(feeds: Record<string, IntegerFeed>): Record<string, Tensor> {
    const values: Values = new Map(this.initializers);
    for (const [k, t] of checkFeeds(this.inputs, feeds)) values.set(k, t);
    this.steps.forEach((s, i) => {
      s.run(values);
      for (const x of s.inputs) if (this.lastUse.get(x) === i && !this.initializers.has(x)) values.delete(x);
    });
    const out: Record<string, Tensor> = {};
    for (const o of this.outputNames) {
      const t = values.get(o);
      if (!t) throw new OnnxPtqError('INTERNAL', `output '${o}' was not computed`);
      out[o] = t;
    }
    return out;
  }
}
