/**
 * SmoothQuant (Xiao et al. 2023, "SmoothQuant: Accurate and Efficient Post-Training Quantization for
 * Large Language Models", ICML): moves activation outliers into the weights of the layers reading them.
 *
 * For linear layers Y = X W reading an activation X whose channels are on the last axis (K channels),
 * W constant [K, N], per input channel j
 *     s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)
 * with max|X_j| over the calibration data (every axis but the last) and max|W_j| over row j of W
 * (every output it feeds); then X' = X / s and W' = diag(s) W, so X' W' = X W. The 1/s goes into
 * the constants of the node producing X, so the float function is preserved (to float rounding).
 * alpha = 0.5 balances the two ranges: max|X'_j| = max|W'_j| = sqrt(max|X_j| max|W_j|).
 * s_j is clamped to at least minScale; a channel with max|X_j| = 0 or max|W_j| = 0, or a non-finite
 * s_j (an infinite range), keeps s_j = 1 (nothing to balance, or no trustworthy scale).
 *
 * Sites: an activation X (not a graph output) whose every reader is a linear layer with a constant
 * float32 weight taking X as its data input: MatMul(X, W) with W a 2-D initializer [K, N], or
 * Gemm(X, W) with transA = 0 (W [K, N], or [N, K] with transB = 1). All readers share one s, from
 * max|W_j| over all of them (the paper's shared scale for the Q/K/V projections).
 * Producers of X that absorb 1/s (per last-axis channel):
 *  - LayerNormalization over the last axis: Scale (gamma) and B (beta), constant float32 [K];
 *  - Mul(a, c) with c constant per channel ([K], [.., K], or one value, then expanded to [K]);
 *  - Add(Mul(a, c), b) (a decomposed LayerNorm's gamma and beta, a BatchNorm-like affine), the Mul
 *    read only by the Add: c and b;
 *  - MatMul/Gemm with a constant weight: its output columns, Gemm's C, and the constant of an Add
 *    after it (its bias, when the Add is the layer output's only reader).
 * Anything else (a graph input, Relu, a residual Add of two activations, a reader that is not such a
 * layer, as the residual Add reading a post-LN BERT's LayerNorm output, missing ranges) is left
 * alone and listed in the report's `skipped` with why. Initializers are copied under a fresh name
 * before an edit (they may be shared with other nodes); the originals go when nothing reads them.
 */
import { OnnxPtqError } from '../errors.js';
import type { Graph, Model, Node } from '../ir/graph.js';
import { inferAndFold } from '../ir/infer.js';
import { GraphPass, floatInit, intAttr, nodeLabel, putInit, soleConsumer, type PassReport } from './pass.js';

export interface SmoothQuantOptions {
  /**
   * Migration strength in [0, 1]: s_j = max|X_j|^alpha / max|W_j|^(1 - alpha). 0 leaves the
   * activation ranges' spread alone (only the weights are normalized), 1 moves it all into the
   * weights. Default 0.5 (the paper's choice for most models).
   */
  alpha: number;
  /** Smallest s_j: smaller ones are raised to it (1 / s_j multiplies the producer's constants). Default 1e-5. */
  minScale: number;
  /** Report every smoothed activation. Default false. */
  verbose: boolean;
}

export const DEFAULT_SMOOTH_QUANT_OPTIONS: SmoothQuantOptions = {
  alpha: 0.5,
  minScale: 1e-5,
  verbose: false,
};

/** A constant the pass rescales: `node.inputs[input]`, element i in channel `channel(i)`. */
export interface SmoothQuantEdit {
  node: Node;
  input: number;
  channel: (i: number) => number;
  /** Set when a one-value constant is expanded to one value per channel: its new dims. */
  expand?: number[];
}

export interface SmoothQuantSite {
  /** The smoothed activation X. */
  act: string;
  /** Its channel count K (last axis). */
  channels: number;
  /** The node producing X (the Add for the Mul + Add and layer + bias producers). */
  producer: Node;
  /** What absorbs 1/s: a LayerNormalization, a constant Mul (+ Add), or a linear layer (+ bias). */
  kind: 'layernorm' | 'affine' | 'linear';
  /** The linear layers reading X; they share s. */
  readers: Node[];
  /** The producer-side constants divided by s. */
  absorb: SmoothQuantEdit[];
}

