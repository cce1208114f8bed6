/**
 * LayerNorm fusion (as onnxruntime's LayerNormFusion): the decomposed layer norm that exporters
 * emit below opset 17,
 *   m = ReduceMean(x, trailing axes); d = x - m; v = ReduceMean(Pow(d, 2) or d * d, same axes);
 *   y = d / Sqrt(v + eps) [* gamma] [+ beta]   (gamma, beta, eps constants)
 * becomes one LayerNormalization node (opset 17; src/ops/normalization.ts). In the float session:
 * nine passes over the tensor and eight intermediate arrays become three passes and one array. In
 * quantize(): one unit quantized on its input and output, with gamma and beta inside the integer
 * step instead of two more quantized ops after an 8-bit normalized tensor. It fires only when every
 * intermediate is read by the pattern alone and is no graph output (the session holds fetched
 * values as graph outputs while it fuses), the axes are the trailing ones and the normalized shape
 * is static (from x's shape, or, when that is unknown, spelled out by gamma or beta). The results are the same function, computed in float64 inside the row.
 */
import { makeNode, type Graph, type Model, type Node } from '../ir/graph.js';
import type { TypeInfo } from '../ops/types.js';
import { GraphPass, floatInit, putInit, soleConsumer, type PassReport } from './pass.js';

export interface FuseLayerNormOptions {
  /** Report each fusion. Default false. */
  verbose: boolean;
}

export class FuseLayerNormPass extends GraphPass<FuseLayerNormOptions> {
  readonly name = 'fuse-layernorm';

  /** `types`: shapes from inference (the normalized shape must be static). */
  constructor(
    options: Partial<FuseLayerNormOptions>,
    private readonly types: ReadonlyMap<string, TypeInfo>,
  ) {
    super({ verbose: false }, options);
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const details: string[] = [];
    for (const mean of [...g.nodes]) {
      if (!g.nodes.includes(mean)) continue;
      const site = match(g, mean, this.types);
      if (!site) continue;
      const { x, axis, eps, normDims, remove, out } = site;
      let { gamma, beta } = site;
      const size = normDims.reduce((a, b) => a * b, 1);
      gamma ??= putInit(g, `${out}_ln_scale`, new Float32Array(size).fill(1), normDims);
      const fused = makeNode(
        'LayerNormalization',
        beta ? [x, gamma, beta] : [x, gamma],
        [out],
        { axis: { type: 'int', value: axis }, epsilon: { type: 'float', value: eps } },
        g.uniqueName(`${mean.name || out}_LayerNorm`),
      );
      g.replaceNode(remove[remove.length - 1]!, fused);
      for (const r of remove.slice(0, -1)) g.removeNode(r);
      details.push(
        `${fused.name}: ${remove.length} nodes from '${mean.name || mean.outputs[0]}' -> LayerNormalization over [${normDims.join(', ')}], eps ${eps}`,
      );
    }
    return { pass: this.name, changed: details.length, details };
  }
}

interface Site {
  x: string;
  axis: number;
  eps: number;
  normDims: number[];
  gamma?: string;
  beta?: string;
  /** The pattern's nodes, the last one producing `out`. */
  remove: Node[];
  out: string;
}

function match(g: Graph, mean: Node, types: ReadonlyMap<string, TypeInfo>): Site | undefined {
  if (!isMean(mean)) return undefined;
  const x = mean.inputs[0]!;
  // Without x's shape (quantize() keeps dynamic dimensions unbound) the axes must count from the
  // end, and the normalized shape comes from gamma or beta below.
  const shape = types.get(x)?.shape;
  const rank = shape?.length;
  const axis = trailingAxis(g, mean, rank);
  if (axis === undefined) return undefined;
  let normDims: number[] | undefined = shape?.slice(axis) as number[] | undefined;
  if (normDims && !normDims.every((d) => typeof d === 'number' && d > 0)) return undefined;
  // d = x - m: read by the square and the division only.
  const sub = soleConsumer(g, mean.outputs[0]!);
  if (sub?.opType !== 'Sub' || sub.domain !== '' || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) return undefined;
  const d = sub.outputs[0]!;
  if (g.outputs.some((o) => o.name === d)) return undefined;
  const readers = g.consumersOf(d);
  if (readers.length !== 2) return undefined;
  const sq = readers.find((r) => isSquareOf(g, r, d));
  const div = readers.find((r) => r !== sq && r.opType === 'Div' && r.domain === '' && r.inputs[0] === d);
  if (!sq || !div) return undefined;
  const varMean = soleConsumer(g, sq.outputs[0]!);
  if (!varMean || !isMean(varMean) || varMean.inputs[0] !== sq.outputs[0] || trailingAxis(g, varMean, rank) !== axis) return undefined;
  const addEps = soleConsumer(g, varMean.outputs[0]!);
  if (addEps?.opType !== 'Add' || addEps.domain !== '') return undefined;
  const epsName = addEps.inputs[0] === varMean.outputs[0] ? addEps.inputs[1] : addEps.inputs[0];
  const eps = scalar(g, epsName);
  if (eps === undefined || !(eps >= 0)) return undefined;
  const sqrt = soleConsumer(g, addEps.outputs[0]!);
  if (!sqrt || !isSqrt(g, sqrt) || soleConsumer(g, sqrt.outputs[0]!) !== div || div.inputs[1] !== sqrt.outputs[0]) return undefined;
  const remove = [mean, sub, sq, varMean, addEps, sqrt, div];
  let out = div.outputs[0]!;
  let gamma: string | undefined, beta: string | undefined;
  const mul = soleConsumer(g, out);
  const other = (n: Node, v: string) => (n.inputs[0] === v ? n.inputs[1] : n.inputs[0]);
  normDims ??= fullNorm(g, mul, out, -axis) ?? fullNorm(g, mul && soleConsumer(g, mul.outputs[0]!), mul?.outputs[0], -axis);
  if (!normDims) return undefined;
  if (mul?.opType === 'Mul' && mul.domain === '' && fitsNorm(g, other(mul, out), normDims)) {
    gamma = other(mul, out);
    remove.push(mul);
    out = mul.outputs[0]!;
  }
  const add = soleConsumer(g, out);
  if (add?.opType === 'Add' && add.domain === '' && fitsNorm(g, other(add, out), normDims)) {
    beta = other(add, out);
    remove.push(add);
    out = add.outputs[0]!;
  }
  return { x, axis, eps, normDims, gamma, beta, remove, out };
}

