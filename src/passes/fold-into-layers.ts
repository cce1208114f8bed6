/**
 * The layer folds quantize() runs first and the float session runs at creation (as onnxruntime's
 * graph optimizer folds BatchNormalization): decomposed HardSwish, GELU and LayerNorm fused, then constant
 * Add/Sub/Mul/Div and BatchNormalization after a layer, into it. Bias/scale folds run on both sides
 * of the BN fold, for chains in either order (PP-OCRv4 det's head: ConvTranspose -> Add(bias) ->
 * BatchNormalization). analyze's float layers replay the same.
 */
import type { Model } from '../ir/graph.js';
import type { TypeInfo } from '../ops/index.js';
import { FoldBatchNormPass } from './fold-batchnorm.js';
import { FoldBiasAddPass } from './fold-bias-add.js';
import { FuseGeluPass } from './fuse-gelu.js';
import { FuseHardSwishPass } from './fuse-hardswish.js';
import { FuseLayerNormPass } from './fuse-layer-norm.js';
import type { PassReport } from './pass.js';

export function foldIntoLayers(
  model: Model,
  types: ReadonlyMap<string, TypeInfo>,
  which: { batchNorm: boolean; hardSwish: boolean; gelu: boolean; layerNorm: boolean },
): PassReport[] {
  const out: PassReport[] = [];
  // HardSwish first: the input-side fold would otherwise take its decomposed form's final Div(6).
  if (which.hardSwish) out.push(new FuseHardSwishPass().apply(model));
  // GELU before the folds too: the input-side fold would otherwise take its final Mul(0.5) into the next layer.
  if (which.gelu) out.push(new FuseGeluPass().apply(model));
  // LayerNorm before the folds as well: its trailing Mul(gamma)/Add(beta) belong to it, not to the next layer.
  if (which.layerNorm) out.push(new FuseLayerNormPass({}, types).apply(model));
  out.push(new FoldBiasAddPass({}, types).apply(model));
  if (which.batchNorm) {
    const bn = new FoldBatchNormPass().apply(model);
    out.push(bn);
    if (bn.changed) out.push(new FoldBiasAddPass({}, types).apply(model));
  }
  return out;
}
