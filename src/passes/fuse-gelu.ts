/**
 * GELU fusion: exporters writing below opset 20 (torch.onnx, Hugging Face BERT and GPT-2 exports)
 * spell gelu as five to eight elementwise nodes. Quantized step by step, each of the ~5 steps gets its
 * own Q/DQ pair and so its own 8-bit rounding (x / sqrt 2, erf, 1 + erf, x (1 + erf), the final 0.5),
 * and the integer executor runs them as as many tables and requantizations. One Gelu node is quantized
 * once and runs as one 256-entry table in the integer executor. Forms recognized:
 *   erf:  Mul(Mul(x, Add(Erf(Div(x, 1.4142135)), 1)), 0.5)                         -> Gelu(x)
 *   tanh: Mul(Mul(x, Add(Tanh(Mul(Add(x, Mul(Pow(x, 3), 0.044715)), 0.7978846)), 1)), 0.5)
 *                                                                   -> Gelu(x, approximate = 'tanh')
 * with, in both: either operand order of every Mul and Add; the 0.5 multiplied last, into x first
 * (Mul(Mul(x, 0.5), 1 + erf), Hugging Face's `x * 0.5 * (1 + erf(...))`) or into 1 + erf first; in the
 * erf form Div by sqrt 2 written as Mul by 1/sqrt 2; in the tanh form x^3 written as Mul(Mul(x, x), x).
 * Fires only when every intermediate value has the next step as its only reader (and is no graph
 * output) and the constants are scalars (shape [] or [1]) matching to float32 precision (relative
 * 1e-6). The fused model needs opset 20, which quantize() writes (src/ptq/opset.ts).
 */
import type { Attribute, Graph, Model, Node } from '../ir/graph.js';
import { makeNode } from '../ir/graph.js';
import {
  GraphPass,
  dropUnusedInits,
  nearConst,
  nodeLabel,
  operandWithConst,
  otherThan,
  scalarConst,
  soleConsumer,
  type PassReport,
} from './pass.js';

export interface FuseGeluOptions {
  /** Report each fusion. Default false. */
  verbose: boolean;
}

interface Site {
  x: string;
  approximate: 'none' | 'tanh';
  /** Nodes replaced, in data-flow order; the last one writes the output. */
  nodes: Node[];
}

const isOp = (n: Node | undefined, op: string): n is Node => n !== undefined && n.opType === op && n.domain === '';

/** The node producing `v` when `reader` is v's only reader (and v is no graph output). */
function soleProducer(g: Graph, v: string | undefined, reader: Node): Node | undefined {
  if (v === undefined || soleConsumer(g, v) !== reader) return undefined;
  return g.producerOf(v);
}

/** Pow's exponent is the constant 3 (float32, or an integer type: Pow's exponent may differ in type). */
function isThree(g: Graph, name: string | undefined): boolean {
  if (nearConst(scalarConst(g, name), 3)) return true;
  const t = name ? g.initializers.get(name) : undefined;
  return !!t && (t.dtype === 'int32' || t.dtype === 'int64') && t.size === 1 && t.rank <= 1 && Number(t.data[0]) === 3;
}

/** x^3 written into `c` (Pow(x, 3), or Mul of Mul(x, x) and x in any order): its nodes, or undefined. */
function cube(g: Graph, c: string, reader: Node, x: string): Node[] | undefined {
  const p = soleProducer(g, c, reader);
  if (isOp(p, 'Pow')) return p.inputs[0] === x && isThree(g, p.inputs[1]) ? [p] : undefined;
  if (!isOp(p, 'Mul')) return undefined;
  const sq = otherThan(p, x);
  if (sq === undefined || sq === x) return undefined;
  const s = soleProducer(g, sq, p);
  return isOp(s, 'Mul') && s.inputs.length === 2 && s.inputs[0] === x && s.inputs[1] === x ? [s, p] : undefined;
}

/**
 * From `add` = 1 + f(x) on: x (1 + f) 0.5 in one of its three groupings. The Mul nodes, in data-flow
 * order (the last writes the result), or undefined.
 */
