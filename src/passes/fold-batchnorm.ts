/**
 * Batch-norm folding (Jacob et al. 2018, sec. 3.2; PocketFlow): a BatchNormalization (inference)
 * that is the only reader of a Conv or Gemm output folds into that layer's weights and bias,
 * per output channel c:
 *   k_c = gamma_c / sqrt(var_c + eps)
 *   w_fold[c] = k_c * w[c]
 *   b_fold[c] = beta_c + k_c * (b_c - mean_c)
 * The float function is preserved up to float rounding. Fires only when W, the BN parameters and
 * the bias (if any) are constant initializers, and (Gemm) alpha/beta are 1.
 */
import type { Model, Node } from '../ir/graph.js';
import { GraphPass, dropUnusedInits, floatAttr, floatInit, intAttr, nodeLabel, putInit, soleConsumer, type PassReport } from './pass.js';

export interface FoldBatchNormOptions {
  /** Report each fold. Default false. */
  verbose: boolean;
}

export class FoldBatchNormPass extends GraphPass<FoldBatchNormOptions> {
  readonly name = 'fold-batchnorm';

  constructor(options: Partial<FoldBatchNormOptions> = {}) {
    super({ verbose: false }, options);
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    for (const bn of [...g.nodes]) {
      if (bn.opType !== 'BatchNormalization' || bn.domain !== '' || bn.outputs.filter(Boolean).length !== 1) continue;
      const layer = g.producerOf(bn.inputs[0]);
      if (!layer || (layer.opType !== 'Conv' && layer.opType !== 'Gemm') || soleConsumer(g, bn.inputs[0]) !== bn) continue;
      if (this.fold(model, layer, bn)) {
        report.changed++;
        report.details.push(`${nodeLabel(bn)} folded into ${nodeLabel(layer)}`);
      }
    }
    if (report.changed) dropUnusedInits(g);
    return report;
  }

  private fold(model: Model, layer: Node, bn: Node): boolean {
    const g = model.graph;
    const w = floatInit(g, layer.inputs[1]);
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => floatInit(g, bn.inputs[i]));
    if (!w || !gamma || !beta || !mean || !variance) return false;
    const hasBias = !!layer.inputs[2];
    const bias = hasBias ? floatInit(g, layer.inputs[2]) : undefined;
    if (hasBias && !bias) return false;
    const eps = floatAttr(bn, 'epsilon', 1e-5);
    let cout: number, perOut: (c: number) => number[];
    if (layer.opType === 'Conv') {
      cout = w.dims[0];
      const inner = w.size / cout;
      perOut = (c) => Array.from({ length: inner }, (_, i) => c * inner + i);
    } else {
      if (floatAttr(layer, 'alpha', 1) !== 1 || floatAttr(layer, 'beta', 1) !== 1 || w.rank !== 2) return false;
      const transB = intAttr(layer, 'transB', 0) === 1;
      const [r, cc] = w.dims;
      cout = transB ? r : cc;
      perOut = transB ? (c) => Array.from({ length: cc }, (_, i) => c * cc + i) : (c) => Array.from({ length: r }, (_, i) => i * cc + c);
    }
    if ([gamma, beta, mean, variance].some((t) => t.size !== cout) || (bias && bias.size !== cout)) return false;
    const wd = w.data as Float32Array;
    const wf = new Float32Array(wd.length);
    const bf = new Float32Array(cout);
    const gd = gamma.data as Float32Array, bd = beta.data as Float32Array, md = mean.data as Float32Array, vd = variance.data as Float32Array;
    for (let c = 0; c < cout; c++) {
      const k = gd[c] / Math.sqrt(vd[c] + eps);
      for (const i of perOut(c)) wf[i] = wd[i] * k;
      bf[c] = bd[c] + k * ((bias ? (bias.data as Float32Array)[c] : 0) - md[c]);
    }
    layer.inputs[1] = putInit(g, `${layer.inputs[1]}_bnfold`, wf, w.dims);
    const bname = putInit(g, `${layer.name || layer.outputs[0]}_bias_bnfold`, bf, [cout]);
    if (layer.inputs.length < 3) layer.inputs.push(bname);
    else layer.inputs[2] = bname;
    // The layer's output had the BN as its only reader: the layer now produces the BN's output.
    g.removeNode(bn);
    layer.outputs[0] = bn.outputs[0];
    return true;
  }
}
