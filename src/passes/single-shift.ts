/**
 * Single shift, after Aidge's PTQ ("single shift" rescaling): every requantization multiplier
 * becomes a power of two, so the integer executor rescales with one rounding shift (requant mode
 * `shift`, recorded in the model's metadata). The approximation ratio is folded into the previous
 * layer's weights:
 *  - Conv/ConvTranspose/Gemm/MatMul: M_c = Sx * Sw_c / Sy is rounded UP to 2^k_c, k_c = ceil(log2 M_c), and the
 *    weight scale becomes Sw'_c = 2^k_c * Sy / Sx (in [Sw_c, 2 Sw_c): no weight clips; the ratio
 *    2^k_c / M_c is absorbed by q_w = round(W / Sw'_c), and the bias follows, b_q = round(b / (Sx Sw'_c)));
 *    needs symmetric weights (zero point 0);
 *  - Add (both inputs on one scale S, as joining-nodes leaves them; required): the output scale
 *    becomes S * 2^k, k = round(log2(S_out / S)) (option output_rounding 'nearest', the default) or
 *    ceil(...) ('up'), on the same range (for every tensor joined with it);
 *  - Mul: S_out' = Sa Sb 2^k(S_out / (Sa Sb)); AveragePool / GlobalAveragePool (the kernel
 *    divides by the window count, then rescales by Sx / S_out): S_out' = Sx 2^k(S_out / Sx);
 *  - Concat with shared parameters (joining-nodes) needs no multiplier; unary ops (Relu, Clip,
 *    Sigmoid, HardSigmoid, ...) run as 256-entry tables in the executor: no multiplier either.
 * Anything else that requantizes is left to the executor's `shift` mode, which rounds its
 * multiplier to the nearest power of two; the report counts those nodes.
 * Weights round up: every weight stays representable (steps at most 2x coarser, never clipping).
 */
import type { Model, Node } from '../ir/graph.js';
import { outputPoint } from '../ptq/plan.js';
import { quantRange } from '../quant/scheme.js';
import { roundHalfEven } from '../quant/fixedpoint.js';
import { GraphPass, nodeLabel, type PassReport } from './pass.js';
import { rootOf, type QuantState } from './quant-state.js';

