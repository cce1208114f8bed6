/**
 * Batch-norm folding (Jacob et al. 2018, sec. 3.2; PocketFlow): a BatchNormalization (inference)
 * that is the only reader of a Conv, ConvTranspose or Gemm output folds into that layer's weights
 * and bias, per output channel c (src/passes/layer-affine.ts has the weight layouts):
 *   k_c = gamma_c / sqrt(var_c + eps)
 *   w_fold[c] = k_c * w[c]
 *   b_fold[c] = beta_c + k_c * (b_c - mean_c)
 * The float function is preserved up to float rounding. Fires only when W, the BN parameters and
 * the bias (if any) are constant initializers, and (Gemm) alpha/beta are 1.
 */
import type { Model, Node } from '../ir/graph.js';
import { AFFINE_LAYERS, foldOutputAffine, foldableChannels } from './layer-affine.js';
import { GraphPass, dropUnusedInits, floatAttr, floatInit, nodeLabel, soleConsumer, type PassReport } from './pass.js';

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
      if (!layer || !AFFINE_LAYERS.has(layer.opType) || soleConsumer(g, bn.inputs[0]) !== bn) continue;
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
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => floatInit(g, bn.inputs[i]));
    const cout = foldableChannels(g, layer);
    if (!gamma || !beta || !mean || !variance || cout === undefined) return false;
    if ([gamma, beta, mean, variance].some((t) => t.size !== cout)) return false;
    const eps = floatAttr(bn, 'epsilon', 1e-5);
    const gd = gamma.data as Float32Array,
      bd = beta.data as Float32Array,
      md = mean.data as Float32Array,
      vd = variance.data as Float32Array;
    // k = gamma / sqrt(var + eps), t = beta - k * mean: b' = k * b + t = beta + k * (b - mean).
    const k = Float64Array.from(gd, (gc, c) => gc / Math.sqrt(vd[c]! + eps));
    const t = Float64Array.from(bd, (bc, c) => bc - k[c]! * md[c]!);
    if (!foldOutputAffine(g, layer, k, t, 'bnfold')) return false;
    // The layer's output had the BN as its only reader: the layer now produces the BN's output.
    g.removeNode(bn);
    layer.outputs[0] = bn.outputs[0]!;
    return true;
  }
}