function isMean(n: Node): boolean {
  const keep = n.attributes.get('keepdims');
  return n.opType === 'ReduceMean' && n.domain === '' && n.outputs.length === 1 && (!keep || (keep.type === 'int' && keep.value === 1));
}

/**
 * The first axis when the reduced axes are exactly [axis, rank), else undefined; with the rank
 * unknown, the axes must be negative and end at -1, and the axis is negative too.
 */
function trailingAxis(g: Graph, n: Node, rank: number | undefined): number | undefined {
  const attr = n.attributes.get('axes');
  let axes: number[] | undefined;
  if (attr?.type === 'ints') axes = attr.value;
  else if (n.inputs[1]) {
    const t = g.initializers.get(n.inputs[1]);
    if (t?.dtype === 'int64' || t?.dtype === 'int32') axes = Array.from(t.data as ArrayLike<number | bigint>, Number);
  }
  if (!axes?.length) return undefined;
  if (rank === undefined) {
    const neg = [...new Set(axes)].sort((a, b) => a - b);
    return neg.every((a, i) => a < 0 && a === neg[0]! + i) && neg[neg.length - 1] === -1 ? neg[0] : undefined;
  }
  const norm = [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (norm.some((a) => a < 0 || a >= rank) || norm[norm.length - 1] !== rank - 1) return undefined;
  return norm.every((a, i) => a === norm[0]! + i) ? norm[0] : undefined;
}

function isSquareOf(g: Graph, n: Node, d: string): boolean {
  if (n.domain !== '' || n.outputs.length !== 1) return false;
  if (n.opType === 'Mul') return n.inputs[0] === d && n.inputs[1] === d;
  return n.opType === 'Pow' && n.inputs[0] === d && scalar(g, n.inputs[1]) === 2;
}

function isSqrt(g: Graph, n: Node): boolean {
  if (n.domain !== '') return false;
  return n.opType === 'Sqrt' || (n.opType === 'Pow' && scalar(g, n.inputs[1]) === 0.5);
}

/** A one-element float32 constant's value. */
function scalar(g: Graph, name: string | undefined): number | undefined {
  const t = floatInit(g, name);
  return t?.size === 1 ? (t.data as Float32Array)[0] : undefined;
}

/**
 * The normalized shape of `k` axes read off the constant operand of `n` (a Mul by gamma or Add of
 * beta reading `v`), when that constant spells all of it (no 1s standing for broadcast axes).
 */
function fullNorm(g: Graph, n: Node | undefined, v: string | undefined, k: number): number[] | undefined {
  if (!n || !v || n.domain !== '' || (n.opType !== 'Mul' && n.opType !== 'Add') || n.inputs.length !== 2) return undefined;
  const t = floatInit(g, n.inputs[0] === v ? n.inputs[1] : n.inputs[0]);
  if (!t) return undefined;
  const dims = [...t.dims];
  while (dims.length > k && dims[0] === 1) dims.shift();
  return dims.length === k && dims.every((d) => d > 1) ? dims : undefined;
}

/** A float32 constant that broadcasts to the normalized shape without widening it (leading 1s allowed). */
function fitsNorm(g: Graph, name: string | undefined, normDims: number[]): boolean {
  const t = floatInit(g, name);
  if (!t) return false;
  const dims = [...t.dims];
  while (dims.length > normDims.length && dims[0] === 1) dims.shift();
  if (dims.length > normDims.length) return false;
  const off = normDims.length - dims.length;
  return dims.every((v, i) => v === 1 || v === normDims[off + i]);
}