const SUPPORTED =
  'supported producers: LayerNormalization over the last axis, Mul by a constant, Add of a constant to such a Mul or to a MatMul/Gemm, MatMul/Gemm with a constant weight';

export class SmoothQuantPass extends GraphPass<SmoothQuantOptions> {
  readonly name = 'smooth-quant';

  /**
   * `ranges`: max |value| per last-axis channel of activations (by tensor name), from a float
   * calibration run over every axis but the last; a site without them is skipped.
   */
  constructor(
    options: Partial<SmoothQuantOptions> = {},
    private readonly ranges?: ReadonlyMap<string, Float32Array>,
  ) {
    super(DEFAULT_SMOOTH_QUANT_OPTIONS, options);
    const o = this.options;
    const bad = (k: keyof SmoothQuantOptions, want: string): never => {
      throw new OnnxPtqError('INVALID_OPTION', `${this.name}: option '${k}' must be ${want}, got ${JSON.stringify(o[k])}`);
    };
    if (typeof o.alpha !== 'number' || !Number.isFinite(o.alpha) || o.alpha < 0 || o.alpha > 1) bad('alpha', 'a number in [0, 1]');
    if (typeof o.minScale !== 'number' || !Number.isFinite(o.minScale) || o.minScale <= 0) bad('minScale', 'a finite number > 0');
    if (typeof o.verbose !== 'boolean') bad('verbose', 'true or false');
  }

  /** The activations the pass would smooth given their ranges (quantize() measures exactly these, on the last axis). */
  findSites(model: Model): SmoothQuantSite[] {
    return this.scan(model).sites;
  }

