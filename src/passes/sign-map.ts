/**
 * Sign map, after Aidge's sign optimization (PTQ "optimize signs"): compute from the graph which
 * tensors are provably non-negative and quantize them as unsigned 8-bit with zero point 0 on
 * [0, max], so the sign bit buys resolution: with signed symmetric activations the step halves,
 * max / 255 instead of max / 127. Every other tensor keeps the options' type.
 *
 * Non-negative (by induction over the graph in topological order):
 *  - outputs of Relu, Sigmoid, HardSigmoid, Softmax, Abs, Exp, Sqrt, and Clip whose min is a
 *    constant >= 0;
 *  - outputs of MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Reshape, Flatten,
 *    Transpose, Squeeze, Unsqueeze, Identity, Dropout, Slice, Resize, DepthToSpace, SpaceToDepth,
 *    Pad (constant value >= 0), Concat, Add and Mul whose float inputs are all non-negative.
 * Integer Add, Mul and Concat read and write one 8-bit type: with signed activations a group of
 * tensors joined by them becomes unsigned only when every member is non-negative (else all signed).
 */
import type { Graph, Model } from '../ir/graph.js';
import { GraphPass, floatAttr, floatInit, nodeLabel, type PassReport } from './pass.js';
import { rootOf, type QuantState } from './quant-state.js';

export interface SignMapOptions {
  /** Report every tensor given unsigned zero-point-0 parameters. Default false. */
  verbose: boolean;
}

const SOURCES = new Set(['Relu', 'Sigmoid', 'HardSigmoid', 'Softmax', 'Abs', 'Exp', 'Sqrt']);
const KEEPS = new Set([
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Reshape',
  'Flatten',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Identity',
  'Dropout',
  'Slice',
  'Resize',
  'DepthToSpace',
  'SpaceToDepth',
  'Concat',
  'Add',
  'Mul',
  'Pad',
  'Min',
]);
export const JOINING_TYPE_OPS = new Set(['Add', 'Mul', 'Concat']);

/** Float tensors of `g` that are provably >= 0. */
export function nonNegativeTensors(g: Graph): Set<string> {
  const pos = new Set<string>();
  for (const n of g.topologicalOrder()) {
    if (n.domain !== '') continue;
    let ok = false;
    if (SOURCES.has(n.opType)) ok = true;
    else if (n.opType === 'Clip') {
      const lo = n.inputs[1] ? floatInit(g, n.inputs[1])?.data[0] : n.attributes.has('min') ? floatAttr(n, 'min', -Infinity) : undefined;
      ok = typeof lo === 'number' && lo >= 0;
    } else if (KEEPS.has(n.opType)) {
      // Data inputs only: shapes, axes and pads are int64 initializers.
      const data =
        n.opType === 'Add' || n.opType === 'Mul' || n.opType === 'Concat' || n.opType === 'Min' ? n.inputs : n.inputs.slice(0, 1);
      ok = data.every((i) => {
        if (!i) return true;
        const c = floatInit(g, i);
        if (c) return (c.data as Float32Array).every((v) => v >= 0);
        return pos.has(i);
      });
      if (ok && n.opType === 'Pad') {
        const cv = n.inputs[2] ? floatInit(g, n.inputs[2]) : undefined;
        ok = n.inputs[2] ? !!cv && Number(cv.data[0]) >= 0 : floatAttr(n, 'value', 0) >= 0;
      }
    }
    if (ok) pos.add(n.outputs[0]);
  }
  return pos;
}

export class SignMapPass extends GraphPass<SignMapOptions> {
  readonly name = 'sign-map';

  constructor(
    options: Partial<SignMapOptions>,
    private readonly state: QuantState,
  ) {
    super({ verbose: false }, options);
    if (typeof this.options.verbose !== 'boolean') this.fail(`option 'verbose' must be true or false`);
  }

  apply(model: Model): PassReport {
    const g = model.graph,
      s = this.state;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    if (s.params.size) this.fail('must run before activation parameters are fixed (before joining-nodes and single-shift)');
    const pos = nonNegativeTensors(g);
    // Union-find over calibrated tensors that must share one 8-bit type.
    const parent = new Map<string, string>();
    const find = (t: string): string => {
      let r = t;
      while (parent.get(r) !== r && parent.has(r)) r = parent.get(r)!;
      return r;
    };
    for (const t of s.ranges.keys()) parent.set(t, t);
    if (s.signed) {
      for (const n of g.nodes) {
        if (!JOINING_TYPE_OPS.has(n.opType)) continue;
        const ts = [...n.inputs, n.outputs[0]].map((t) => rootOf(s, t)).filter((t) => parent.has(t));
        for (const t of ts.slice(1)) parent.set(find(t), find(ts[0]));
      }
    }
    const groupOk = new Map<string, boolean>();
    for (const t of s.ranges.keys()) groupOk.set(find(t), (groupOk.get(find(t)) ?? true) && pos.has(t));
    for (const t of s.ranges.keys()) {
      if (pos.has(t) && groupOk.get(find(t))) {
        s.unsignedZero.add(t);
        report.changed++;
        if (this.options.verbose) {
          const p = g.producerOf(t);
          report.details.push(
            `'${t}'${p ? ` (${nodeLabel(p)})` : ''}: non-negative, uint8 with zero point 0 on [0, ${s.ranges.get(t)!.max.toPrecision(4)}]`,
          );
        }
      } else if (pos.has(t) && this.options.verbose) {
        report.details.push(`'${t}': non-negative but shares an integer Add/Mul/Concat with a signed tensor: stays signed`);
      }
    }
    return report;
  }
}
