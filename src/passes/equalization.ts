/**
 * Layer-wise (cross-layer) equalization, after Nagel et al. 2019, "Data-Free Quantization Through
 * Weight Equalization and Bias Correction" (ICCV), with the options of PPQ's LayerwiseEqualizationPass.
 *
 * For consecutive layers Y = W2 * f(W1 * X + b1) + b2 with f positively homogeneous
 * (f(s x) = s f(x) for s > 0), output channel i of layer 1 and input channel i of layer 2 are
 * rescaled:  W1[i] /= s_i, b1[i] /= s_i, W2[:, i] *= s_i, with
 *     r1_i = max(max|W1[i]|, bias_multiplier * |b1[i]|, activation_multiplier * max|a_i|, weight_threshold)
 *     r2_i = max(max|W2[:, i]|, weight_threshold)
 *     s_i  = sqrt(r1_i / r2_i)
 * (the bias and activation terms only with including_bias / including_activation), so that both
 * ranges become sqrt(r1_i r2_i). Repeated `iterations` times over all pairs (a layer can be layer 2
 * of one pair and layer 1 of the next). The float function is preserved exactly up to rounding.
 *
 * Layer 2 may be several layers all reading the linked value (PPQ's downstream group, e.g. the two
 * halves of a split layer): r2_i is then the maximum over them and each is rescaled.
 * Between the two layers (each link the only reader of the previous value, no graph output):
 *  - optimize_level 1: nothing, Relu, a Relu-like Clip (min 0, no max), or a ReLU6-like Clip(0, hi)
 *    with a constant finite hi;
 *  - optimize_level 2: also MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Identity and a
 *    constant Pad with value 0 (all commute with a positive per-channel scale).
 * Clip(0, hi) (ReLU6, hi = 6) is not positively homogeneous, but it is once the bound goes per
 * channel: for s_i > 0, min(hi, max(0, y)) = s_i * min(hi / s_i, max(0, y / s_i)), i.e.
 *     Clip(W1[i] x + b1[i], 0, hi) = s_i * Min(Relu((W1[i] x + b1[i]) / s_i), hi / s_i),
 * so each crossed Clip(0, hi) is rewritten as Relu followed by Min(x, c) with c a per-channel
 * constant (shape [C, 1, ..., 1], c_i = hi / S_i, S_i the product of the channel's scales over all
 * iterations). The float function is unchanged; the quantizer fuses Relu -> Min like a Clip
 * (src/ptq/plan.ts: one QuantizeLinear after the Min, none between), and an integer executor applies
 * c as a per-channel clamp in the integer domain.
 * Still not crossed (listed in the report's `skipped`, with why): Clip with a lower bound other than
 * 0 or non-constant bounds, HardSwish, HardSigmoid, Sigmoid, Tanh, LeakyRelu and every other op
 * between two layers whose channels would otherwise pair. Layers: Conv (any group: layer 2's input
 * channel i is weight column i mod C/group of its group's output channels) and Gemm with a constant
 * weight (transB either way).
 */
import { makeNode, type Graph, type Model, type Node } from '../ir/graph.js';
import { Tensor } from '../tensor.js';
import { GraphPass, dropUnusedInits, floatAttr, floatInit, intAttr, nodeLabel, putInit, soleConsumer, type PassReport } from './pass.js';

export interface EqualizationOptions {
  /** Sweeps over all pairs. Default 10 (PPQ's default). */
  iterations: number;
  /** Ranges below this are raised to it before the ratio (stability). Default 0.5. */
  weight_threshold: number;
  /** Count |bias| * bias_multiplier in layer 1's range. Default false. */
  including_bias: boolean;
  /** Default 0.5. */
  bias_multiplier: number;
  /** Count the calibrated |activation| * activation_multiplier in layer 1's range. Default false. */
  including_activation: boolean;
  /** Default 0.5. */
  activation_multiplier: number;
  /** Layer names (either layer of a pair) to equalize; null means every eligible pair. Default null. */
  interested_layers: string[] | null;
  /** 1: pairs joined directly or through ReLU; 2: also through pools / zero Pad. Default 1. */
  optimize_level: number;
  /** Report every pair. Default false. */
  verbose: boolean;
}

export const DEFAULT_EQUALIZATION_OPTIONS: EqualizationOptions = {
  iterations: 10,
  weight_threshold: 0.5,
  including_bias: false,
  bias_multiplier: 0.5,
  including_activation: false,
  activation_multiplier: 0.5,
  interested_layers: null,
  optimize_level: 1,
  verbose: false,
};

