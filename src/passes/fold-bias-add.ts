/**
 * Bias-Add and scale folding: exporters write a layer's bias (CNTK's mnist-8) or a learnable
 * per-channel scale and shift (PP-OCRv4's MobileOne blocks: Conv -> Mul(w_0) -> Add(w_1)) as
 * separate elementwise ops on constants. Folding them into the layer lets quantization treat them
 * as weight and int32 bias (bias_q = round(b / (Sx * Sw))) instead of extra requantized ops:
 *  - Conv / ConvTranspose / Gemm -> Add(c) or Sub(c): b' = b + c (b - c);
 *  - Conv / ConvTranspose / Gemm -> Mul(c) or Div(c): w' = c * w, b' = c * b (1/c for Div);
 *    with c scalar or one value per output channel (layer-affine.ts says which shapes);
 *  - MatMul(A 2-D, B constant [K,N]) -> Add(c) with c of N elements ([N] or [1,N]): Gemm(A, B, c);
 *  - Mul/Div/Add/Sub(x, c) -> Conv without padding, as its only reader: into the Conv's weights
 *    (scale) or bias (shift), per input channel (PP-OCRv4's affine after each HardSwish).
 * Fires only when the layer output's only reader is the op (or the op's only reader is the Conv)
 * and c is a float32 initializer; Sub and Div only with the constant second. A sweep in graph order
 * folds output-side chains (Mul then Add), one in reverse order input-side chains.
 */
import type { Model, Node } from '../ir/graph.js';
import { makeNode } from '../ir/graph.js';
import type { TypeInfo } from '../ops/index.js';
import { Tensor } from '../tensor.js';
import { AFFINE_LAYERS, channelValues, foldInputAffine, foldOutputAffine } from './layer-affine.js';
import { GraphPass, dropUnusedInits, floatInit, nodeLabel, putInit, soleConsumer, type PassReport } from './pass.js';

const FOLDABLE = new Set(['Add', 'Sub', 'Mul', 'Div']);

export interface FoldBiasAddOptions {
  verbose: boolean;
}

export class FoldBiasAddPass extends GraphPass<FoldBiasAddOptions> {
  readonly name = 'fold-bias-add';

  /** `types` (from shape inference) tells MatMul inputs' ranks; without it MatMul is left alone. */
  constructor(
    options: Partial<FoldBiasAddOptions> = {},
    private readonly types?: ReadonlyMap<string, TypeInfo>,
  ) {
    super({ verbose: false }, options);
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    for (const op of [...g.nodes]) {
      if (!FOLDABLE.has(op.opType) || op.domain !== '' || op.inputs.length !== 2) continue;
      const commutes = op.opType === 'Add' || op.opType === 'Mul';
      for (const side of commutes ? [0, 1] : [0]) {
        const layer = g.producerOf(op.inputs[side]);
        const c = floatInit(g, op.inputs[1 - side]);
        if (!layer || !c || soleConsumer(g, op.inputs[side]!) !== op) continue;
        if (AFFINE_LAYERS.has(layer.opType) && this.foldAffine(model, layer, op, c)) {
          report.changed++;
          report.details.push(
            `${nodeLabel(op)} folded into ${nodeLabel(layer)} as its ${op.opType === 'Add' || op.opType === 'Sub' ? 'bias' : 'scale'}`,
          );
          break;
        }
        if (layer.opType === 'MatMul' && op.opType === 'Add' && this.foldMatMul(model, layer, op, c.data as Float32Array, c.dims)) {
          report.changed++;
          report.details.push(`${nodeLabel(layer)} + ${nodeLabel(op)} became a Gemm`);
          break;
        }
      }
    }
    for (const op of [...g.nodes].reverse()) {
      if (!FOLDABLE.has(op.opType) || op.domain !== '' || op.inputs.length !== 2) continue;
      const reader = soleConsumer(g, op.outputs[0]!);
      if (reader?.opType !== 'Conv' || reader.inputs[0] !== op.outputs[0]) continue;
      const commutes = op.opType === 'Add' || op.opType === 'Mul';
      for (const side of commutes ? [0, 1] : [0]) {
        const c = floatInit(g, op.inputs[1 - side]);
        if (!c || floatInit(g, op.inputs[side]) || !this.foldBefore(model, op, reader, c)) continue;
        reader.inputs[0] = op.inputs[side]!;
        g.removeNode(op);
        report.changed++;
        report.details.push(
          `${nodeLabel(op)} folded into ${nodeLabel(reader)}'s ${op.opType === 'Add' || op.opType === 'Sub' ? 'bias' : 'weights'} (input side)`,
        );
        break;
      }
    }
    if (report.changed) dropUnusedInits(g);
    return report;
  }

  private foldAffine(model: Model, layer: Node, op: Node, c: Tensor): boolean {
    const g = model.graph;
    const v = channelValues(g, layer, c);
    if (!v || (op.opType === 'Div' && v.some((x) => x === 0 || !Number.isFinite(1 / x)))) return false;
    const ok =
      op.opType === 'Add'
        ? foldOutputAffine(g, layer, undefined, v, 'bias')
        : op.opType === 'Sub'
          ? foldOutputAffine(
              g,
              layer,
              undefined,
              v.map((x) => -x),
              'bias',
            )
          : foldOutputAffine(g, layer, op.opType === 'Mul' ? v : v.map((x) => 1 / x), undefined, 'scaled');
    if (!ok) return false;
    g.removeNode(op);
    layer.outputs[0] = op.outputs[0]!;
    return true;
  }

  private foldBefore(model: Model, op: Node, conv: Node, c: Tensor): boolean {
    const g = model.graph;
    const d = c.data as Float32Array;
    if (op.opType === 'Div' && d.some((x) => x === 0 || !Number.isFinite(1 / x))) return false;
    const t =
      op.opType === 'Sub'
        ? new Tensor(
            'float32',
            d.map((x) => -x),
            c.dims,
          )
        : op.opType === 'Div'
          ? new Tensor(
              'float32',
              d.map((x) => 1 / x),
              c.dims,
            )
          : c;
    return foldInputAffine(
      g,
      conv,
      t,
      op.opType === 'Add' || op.opType === 'Sub' ? 'shift' : 'scale',
      op.opType === 'Add' || op.opType === 'Sub' ? 'shifted' : 'scaled',
    );
  }

  private foldMatMul(model: Model, mm: Node, add: Node, c: Float32Array, dims: readonly number[]): boolean {
    const g = model.graph;
    const w = floatInit(g, mm.inputs[1]);
    const aShape = this.types?.get(mm.inputs[0])?.shape;
    if (w?.rank !== 2 || !aShape || aShape.length !== 2) return false;
    const n = w.dims[1];
    if (!(c.length === n && (dims.length === 1 || (dims.length === 2 && dims[0] === 1)))) return false;
    const bias = putInit(g, `${mm.name || mm.outputs[0]}_bias`, c.slice(), [n]);
    const gemm = makeNode('Gemm', [mm.inputs[0], mm.inputs[1], bias], [add.outputs[0]], {}, mm.name || g.uniqueName('gemm'));
    g.removeNode(add);
    g.replaceNode(mm, gemm);
    return true;
  }
}