function tail(g: Graph, x: string, add: Node): Node[] | undefined {
  const a = add.outputs[0];
  const m1 = soleConsumer(g, a);
  if (!isOp(m1, 'Mul')) return undefined;
  const o = otherThan(m1, a);
  if (o === undefined || o === a) return undefined;
  if (o === x || nearConst(scalarConst(g, o), 0.5)) {
    // Mul(Mul(x, a), 0.5) or Mul(Mul(a, 0.5), x): the second Mul takes what the first did not.
    const m2 = soleConsumer(g, m1.outputs[0]);
    if (!isOp(m2, 'Mul')) return undefined;
    const last = o === x ? operandWithConst(g, m2, 0.5) : otherThan(m2, m1.outputs[0]);
    return last === (o === x ? m1.outputs[0] : x) ? [m1, m2] : undefined;
  }
  // Mul(Mul(x, 0.5), a)
  const h = soleProducer(g, o, m1);
  return isOp(h, 'Mul') && operandWithConst(g, h, 0.5) === x ? [h, m1] : undefined;
}

/** Erf(x / sqrt 2) (Div by sqrt 2 or Mul by 1/sqrt 2): x and the nodes up to the Erf. */
function erfArgument(g: Graph, erf: Node): { x: string; nodes: Node[] } | undefined {
  const d = soleProducer(g, erf.inputs[0], erf);
  if (isOp(d, 'Div') && d.inputs.length === 2 && nearConst(scalarConst(g, d.inputs[1]), Math.SQRT2))
    return { x: d.inputs[0], nodes: [d, erf] };
  const x = isOp(d, 'Mul') ? operandWithConst(g, d, Math.SQRT1_2) : undefined;
  return x === undefined ? undefined : { x, nodes: [d!, erf] };
}

/** Tanh(sqrt(2/pi) (x + 0.044715 x^3)), any operand orders: x and the nodes up to the Tanh. */
function tanhArgument(g: Graph, tanh: Node): { x: string; nodes: Node[] } | undefined {
  const scale = soleProducer(g, tanh.inputs[0], tanh);
  const sum = isOp(scale, 'Mul') ? operandWithConst(g, scale, Math.sqrt(2 / Math.PI)) : undefined;
  if (sum === undefined) return undefined;
  const add = soleProducer(g, sum, scale!);
  if (!isOp(add, 'Add') || add.inputs.length !== 2) return undefined;
  for (const [x, k] of [add.inputs, [...add.inputs].reverse()]) {
    const m = soleProducer(g, k, add);
    const c = isOp(m, 'Mul') ? operandWithConst(g, m, 0.044715) : undefined;
    const cubed = c === undefined || x === undefined ? undefined : cube(g, c, m!, x);
    if (cubed) return { x: x!, nodes: [...cubed, m!, add, scale!, tanh] };
  }
  return undefined;
}

export class FuseGeluPass extends GraphPass<FuseGeluOptions> {
  readonly name = 'fuse-gelu';

  constructor(options: Partial<FuseGeluOptions> = {}) {
    super({ verbose: false }, options);
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    // Sites start at their Erf or Tanh, and a fusion removes only its own site's nodes (one Erf or
    // Tanh each), so iterating over a snapshot never revisits a removed site.
    for (const n of [...g.nodes]) {
      const site = this.match(g, n);
      if (!site) continue;
      const last = site.nodes[site.nodes.length - 1];
      const y = last.outputs[0];
      const attrs: Record<string, Attribute> = site.approximate === 'tanh' ? { approximate: { type: 'string', value: 'tanh' } } : {};
      // At the last node's place: every reader of y comes after it, and x is computed before the site.
      g.replaceNode(last, makeNode('Gelu', [site.x], [y], attrs, g.uniqueName(`${last.name || y}_Gelu`)));
      for (const m of site.nodes.slice(0, -1)) g.removeNode(m);
      report.changed++;
      report.details.push(
        `${site.nodes.map(nodeLabel).join(' -> ')} fused into Gelu(${site.x}${site.approximate === 'tanh' ? ", approximate='tanh'" : ''})`,
      );
    }
    if (report.changed) dropUnusedInits(g);
    return report;
  }

  /** A fusable site whose Erf or Tanh is `n`, or undefined. */
  private match(g: Graph, n: Node): Site | undefined {
    const approximate = isOp(n, 'Erf') ? 'none' : isOp(n, 'Tanh') ? 'tanh' : undefined;
    if (!approximate) return undefined;
    const arg = approximate === 'none' ? erfArgument(g, n) : tanhArgument(g, n);
    if (!arg) return undefined;
    const add = soleConsumer(g, n.outputs[0]);
    if (!isOp(add, 'Add') || operandWithConst(g, add, 1) !== n.outputs[0]) return undefined;
    const muls = tail(g, arg.x, add);
    return muls && { x: arg.x, approximate, nodes: [...arg.nodes, add, ...muls] };
  }
}