  /** Sites, and the activations read by a linear layer that cannot be smoothed, each with why. */
  scan(model: Model): { sites: SmoothQuantSite[]; skipped: string[] } {
    const g = model.graph;
    const sites: SmoothQuantSite[] = [],
      skipped: string[] = [];
    const inner = subgraphReads(g);
    const outputs = new Set(g.outputs.map((v) => v.name));
    let types: ReturnType<typeof inferAndFold>['types'] | undefined;
    const rankOf = (v: string): number | undefined => {
      // Shape inference only when a LayerNormalization gives a non-negative axis.
      types ??= inferAndFold(model).types;
      return types.get(v)?.shape?.length;
    };
    const seen = new Set<string>();
    for (const n of g.nodes) {
      const x = n.inputs[0];
      if (!x || seen.has(x) || readerChannels(g, n, x) === undefined) continue;
      seen.add(x);
      if (g.initializers.has(x)) continue;
      const readers = g.consumersOf(x);
      const why = (): string | SmoothQuantSite => {
        if (outputs.has(x)) return 'it is a graph output (its values would change)';
        if (inner.has(x)) return 'it is read inside a subgraph';
        const bad = readers.find((d) => readerChannels(g, d, x) === undefined);
        if (bad)
          return `${nodeLabel(bad)} also reads it and is not a MatMul/Gemm taking it as data input with a constant float32 weight (it would see X / s)`;
        const k = readerChannels(g, readers[0], x)!;
        if (readers.some((d) => readerChannels(g, d, x) !== k)) return 'its readers disagree on its channel count';
        const p = g.producerOf(x);
        if (!p) return 'it is a graph input: no node produces it to absorb 1/s';
        const a = absorber(g, p, x, k, inner, rankOf);
        if (typeof a === 'string') return a;
        return { act: x, channels: k, producer: p, kind: a.kind, readers, absorb: a.edits };
      };
      const r = why();
      if (typeof r === 'string') skipped.push(`'${x}' (read by ${readers.map(nodeLabel).join(', ')}): not smoothed: ${r}`);
      else sites.push(r);
    }
    return { sites, skipped };
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const o = this.options;
    const scanned = this.scan(model);
    const report: PassReport = { pass: this.name, changed: 0, details: [], skipped: scanned.skipped };
    // Every s from the original weights and ranges first: a layer can read one site and produce the
    // next, and each site's X changes only by its own s, so the calibrated ranges stay valid.
    const planned: { site: SmoothQuantSite; s: Float64Array; xmax: Float32Array; wmax: Float64Array }[] = [];
    for (const site of scanned.sites) {
      const label = `'${site.act}' (${nodeLabel(site.producer)} -> ${site.readers.map(nodeLabel).join(' + ')})`;
      const xmax = this.ranges?.get(site.act);
      if (!xmax) {
        report.skipped!.push(`${label}: not smoothed: no calibrated ranges for it (max |X_j| per last-axis channel)`);
        continue;
      }
      if (xmax.length !== site.channels) {
        report.skipped!.push(`${label}: not smoothed: its ranges have ${xmax.length} channels, its readers ${site.channels}`);
        continue;
      }
      const wmax = new Float64Array(site.channels);
      for (const d of site.readers) {
        const w = floatInit(g, d.inputs[1])!.data as Float32Array;
        const ch = rowChannel(g, d);
        for (let i = 0; i < w.length; i++) wmax[ch(i)] = Math.max(wmax[ch(i)], Math.abs(w[i]));
      }
      const s = new Float64Array(site.channels);
      for (let j = 0; j < s.length; j++) {
        if (!(xmax[j] > 0) || !(wmax[j] > 0)) {
          s[j] = 1;
          continue;
        }
        const v = xmax[j] ** o.alpha / wmax[j] ** (1 - o.alpha);
        s[j] = !Number.isFinite(v) ? 1 : Math.max(v, o.minScale);
      }
      planned.push({ site, s, xmax, wmax });
    }
    // Initializers created by this apply(): only those are edited in place.
    const mine = new Set<string>();
    const replaced = new Set<string>();
    for (const { site, s, xmax, wmax } of planned) {
      for (const e of site.absorb) rescale(g, e, s, false, mine, replaced);
      for (const d of site.readers) rescale(g, { node: d, input: 1, channel: rowChannel(g, d) }, s, true, mine, replaced);
      report.changed++;
      if (o.verbose) {
        let lo = Infinity,
          hi = 0,
          x0 = 0,
          x1 = 0,
          w0 = 0,
          w1 = 0;
        for (let j = 0; j < s.length; j++) {
          lo = Math.min(lo, s[j]);
          hi = Math.max(hi, s[j]);
          x0 = Math.max(x0, xmax[j]);
          x1 = Math.max(x1, xmax[j] / s[j]);
          w0 = Math.max(w0, wmax[j]);
          w1 = Math.max(w1, wmax[j] * s[j]);
        }
        const f = (v: number) => v.toPrecision(4);
        report.details.push(
          `'${site.act}' (${nodeLabel(site.producer)} -> ${site.readers.map(nodeLabel).join(' + ')}): ${site.channels} channels, s in [${lo.toPrecision(3)}, ${hi.toPrecision(3)}], max|X| ${f(x0)} -> ${f(x1)}, max|W| ${f(w0)} -> ${f(w1)}`,
        );
      }
    }
    // Originals that nothing reads any more (they may still serve other nodes or subgraphs).
    const used = g.readNames();
    for (const name of replaced) {
      if (used.has(name) || mine.has(name)) continue;
      g.initializers.delete(name);
      g.inputs = g.inputs.filter((v) => v.name !== name);
    }
    return report;
  }
}

/** Input channels K of a linear layer reading `x` as data input with a constant float32 2-D weight, else undefined. */
function readerChannels(g: Graph, n: Node, x: string): number | undefined {
  if (n.domain !== '' || n.inputs[0] !== x || n.inputs.indexOf(x, 1) > 0) return undefined;
  const w = floatInit(g, n.inputs[1]);
  if (w?.rank !== 2) return undefined;
  if (n.opType === 'MatMul') return w.dims[0];
  if (n.opType === 'Gemm' && intAttr(n, 'transA', 0) === 0) return intAttr(n, 'transB', 0) ? w.dims[1] : w.dims[0];
  return undefined;
}

