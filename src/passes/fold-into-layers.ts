/**
 * The layer folds quantize() runs first and the float session runs at creation (as onnxruntime's
 * graph optimizer folds BatchNormalization): decomposed HardSwish fused, then constant
 * Add/Sub/Mul/Div and BatchNormalization after a layer, into it. Bias/scale folds run on both sides
 * of the BN fold, for chains in either order (PP-OCRv4 det's head: ConvTranspose -> Add(bias) ->
 * BatchNormalization). analyze's float layers replay the same.
 */
import type { Model } from '../ir/graph.js';
import type { TypeInfo } from '../ops/index.js';
import { FoldBatchNormPass } from './fold-batchnorm.js';
import { FoldBiasAddPass } from './fold-bias-add.js';
import { FuseHardSwishPass } from './fuse-hardswish.js';
import type { PassReport } from './pass.js';

export function foldIntoLayers(
  model: Model,
  types: ReadonlyMap<string, TypeInfo>,
  which: { batchNorm: boolean; hardSwish: boolean },
): PassReport[] {
  const out: PassReport[] = [];
  // HardSwish first: the input-side fold would otherwise take its decomposed form's final Div(6).
  if (which.hardSwish) out.push(new FuseHardSwishPass().apply(model));
  out.push(new FoldBiasAddPass({}, types).apply(model));
  if (which.batchNorm) {
    const bn = new FoldBatchNormPass().apply(model);
    out.push(bn);
    if (bn.changed) out.push(new FoldBiasAddPass({}, types).apply(model));
  }
  return out;
}