/** Requantized by a 256-entry table in the integer executor: exact in any requant mode. */
const TABLE_OPS = ['Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'LeakyRelu', 'Relu', 'Clip', 'MaxPool', 'GlobalMaxPool'];

export interface SingleShiftOptions {
  /**
   * How Add/Mul/pool output scales reach a power-of-two multiple: 'nearest' (the scale moves by a
   * factor in [0.71, 1.41]; when it shrinks, the top of the calibrated range saturates) or 'up'
   * (never clips, up to 2x coarser). Default 'nearest': on the PaddleOCR classifier it scores
   * 5.75 dB logits SQNR against 3.75 dB for 'up' (per-tensor, joining-nodes + single-shift).
   * Layer weights always round up (a weight must never clip).
   */
  output_rounding: 'nearest' | 'up';
  /** Report every rescale. Default false. */
  verbose: boolean;
}

export class SingleShiftPass extends GraphPass<SingleShiftOptions> {
  readonly name = 'single-shift';

  constructor(
    options: Partial<SingleShiftOptions>,
    private readonly state: QuantState,
    private readonly weightSymmetric = true,
  ) {
    super({ output_rounding: 'nearest', verbose: false }, options);
    if (typeof this.options.verbose !== 'boolean') this.fail(`option 'verbose' must be true or false`);
    if (this.options.output_rounding !== 'nearest' && this.options.output_rounding !== 'up')
      this.fail(`option 'output_rounding' must be 'nearest' or 'up', got ${JSON.stringify(this.options.output_rounding)}`);
  }

  apply(model: Model): PassReport {
    const g = model.graph,
      s = this.state;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    if (!this.weightSymmetric && s.layers.length)
      this.fail(`option 'weightSymmetric' must be true (a weight scale change needs zero point 0)`);
    const P = (t: string) => s.params.get(rootOf(s, t));
    // Tensors joined by Add/Concat share parameters: rescale them together.
    const parent = new Map<string, string>();
    const find = (t: string): string => {
      let r = t;
      while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
      return r;
    };
    for (const t of s.params.keys()) parent.set(t, t);
    for (const n of g.nodes) {
      if (n.opType !== 'Add' && n.opType !== 'Concat') continue;
      const m = (n.opType === 'Concat' ? [...n.inputs, n.outputs[0]] : n.inputs).map((t) => rootOf(s, t));
      if (m.every((t) => parent.has(t))) for (const t of m.slice(1)) parent.set(find(t), find(m[0]));
    }
    const setScale = (t: string, scale: number) => {
      const root = find(rootOf(s, t));
      for (const u of s.params.keys()) {
        if (find(u) !== root) continue;
        const p = s.params.get(u)!,
          r = s.ranges.get(u)!;
        const { qmin, qmax } = quantRange(s.bits, p.signed, s.symmetric && !s.unsignedZero.has(u));
        const zp =
          s.unsignedZero.has(u) || (s.symmetric && p.signed)
            ? p.zeroPoint
            : Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - Math.min(r.min, 0) / scale)));
        s.params.set(u, { ...p, scale: Math.fround(scale), zeroPoint: zp });
      }
    };
    const up = (m: number) => 2 ** Math.ceil(Math.log2(m) - 1e-9);
    const outRound = (m: number) => (this.options.output_rounding === 'nearest' ? 2 ** Math.round(Math.log2(m)) : up(m));
    let approx = 0;
    const fused = new Set<Node>();
    for (const n of s.layers) for (const f of outputPoint(g, n).fusedNodes) fused.add(f);
    for (const n of g.topologicalOrder()) {
      if (n.domain !== '' || fused.has(n)) continue;
      const y = P(n.outputs[0]);
      if (!y) continue;
      if (n.opType === 'Add') {
        const a = P(n.inputs[0]),
          b = P(n.inputs[1]);
        if (!a || !b) continue;
        if (a.scale !== b.scale)
          this.fail(
            `${nodeLabel(n)}: inputs on different scales (${a.scale}, ${b.scale}) cannot share one shift; run joining-nodes before single-shift`,
          );
        const sc = a.scale * outRound(y.scale / a.scale);
        setScale(n.outputs[0], sc);
        report.changed++;
        if (this.options.verbose)
          report.details.push(
            `${nodeLabel(n)}: output scale ${y.scale.toPrecision(5)} -> ${sc.toPrecision(5)} (input scale x 2^${Math.log2(sc / a.scale)})`,
          );
      } else if (n.opType === 'Mul' || n.opType === 'AveragePool' || n.opType === 'GlobalAveragePool') {
        const a = P(n.inputs[0]),
          b = n.opType === 'Mul' ? P(n.inputs[1]) : undefined;
        if (!a || (n.opType === 'Mul' && !b)) continue;
        const base = a.scale * (b ? b.scale : 1);
        const sc = base * outRound(y.scale / base);
        setScale(n.outputs[0], sc);
        report.changed++;
        if (this.options.verbose) report.details.push(`${nodeLabel(n)}: output scale ${y.scale.toPrecision(5)} -> ${sc.toPrecision(5)}`);
      } else if (n.opType === 'Concat') {
        if (!n.inputs.every((i) => P(i) && P(i)!.scale === y.scale && P(i)!.zeroPoint === y.zeroPoint)) approx++;
      } else if (
        !['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'QuantizeLinear', 'DequantizeLinear', ...TABLE_OPS].includes(n.opType) &&
        n.inputs.some((i) => P(i)) &&
        !s.aliases.has(n.outputs[0])
      ) {
        approx++;
        if (this.options.verbose)
          report.details.push(`${nodeLabel(n)}: no weight to absorb the ratio; the executor rounds its multiplier to a power of two`);
      }
    }
    // Layers last: their input and output scales are final now.
    const reported = new Set<Node>();
    for (const n of s.layers) {
      const x = P(n.inputs[0]),
        y = P(outputPoint(g, n).tensor);
      if (!x || !y) continue;
      const sx = Math.fround(x.scale),
        sy = Math.fround(y.scale);
      s.weightScale.set(n, (sw) => {
        const out = new Float32Array(sw.length);
        let worst = 1;
        for (let c = 0; c < sw.length; c++) {
          const m = (sx * Math.fround(sw[c])) / sy;
          const k = up(m);
          out[c] = Math.fround((k * sy) / sx);
          // float32 rounding could leave Sw' a hair below Sw: never let a weight clip.
          if (out[c] < sw[c]) out[c] = Math.fround(out[c] * (1 + 2 ** -23));
          worst = Math.max(worst, out[c] / sw[c]);
        }
        if (this.options.verbose && !reported.has(n))
          reported.add(n) &&
            report.details.push(
              `${nodeLabel(n)}: ${sw.length} weight scale(s) raised to make Sx Sw / Sy a power of two (largest factor ${worst.toFixed(3)})`,
            );
        return out;
      });
      report.changed++;
    }
    s.requantMode = 'shift';
    report.details.push(`${approx} requantizing node(s) without a weight to absorb the ratio (rounded to a power of two by the executor)`);
    return report;
  }
}