/** The input channel of each element of a reader's weight: row j of [K, N], column j of Gemm's transB [N, K]. */
function rowChannel(g: Graph, n: Node): (i: number) => number {
  const c = floatInit(g, n.inputs[1])!.dims[1]!;
  if (n.opType === 'Gemm' && intAttr(n, 'transB', 0)) return (i) => i % c;
  return (i) => Math.floor(i / c);
}

/** A per-channel edit of a constant broadcast over the last axis (last dim K, or one value expanded to K), else undefined. */
function lastAxisEdit(g: Graph, n: Node, input: number, k: number): SmoothQuantEdit | undefined {
  const t = floatInit(g, n.inputs[input]);
  if (!t) return undefined;
  if (t.rank >= 1 && t.dims[t.rank - 1] === k) return { node: n, input, channel: (i) => i % k };
  // One value for all channels becomes one per channel; same rank, so the output shape is unchanged.
  if (t.size === 1) return { node: n, input, channel: (i) => i, expand: t.rank ? [...t.dims.slice(0, -1), k] : [k] };
  return undefined;
}

/** The constant input of a binary op whose other input is not a constant, or undefined. */
function constSide(g: Graph, n: Node): number | undefined {
  if (n.inputs.length !== 2) return undefined;
  const c0 = g.initializers.has(n.inputs[0]),
    c1 = g.initializers.has(n.inputs[1]);
  return c0 === c1 ? undefined : c0 ? 0 : 1;
}

/** The edits dividing a linear layer's output columns (K of them) by s, or why it cannot. */
function linearOut(g: Graph, q: Node, k: number): SmoothQuantEdit[] | string {
  const w = floatInit(g, q.inputs[1]);
  const isLinear = q.domain === '' && (q.opType === 'MatMul' || q.opType === 'Gemm');
  if (!isLinear || !w || w.rank !== 2) return `${nodeLabel(q)} is not a MatMul/Gemm with a constant float32 2-D weight`;
  const [r, c] = w.dims as [number, number];
  if (q.opType === 'Gemm' && intAttr(q, 'transB', 0)) {
    if (r !== k) return `${nodeLabel(q)} has ${r} output columns, ${k} expected`;
    const edits: SmoothQuantEdit[] = [{ node: q, input: 1, channel: (i) => Math.floor(i / c) }];
    return withBias(g, q, k, edits);
  }
  if (c !== k) return `${nodeLabel(q)} has ${c} output columns, ${k} expected`;
  return withBias(g, q, k, [{ node: q, input: 1, channel: (i) => i % k }]);
}

function withBias(g: Graph, q: Node, k: number, edits: SmoothQuantEdit[]): SmoothQuantEdit[] | string {
  if (q.opType !== 'Gemm' || !q.inputs[2]) return edits;
  const e = lastAxisEdit(g, q, 2, k);
  if (!e) return `${nodeLabel(q)}'s C '${q.inputs[2]}' is not a constant float32 per output column`;
  return [...edits, e];
}

