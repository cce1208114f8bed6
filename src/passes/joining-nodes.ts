/**
 * Joining nodes, after Aidge's PTQ: the inputs of an Add or a Concat take one common scale, the
 * largest (their ranges are merged, so the common scale is at least the maximum of the inputs'
 * scales and no input clips), and the join is followed by a rescaling step to the output's own
 * parameters:
 *  - Concat: inputs and output share the parameters (the output range is the union of the inputs'),
 *    so the integer Concat is a plain copy with no requantization;
 *  - Add: both inputs share (S, z), the integer sum (qa - z) + (qb - z) is exact in 32 bits and one
 *    rescale by S / S_out follows (the output keeps its calibrated range, so the sum cannot overflow
 *    the 8-bit output beyond its clamp).
 * Tensors that meet in several joins form one group (union-find), all on the group's merged range.
 */
import type { Model } from '../ir/graph.js';
import { paramsForRange } from '../quant/scheme.js';
import { GraphPass, nodeLabel, type PassReport } from './pass.js';
import { rootOf, type QuantState } from './quant-state.js';

export interface JoiningNodesOptions {
  /** Report every group. Default false. */
  verbose: boolean;
}

export class JoiningNodesPass extends GraphPass<JoiningNodesOptions> {
  readonly name = 'joining-nodes';

  constructor(
    options: Partial<JoiningNodesOptions>,
    private readonly state: QuantState,
  ) {
    super({ verbose: false }, options);
    if (typeof this.options.verbose !== 'boolean') this.fail(`option 'verbose' must be true or false`);
  }

  apply(model: Model): PassReport {
    const g = model.graph,
      s = this.state;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    if (!s.params.size && s.ranges.size) this.fail('needs activation parameters (runs after calibration)');
    const parent = new Map<string, string>();
    const find = (t: string): string => {
      let r = t;
      while (parent.get(r) !== r) r = parent.get(r)!;
      return r;
    };
    for (const t of s.params.keys()) parent.set(t, t);
    const joins: string[] = [];
    for (const n of g.topologicalOrder()) {
      if (n.domain !== '' || (n.opType !== 'Add' && n.opType !== 'Concat')) continue;
      const members = (n.opType === 'Concat' ? [...n.inputs, n.outputs[0]] : n.inputs).map((t) => rootOf(s, t));
      if (!members.every((t) => parent.has(t))) continue; // a constant or float input: nothing to join
      for (const t of members.slice(1)) parent.set(find(t), find(members[0]));
      joins.push(nodeLabel(n));
    }
    const groups = new Map<string, string[]>();
    for (const t of s.params.keys()) {
      const r = find(t);
      if (!groups.has(r)) groups.set(r, []);
      groups.get(r)!.push(t);
    }
    for (const members of groups.values()) {
      if (members.length < 2) continue;
      const signed = members.map((t) => s.params.get(t)!.signed);
      if (signed.some((v) => v !== signed[0]))
        this.fail(`tensors ${members.map((t) => `'${t}'`).join(', ')} meet in an Add/Concat with different 8-bit types`);
      let lo = Infinity,
        hi = -Infinity;
      for (const t of members) {
        lo = Math.min(lo, s.ranges.get(t)!.min);
        hi = Math.max(hi, s.ranges.get(t)!.max);
      }
      const zeroPointZero = members.every((t) => s.unsignedZero.has(t));
      const p = zeroPointZero ? paramsForRange(0, hi, s.bits, false, false) : paramsForRange(lo, hi, s.bits, signed[0], s.symmetric);
      const old = members.map((t) => s.params.get(t)!.scale);
      for (const t of members) {
        s.params.set(t, { scale: p.scale, zeroPoint: p.zeroPoint, signed: signed[0] });
        s.ranges.set(t, { min: lo, max: hi });
      }
      report.changed++;
      if (this.options.verbose)
        report.details.push(
          `${members.map((t) => `'${t}'`).join(', ')}: scales ${old.map((v) => v.toPrecision(4)).join(', ')} -> ${p.scale.toPrecision(4)} (zero point ${p.zeroPoint})`,
        );
    }
    if (this.options.verbose) report.details.push(`joins: ${joins.join(', ') || 'none'}`);
    return report;
  }
}
