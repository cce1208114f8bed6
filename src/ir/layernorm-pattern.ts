/**
 * Exporters' decomposed LayerNorm over the last axis (Paddle2ONNX, PyTorch before opset 17):
 *
 *   m = ReduceMean(x, axes=[-1]);  d = Sub(x, m);  p = Pow(d, 2) (or Mul(d, d));
 *   v = ReduceMean(p, axes=[-1]);  e = Add(v, eps);  s = Sqrt(e);  n = Div(d, s)
 *
 * with eps a one-element constant; the scale and shift (Mul by gamma, Add beta) follow as ordinary
 * nodes. One matcher serves the quantizer's plan (src/ptq/plan.ts: the unit gets Q/DQ on x and n
 * only) and the integer lowering (src/runtime/integer/lower/layernorm.ts: one integer step from x's
 * DequantizeLinear to n's QuantizeLinear).
 */
import type { Graph, Node } from './graph.js';

export interface LayerNormMatch {
  /** The normalized input. */
  x: string;
  /** The normalized output n (before gamma and beta). */
  output: string;
  eps: number;
  /** Every node of the pattern, the first ReduceMean first. */
  nodes: Node[];
  /** The node that writes the output (the Div). */
  last: Node;
}

const op = (n: Node | undefined, t: string): n is Node => !!n && n.opType === t && (!n.domain || n.domain === 'ai.onnx');

/** The one-element float value of a constant, or undefined. */
function scalarConst(g: Graph, v: string): number | undefined {
  const t = g.initializers.get(v);
  if (t?.size !== 1 || (t.dtype !== 'float32' && t.dtype !== 'float64')) return undefined;
  return Number((t.data as Float32Array)[0]);
}

/** ReduceMean over the last axis only, keepdims: its axes from the attribute or a constant input. */
function meanOverLast(g: Graph, n: Node, rank: number | undefined): boolean {
  if (!op(n, 'ReduceMean')) return false;
  const kd = n.attributes.get('keepdims');
  if (kd && kd.value !== 1) return false;
  const a = n.attributes.get('axes');
  let axes: number[] | undefined = a && Array.isArray(a.value) ? (a.value as number[]).map(Number) : undefined;
  if (!axes && n.inputs[1]) {
    const t = g.initializers.get(n.inputs[1]);
    axes = t ? Array.from(t.data as BigInt64Array, Number) : undefined;
  }
  if (axes?.length !== 1) return false;
  return axes[0] === -1 || (rank !== undefined && axes[0] === rank - 1);
}

/** The decomposed LayerNorm starting at ReduceMean `mean`, or undefined. `rank` of x when known. */
export function matchLayerNorm(g: Graph, mean: Node, rank?: number): LayerNormMatch | undefined {
  if (!meanOverLast(g, mean, rank)) return undefined;
  const x = mean.inputs[0]!;
  const m = mean.outputs[0]!;
  const mReaders = g.consumersOf(m);
  const sub = mReaders[0];
  if (mReaders.length !== 1 || !op(sub, 'Sub') || sub.inputs[0] !== x || sub.inputs[1] !== m) return undefined;
  const d = sub.outputs[0]!;
  const dReaders = g.consumersOf(d);
  if (dReaders.length !== 2) return undefined;
  const sq = dReaders.find(
    (n) =>
      (op(n, 'Pow') && n.inputs[0] === d && scalarConst(g, n.inputs[1]!) === 2) || (op(n, 'Mul') && n.inputs[0] === d && n.inputs[1] === d),
  );
  const div = dReaders.find((n) => op(n, 'Div') && n.inputs[0] === d);
  if (!sq || !div) return undefined;
  const var1 = g.consumersOf(sq.outputs[0]!);
  const vmean = var1[0];
  if (var1.length !== 1 || !vmean || !meanOverLast(g, vmean, rank) || vmean.inputs[0] !== sq.outputs[0]) return undefined;
  const vr = g.consumersOf(vmean.outputs[0]!);
  const add = vr[0];
  if (vr.length !== 1 || !op(add, 'Add')) return undefined;
  const epsName = add.inputs[0] === vmean.outputs[0] ? add.inputs[1]! : add.inputs[1] === vmean.outputs[0] ? add.inputs[0]! : '';
  const eps = scalarConst(g, epsName);
  if (eps === undefined || !(eps >= 0) || !Number.isFinite(eps)) return undefined;
  const er = g.consumersOf(add.outputs[0]!);
  const sqrt = er[0];
  if (er.length !== 1 || !op(sqrt, 'Sqrt')) return undefined;
  const sr = g.consumersOf(sqrt.outputs[0]!);
  if (sr.length !== 1 || sr[0] !== div || div.inputs[1] !== sqrt.outputs[0]) return undefined;
  const outs = g.outputs.map((o) => o.name);
  const inner = [m, d, sq.outputs[0]!, vmean.outputs[0]!, add.outputs[0]!, sqrt.outputs[0]!];
  if (inner.some((t) => outs.includes(t))) return undefined;
  return { x, output: div.outputs[0]!, eps, nodes: [mean, sub, sq, vmean, add, sqrt, div], last: div };
}
