/**
 * HardSwish fusion: exporters that predate opset 14 (paddle2onnx, torch.onnx below 14) write
 * hardswish(x) = x * relu6(x + 3) / 6 as four or two nodes. Quantized step by step, each step gets
 * its own Q/DQ pair and so its own rounding: on PaddleOCR's direction classifier those steps alone cap
 * the int8 logits near 29 dB. One HardSwish node is quantized once and runs as one 256-entry table in
 * the integer executor. Forms recognized (either operand order of Mul; Div by 6 or Mul by 1/6):
 *   Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)
 *   Mul(x, Div(Clip(Add(x, 3), 0, 6), 6))
 *   Mul(x, HardSigmoid(x, alpha = 1/6, beta = 0.5))
 * Clip bounds may be attributes (opset < 11) or constant inputs. Fires only when every intermediate
 * value has the next step as its only reader (and is no graph output) and the constants are scalars
 * (shape [] or [1]) matching to float32 precision (relative 1e-6). The fused model needs opset 14, which quantize() writes.
 * HardSigmoid with other slopes (Paddle's 0.2) is a different function and is left alone.
 */
import type { Graph, Model, Node } from '../ir/graph.js';
import { makeNode } from '../ir/graph.js';
import {
  GraphPass,
  dropUnusedInits,
  floatAttr,
  nearConst,
  nodeLabel,
  operandWithConst,
  otherThan,
  scalarConst,
  soleConsumer,
  type PassReport,
} from './pass.js';

export interface FuseHardSwishOptions {
  /** Report each fusion. Default false. */
  verbose: boolean;
}

/** y / 6 or y * (1/6): the node's data operand, or undefined. */
function divBySix(g: Graph, n: Node): string | undefined {
  if (n.domain !== '') return undefined;
  if (n.opType === 'Div' && n.inputs.length === 2 && nearConst(scalarConst(g, n.inputs[1]), 6)) return n.inputs[0];
  if (n.opType === 'Mul') return operandWithConst(g, n, 1 / 6);
  return undefined;
}

/** Clip(v, 0, 6): bounds from attributes (opset < 11) or constant inputs. */
function isRelu6(g: Graph, n: Node): boolean {
  if (n.opType !== 'Clip' || n.domain !== '') return false;
  const lo = n.attributes.has('min') ? floatAttr(n, 'min', NaN) : scalarConst(g, n.inputs[1]);
  const hi = n.attributes.has('max') ? floatAttr(n, 'max', NaN) : scalarConst(g, n.inputs[2]);
  return lo === 0 && nearConst(hi, 6);
}

interface Site {
  x: string;
  /** Nodes replaced, last one writes the output. */
  nodes: Node[];
}

export class FuseHardSwishPass extends GraphPass<FuseHardSwishOptions> {
  readonly name = 'fuse-hardswish';

  constructor(options: Partial<FuseHardSwishOptions> = {}) {
    super({ verbose: false }, options);
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    // Nodes a fusion removes are never a site's first node (Add or HardSigmoid), so the snapshot is safe.
    for (const n of [...g.nodes]) {
      const site = this.match(g, n);
      if (!site) continue;
      const last = site.nodes[site.nodes.length - 1];
      const y = last.outputs[0];
      const fused = makeNode('HardSwish', [site.x], [y], {}, g.uniqueName(`${last.name || y}_HardSwish`));
      g.replaceNode(last, fused);
      for (const m of site.nodes.slice(0, -1)) g.removeNode(m);
      report.changed++;
      report.details.push(`${site.nodes.map(nodeLabel).join(' -> ')} fused into HardSwish(${site.x})`);
    }
    if (report.changed) dropUnusedInits(g);
    return report;
  }

  /** A fusable site whose first node is `n`, or undefined. */
  private match(g: Graph, n: Node): Site | undefined {
    if (n.domain !== '') return undefined;
    // Mul(x, HardSigmoid(x, 1/6, 0.5))
    if (n.opType === 'HardSigmoid') {
      if (!nearConst(floatAttr(n, 'alpha', 0.2), 1 / 6) || !nearConst(floatAttr(n, 'beta', 0.5), 0.5)) return undefined;
      const x = n.inputs[0],
        h = n.outputs[0];
      const mul = soleConsumer(g, h);
      if (mul?.opType !== 'Mul' || mul.domain !== '' || otherThan(mul, h) !== x) return undefined;
      return { x, nodes: [n, mul] };
    }
    if (n.opType !== 'Add') return undefined;
    const x = operandWithConst(g, n, 3);
    if (x === undefined) return undefined;
    const clip = soleConsumer(g, n.outputs[0]);
    if (!clip || clip.inputs[0] !== n.outputs[0] || !isRelu6(g, clip)) return undefined;
    const next = soleConsumer(g, clip.outputs[0]);
    if (!next) return undefined;
    // Div(Mul(x, clip), 6)
    if (next.opType === 'Mul' && next.domain === '' && otherThan(next, clip.outputs[0]) === x) {
      const div = soleConsumer(g, next.outputs[0]);
      if (div && divBySix(g, div) === next.outputs[0]) return { x, nodes: [n, clip, next, div] };
      return undefined;
    }
    // Mul(x, Div(clip, 6))
    if (divBySix(g, next) === clip.outputs[0]) {
      const mul = soleConsumer(g, next.outputs[0]);
      if (mul && mul.opType === 'Mul' && mul.domain === '' && otherThan(mul, next.outputs[0]) === x)
        return { x, nodes: [n, clip, next, mul] };
    }
    return undefined;
  }
}