/** How the producer of `x` absorbs 1/s, or why it cannot. */
function absorber(
  g: Graph,
  p: Node,
  x: string,
  k: number,
  inner: ReadonlySet<string>,
  rankOf: (v: string) => number | undefined,
): { kind: SmoothQuantSite['kind']; edits: SmoothQuantEdit[] } | string {
  if (p.domain !== '') return `${nodeLabel(p)} cannot absorb 1/s (${SUPPORTED})`;
  if (p.opType === 'LayerNormalization') {
    if (p.outputs[0] !== x) return `it is not the normalized output of ${nodeLabel(p)}`;
    const axis = intAttr(p, 'axis', -1);
    if (axis !== -1) {
      const rank = axis >= 0 ? rankOf(p.inputs[0]) : undefined;
      if (axis >= 0 && rank === undefined) return `${nodeLabel(p)} has axis ${axis} and the rank of its input is unknown`;
      if (axis < 0 || axis !== rank! - 1) return `${nodeLabel(p)} normalizes over more than the last axis (axis ${axis})`;
    }
    const edits: SmoothQuantEdit[] = [];
    for (const [i, what] of [
      [1, 'Scale (gamma)'],
      [2, 'B (beta)'],
    ] as const) {
      if (i === 2 && !p.inputs[2]) continue;
      const t = floatInit(g, p.inputs[i]);
      if (t?.rank !== 1 || t.size !== k) return `${nodeLabel(p)}'s ${what} '${p.inputs[i]}' is not a constant float32 [${k}]`;
      edits.push({ node: p, input: i, channel: (j) => j });
    }
    return { kind: 'layernorm', edits };
  }
  if (p.opType === 'Mul' || p.opType === 'Add') {
    const ci = constSide(g, p);
    if (ci === undefined) {
      if (p.opType === 'Add' && p.inputs.every((v) => !g.initializers.has(v)))
        return `${nodeLabel(p)} adds two activations (a residual sum): neither side can absorb 1/s alone`;
      return `${nodeLabel(p)} has no constant operand to absorb 1/s`;
    }
    const e = lastAxisEdit(g, p, ci, k);
    if (!e) return `${nodeLabel(p)}'s constant '${p.inputs[ci]}' is not per channel of the last axis (${k} channels)`;
    if (p.opType === 'Mul') return { kind: 'affine', edits: [e] };
    const m = p.inputs[1 - ci];
    const q = g.producerOf(m);
    if (!q) return `${nodeLabel(p)} adds a constant to graph input '${m}': nothing absorbs 1/s`;
    if (soleConsumer(g, m) !== p || inner.has(m)) return `'${m}' (into ${nodeLabel(p)}) has other readers, which would see it divided by s`;
    if (q.domain === '' && q.opType === 'Mul') {
      const qi = constSide(g, q);
      const qe = qi === undefined ? undefined : lastAxisEdit(g, q, qi, k);
      if (!qe) return `${nodeLabel(p)} adds a constant to ${nodeLabel(q)}, which is not a Mul by a per-channel constant`;
      return { kind: 'affine', edits: [qe, e] };
    }
    if (q.domain === '' && (q.opType === 'MatMul' || q.opType === 'Gemm')) {
      const l = linearOut(g, q, k);
      return typeof l === 'string' ? l : { kind: 'linear', edits: [...l, e] };
    }
    return `${nodeLabel(p)} adds a constant to the output of ${nodeLabel(q)}, which is not a Mul by a constant or a MatMul/Gemm with a constant weight`;
  }
  if (p.opType === 'MatMul' || p.opType === 'Gemm') {
    const l = linearOut(g, p, k);
    return typeof l === 'string' ? l : { kind: 'linear', edits: l };
  }
  return `${nodeLabel(p)} cannot absorb 1/s (${SUPPORTED})`;
}

/** Values read inside subgraphs (If/Loop/Scan bodies): the pass leaves those alone. */
function subgraphReads(g: Graph): Set<string> {
  const s = new Set<string>();
  for (const n of g.nodes)
    for (const a of n.attributes.values()) {
      const subs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
      for (const sg of subs) for (const v of sg.readNames()) s.add(v);
    }
  return s;
}

/**
 * Multiplies (or divides) a constant by s per channel. An initializer created by this apply() (in
 * `mine`) is edited in place; any other is copied under a fresh name first (another node, or a
 * cloned model, may share it), its old name recorded in `replaced`.
 */
function rescale(g: Graph, e: SmoothQuantEdit, s: Float64Array, multiply: boolean, mine: Set<string>, replaced: Set<string>): void {
  const name = e.node.inputs[e.input];
  const t = floatInit(g, name)!;
  const src = t.data as Float32Array;
  const inPlace = mine.has(name) && !e.expand;
  const dims = e.expand ?? [...t.dims];
  const d = e.expand ? new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(src[0]) : inPlace ? src : Float32Array.from(src);
  for (let i = 0; i < d.length; i++) {
    const c = s[e.channel(i)];
    d[i] = multiply ? d[i] * c : d[i] / c;
  }
  if (inPlace) return;
  const fresh = putInit(g, `${name}_sq`, d, dims);
  mine.add(fresh);
  replaced.add(name);
  e.node.inputs[e.input] = fresh;
}