interface Pair {
  up: Node;
  /** The Clip(0, hi) links crossed (rewritten to Relu + per-channel Min at the end), with their hi. */
  clips: { node: Node; hi: number }[];
  /** Every reader of the linked value: one layer, or several (PPQ's downstream group, e.g. after a layer split). */
  downs: Node[];
  /** Value written by layer 1 (before the link ops). */
  act: string;
  channels: number;
}

const LEVEL2 = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Identity', 'Pad']);

export class EqualizationPass extends GraphPass<EqualizationOptions> {
  readonly name = 'equalization';

  /**
   * `channelRanges`: max |value| per channel of layer outputs (by tensor name), from a float
   * calibration run; required with including_activation.
   */
  constructor(
    options: Partial<EqualizationOptions> = {},
    private readonly channelRanges?: ReadonlyMap<string, Float32Array>,
  ) {
    super(DEFAULT_EQUALIZATION_OPTIONS, options);
    const o = this.options;
    const num = (k: keyof EqualizationOptions, lo: number, hi: number, int = false) => {
      const v = o[k] as unknown;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v)))
        this.fail(`option '${k}' must be ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
    };
    num('iterations', 1, 10000, true);
    num('weight_threshold', 0, 1e30);
    num('bias_multiplier', 0, 1e30);
    num('activation_multiplier', 0, 1e30);
    if (o.optimize_level !== 1 && o.optimize_level !== 2)
      this.fail(`option 'optimize_level' must be 1 or 2, got ${JSON.stringify(o.optimize_level)}`);
    for (const k of ['including_bias', 'including_activation', 'verbose'] as const)
      if (typeof o[k] !== 'boolean') this.fail(`option '${k}' must be true or false, got ${JSON.stringify(o[k])}`);
    if (o.interested_layers !== null && (!Array.isArray(o.interested_layers) || o.interested_layers.some((s) => typeof s !== 'string')))
      this.fail(`option 'interested_layers' must be null or a list of node names`);
  }

  /** The eligible pairs of a graph (exposed for tests and for collecting activation ranges). */
  findPairs(g: Graph): Pair[] {
    return this.scan(g).pairs;
  }

  /**
   * Pairs, and the layer-to-layer links that stop at an op the pass cannot cross (each with why)
   * where the layers' channels would otherwise pair.
   */
  scan(g: Graph): { pairs: Pair[]; skipped: string[] } {
    const pairs: Pair[] = [],
      skipped: string[] = [];
    for (const up of g.nodes) {
      const c1 = outChannels(g, up);
      if (c1 === undefined) continue;
      let v = up.outputs[0];
      let next = soleConsumer(g, v);
      const clips: { node: Node; hi: number }[] = [];
      while (next && this.isLink(g, next)) {
        const hi = clipMax(g, next);
        if (hi !== undefined) clips.push({ node: next, hi });
        v = next.outputs[0];
        next = soleConsumer(g, v);
      }
      if (next && !isLayer(g, next)) {
        const why = this.notCrossed(g, next);
        // Reported only when a layer with matching channels follows the op directly.
        const after = why ? soleConsumer(g, next.outputs[0]) : undefined;
        if (why && after && inChannels(g, after) === c1 && after.inputs[0] === next.outputs[0])
          skipped.push(`${nodeLabel(up)} -> ${nodeLabel(after)}: not crossed at ${nodeLabel(next)}: ${why}`);
      }
      if (g.outputs.some((o) => o.name === v)) continue;
      const readers = g.consumersOf(v);
      if (!readers.length || readers.some((d) => d.inputs[0] !== v || d.inputs.indexOf(v, 1) > 0 || inChannels(g, d) !== c1)) continue;
      pairs.push({ up, downs: readers, act: up.outputs[0], channels: c1, clips });
    }
    return { pairs, skipped };
  }

  /** Why an activation between two layers is not crossed (undefined for ops that are not activations). */
  private notCrossed(g: Graph, n: Node): string | undefined {
    if (n.domain !== '') return undefined;
    if (n.opType === 'Clip') {
      const b = clipBounds(g, n);
      if (!b) return 'its bounds are not constants';
      return `Clip(${b.lo}, ${b.hi}) has a lower bound other than 0: scaling moves it per channel (not handled)`;
    }
    if (
      ['HardSwish', 'HardSigmoid', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Elu', 'Selu', 'Gelu', 'Softplus', 'Mish', 'PRelu'].includes(n.opType)
    ) {
      return `${n.opType} is not positively homogeneous (f(x / s) != f(x) / s) and has no per-channel rewrite`;
    }
    if (LEVEL2.has(n.opType) && this.options.optimize_level < 2) return `${n.opType} is crossed only with optimize_level 2`;
    return undefined;
  }

  private isLink(g: Graph, n: Node): boolean {
    if (n.domain !== '') return false;
    if (n.opType === 'Relu') return true;
    if (n.opType === 'Clip') {
      // Relu-like (min 0, no max) or ReLU6-like (min 0, a constant finite max: rewritten per channel).
      const b = clipBounds(g, n);
      return !!b && b.lo === 0 && b.hi > 0;
    }
    if (this.options.optimize_level < 2 || !LEVEL2.has(n.opType)) return false;
    if (n.opType === 'Pad') {
      const mode = n.attributes.get('mode');
      if (mode && mode.value !== 'constant') return false;
      const cv = n.inputs[2] ? floatInit(g, n.inputs[2]) : undefined;
      if (n.inputs[2] && cv?.data[0] !== 0) return false;
      if (!n.inputs[2] && floatAttr(n, 'value', 0) !== 0) return false;
      // Channel pads would shift channel indices.
      const pads = n.inputs[1] ? g.initializers.get(n.inputs[1]) : undefined;
      const pv = pads
        ? Array.from(pads.data as ArrayLike<number | bigint>, Number)
        : (n.attributes.get('pads')?.value as number[] | undefined);
      if (!pv || pv.length < 4) return false;
      const r = pv.length / 2;
      return pv[1] === 0 && pv[1 + r] === 0 && pv[0] === 0 && pv[r] === 0;
    }
    return true;
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const o = this.options;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    if (o.interested_layers) {
      const names = new Set(g.nodes.map((n) => n.name));
      for (const l of o.interested_layers)
        if (!names.has(l)) this.fail(`option 'interested_layers' names node '${l}', which is not in the graph`);
    }
    // Initializers created by this apply(): only those are edited in place.
    const mine = new Set<string>();
    const scanned = this.scan(g);
    let pairs = scanned.pairs;
    report.skipped = scanned.skipped;
    if (o.interested_layers) {
      const want = new Set(o.interested_layers);
      pairs = pairs.filter((p) => want.has(p.up.name) || p.downs.some((d) => want.has(d.name)));
      // A named layer that belongs to no eligible pair is an error, not a silent no-op.
      for (const l of o.interested_layers) {
        if (pairs.some((p) => p.up.name === l || p.downs.some((d) => d.name === l))) continue;
        const n = g.nodes.find((m) => m.name === l)!;
        this.fail(
          `option 'interested_layers': ${nodeLabel(n)} is in no equalizable pair (${isLayer(g, n) ? `no Conv/Gemm joined to it directly${o.optimize_level === 1 ? ' or through Relu' : ' or through Relu, pools or zero Pad'}, each link read once` : 'not a Conv or Gemm with constant float32 weights'})`,
        );
      }
    }
    if (o.including_activation) {
      for (const p of pairs)
        if (!this.channelRanges?.get(p.act))
          this.fail(`option 'including_activation' needs calibrated ranges, none for '${p.act}' (node ${nodeLabel(p.up)})`);
    }
    // Activation ranges follow the rescaling (a_i / s_i), on a private copy.
    const act = new Map<string, Float32Array>();
    if (o.including_activation) for (const p of pairs) act.set(p.act, Float32Array.from(this.channelRanges!.get(p.act)!));
    const before = new Map<Pair, number>(),
      total = new Map<Pair, Float64Array>();
    for (const p of pairs) {
      before.set(p, spread(g, p));
      total.set(p, new Float64Array(p.channels).fill(1));
    }
    for (let it = 0; it < o.iterations; it++) {
      for (const p of pairs) {
        const r1 = upRanges(g, p.up, p.channels);
        if (o.including_bias && p.up.inputs[2]) {
          const b = floatInit(g, p.up.inputs[2])!.data as Float32Array;
          for (let i = 0; i < p.channels; i++) r1[i] = Math.max(r1[i], Math.abs(b[i]) * o.bias_multiplier);
        }
        const a = act.get(p.act);
        if (a) for (let i = 0; i < p.channels; i++) r1[i] = Math.max(r1[i], a[i] * o.activation_multiplier);
        const r2 = new Float64Array(p.channels);
        for (const d of p.downs) {
          const r = downRanges(g, d, p.channels);
          for (let i = 0; i < p.channels; i++) r2[i] = Math.max(r2[i], r[i]);
        }
        const s = new Float64Array(p.channels);
        for (let i = 0; i < p.channels; i++) {
          s[i] = Math.sqrt(Math.max(r1[i], o.weight_threshold) / Math.max(r2[i], o.weight_threshold));
          if (!Number.isFinite(s[i]) || s[i] <= 0) s[i] = 1;
          total.get(p)![i] *= s[i];
          if (a) a[i] /= s[i];
        }
        scaleUp(g, p.up, s, mine);
        for (const d of p.downs) scaleDown(g, d, s, mine);
      }
    }
    for (const p of pairs) {
      for (const c of p.clips) rewriteClip(g, c.node, c.hi, total.get(p)!, p.up);
      report.changed++;
      if (o.verbose) {
        const t = total.get(p)!;
        let lo = Infinity,
          hi = 0;
        for (const v of t) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        report.details.push(
          `${nodeLabel(p.up)} -> ${p.downs.map(nodeLabel).join(' + ')}${p.clips.length ? ` (across ${p.clips.map((c) => `Clip(0, ${c.hi})`).join(', ')}, now Relu + per-channel Min)` : ''}: ${p.channels} channels, scales in [${lo.toPrecision(3)}, ${hi.toPrecision(3)}], layer-1 channel range spread (max/min) ${before.get(p)!.toPrecision(4)} -> ${spread(g, p).toPrecision(4)}`,
        );
      }
    }
    return report;
  }
}

/** Ratio of the largest to the smallest layer-1 output-channel weight range. */
function spread(g: Graph, p: Pair): number {
  const r = upRanges(g, p.up, p.channels);
  let lo = Infinity,
    hi = 0;
  for (const v of r) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo > 0 ? hi / lo : Infinity;
}

function isLayer(g: Graph, n: Node): boolean {
  return (
    n.domain === '' &&
    (n.opType === 'Conv' || n.opType === 'Gemm') &&
    !!floatInit(g, n.inputs[1]) &&
    (!n.inputs[2] || !!floatInit(g, n.inputs[2]))
  );
}

function outChannels(g: Graph, n: Node): number | undefined {
  if (!isLayer(g, n)) return undefined;
  const w = floatInit(g, n.inputs[1])!;
  if (n.opType === 'Conv') return w.dims[0];
  if (w.rank !== 2) return undefined;
  return intAttr(n, 'transB', 0) ? w.dims[0] : w.dims[1];
}

function inChannels(g: Graph, n: Node): number | undefined {
  if (!isLayer(g, n)) return undefined;
  const w = floatInit(g, n.inputs[1])!;
  if (n.opType === 'Conv') return w.dims[1] * intAttr(n, 'group', 1);
  if (w.rank !== 2 || intAttr(n, 'transA', 0)) return undefined;
  return intAttr(n, 'transB', 0) ? w.dims[1] : w.dims[0];
}

/** Visits (flat index, channel) of a layer's weight for its output channels. */
function forOut(g: Graph, n: Node, f: (idx: number, ch: number) => void): void {
  const w = floatInit(g, n.inputs[1])!;
  if (n.opType === 'Conv' || intAttr(n, 'transB', 0)) {
    const per = w.size / w.dims[0];
    for (let i = 0; i < w.size; i++) f(i, Math.floor(i / per));
  } else {
    const cols = w.dims[1];
    for (let i = 0; i < w.size; i++) f(i, i % cols);
  }
}

/** Visits (flat index, input channel) of a layer's weight. */
function forIn(g: Graph, n: Node, f: (idx: number, ch: number) => void): void {
  const w = floatInit(g, n.inputs[1])!;
  if (n.opType === 'Conv') {
    const group = intAttr(n, 'group', 1);
    const m = w.dims[0],
      cg = w.dims[1],
      k = w.size / (m * cg),
      mg = m / group;
    for (let i = 0; i < w.size; i++) {
      const oc = Math.floor(i / (cg * k)),
        ic = Math.floor(i / k) % cg;
      f(i, Math.floor(oc / mg) * cg + ic);
    }
  } else if (intAttr(n, 'transB', 0)) {
    const cols = w.dims[1];
    for (let i = 0; i < w.size; i++) f(i, i % cols);
  } else {
    const cols = w.dims[1];
    for (let i = 0; i < w.size; i++) f(i, Math.floor(i / cols));
  }
}

function upRanges(g: Graph, n: Node, c: number): Float64Array {
  const w = floatInit(g, n.inputs[1])!.data as Float32Array;
  const r = new Float64Array(c);
  forOut(g, n, (i, ch) => {
    r[ch] = Math.max(r[ch], Math.abs(w[i]));
  });
  return r;
}

function downRanges(g: Graph, n: Node, c: number): Float64Array {
  const w = floatInit(g, n.inputs[1])!.data as Float32Array;
  const r = new Float64Array(c);
  forIn(g, n, (i, ch) => {
    r[ch] = Math.max(r[ch], Math.abs(w[i]));
  });
  return r;
}

/**
 * Applies f to a node's initializer input. Initializers in `mine` (created during the current
 * apply()) are edited in place; any other is copied first (it may be shared with another node or
 * with a cloned model).
 */
function rewrite(g: Graph, n: Node, input: number, f: (d: Float32Array) => void, mine: Set<string>): void {
  const t = floatInit(g, n.inputs[input])!;
  if (mine.has(n.inputs[input])) {
    f(t.data as Float32Array);
    return;
  }
  const d = Float32Array.from(t.data as Float32Array);
  f(d);
  const name = g.uniqueName(`${n.inputs[input]}_eq`);
  g.initializers.set(name, new Tensor('float32', d, t.dims));
  mine.add(name);
  const old = n.inputs[input];
  n.inputs[input] = name;
  if (!g.nodes.some((m) => m.inputs.includes(old)) && !g.outputs.some((v) => v.name === old)) {
    g.initializers.delete(old);
    g.inputs = g.inputs.filter((v) => v.name !== old);
  }
}

function scaleUp(g: Graph, n: Node, s: Float64Array, mine: Set<string>): void {
  rewrite(
    g,
    n,
    1,
    (d) =>
      forOut(g, n, (i, ch) => {
        d[i] = d[i] / s[ch];
      }),
    mine,
  );
  if (n.inputs[2])
    rewrite(
      g,
      n,
      2,
      (d) => {
        for (let i = 0; i < d.length; i++) d[i] = d[i] / s[i];
      },
      mine,
    );
}

function scaleDown(g: Graph, n: Node, s: Float64Array, mine: Set<string>): void {
  rewrite(
    g,
    n,
    1,
    (d) =>
      forIn(g, n, (i, ch) => {
        d[i] = d[i] * s[ch];
      }),
    mine,
  );
}

/** Constant Clip bounds (attributes before opset 11, initializer inputs after); undefined when not constant. */
function clipBounds(g: Graph, n: Node): { lo: number; hi: number } | undefined {
  const F = 3.4028234663852886e38;
  const read = (i: number, attr: string, dflt: number): number | undefined => {
    if (n.inputs[i]) {
      const t = floatInit(g, n.inputs[i]);
      return t && t.size === 1 ? (t.data[0] as number) : undefined;
    }
    return floatAttr(n, attr, dflt);
  };
  const lo = read(1, 'min', -F),
    hi = read(2, 'max', F);
  return lo === undefined || hi === undefined ? undefined : { lo, hi };
}

/** The finite upper bound of a crossable Clip(0, hi), else undefined (Relu, Clip without max, other links). */
function clipMax(g: Graph, n: Node): number | undefined {
  if (n.opType !== 'Clip') return undefined;
  const b = clipBounds(g, n);
  return b && b.hi < 3.4028234663852886e38 ? b.hi : undefined;
}

/**
 * Clip(x, 0, hi) -> Min(Relu(x), c) with c_i = hi / scale_i, shaped [C, 1, ...] to broadcast over
 * the channel axis (axis 1) of the layer's output (rank 2 for Gemm, the weight's rank for Conv).
 */
function rewriteClip(g: Graph, clip: Node, hi: number, scale: Float64Array, up: Node): void {
  const rank = up.opType === 'Conv' ? floatInit(g, up.inputs[1])!.rank : 2;
  const c = Float32Array.from(scale, (s) => hi / s);
  const cName = putInit(g, `${clip.name || clip.outputs[0]}_eq_max`, c, [c.length, ...new Array<number>(rank - 2).fill(1)]);
  const mid = g.uniqueName(`${clip.outputs[0]}_relu`);
  const label = clip.name || clip.outputs[0];
  const relu = makeNode('Relu', [clip.inputs[0]], [mid], {}, g.uniqueName(`${label}_relu`));
  const min = makeNode('Min', [mid, cName], [clip.outputs[0]], {}, g.uniqueName(`${label}_min`));
  g.replaceNode(clip, relu, min);
  dropUnusedInits(g);
}
