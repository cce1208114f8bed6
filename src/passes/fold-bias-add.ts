/**
 * Bias-Add folding: exporters (CNTK's mnist-8 among them) write a layer's bias as a separate Add of
 * a constant. Folding it back into the layer lets quantization treat it as an int32 bias
 * (bias_q = round(b / (Sx * Sw))) instead of a second requantized Add.
 *  - Conv -> Add(c) with c of C elements broadcast per output channel ([C], [C,1,1], [1,C,1,1]):
 *    b' = b + c.
 *  - MatMul(A 2-D, B constant [K,N]) -> Add(c) with c of N elements ([N] or [1,N]): Gemm(A, B, c).
 * Fires only when the layer output's only reader is the Add and c is a float32 initializer.
 */
import type { Model, Node } from '../ir/graph.js';
import { makeNode } from '../ir/graph.js';
import type { TypeInfo } from '../ops/index.js';
import { GraphPass, dropUnusedInits, floatInit, nodeLabel, putInit, soleConsumer, type PassReport } from './pass.js';

export interface FoldBiasAddOptions {
  verbose: boolean;
}

export class FoldBiasAddPass extends GraphPass<FoldBiasAddOptions> {
  readonly name = 'fold-bias-add';

  /** `types` (from shape inference) tells MatMul inputs' ranks; without it MatMul is left alone. */
  constructor(options: Partial<FoldBiasAddOptions> = {}, private readonly types?: ReadonlyMap<string, TypeInfo>) {
    super({ verbose: false }, options);
  }

  apply(model: Model): PassReport {
    const g = model.graph;
    const report: PassReport = { pass: this.name, changed: 0, details: [] };
    for (const add of [...g.nodes]) {
      if (add.opType !== 'Add' || add.domain !== '') continue;
      for (const side of [0, 1]) {
        const layer = g.producerOf(add.inputs[side]);
        const c = floatInit(g, add.inputs[1 - side]);
        if (!layer || !c || soleConsumer(g, add.inputs[side]) !== add) continue;
        if (layer.opType === 'Conv' && this.foldConv(model, layer, add, c.data as Float32Array, c.dims)) {
          report.changed++;
          report.details.push(`${nodeLabel(add)} folded into ${nodeLabel(layer)} as its bias`);
          break;
        }
        if (layer.opType === 'MatMul' && this.foldMatMul(model, layer, add, c.data as Float32Array, c.dims)) {
          report.changed++;
          report.details.push(`${nodeLabel(layer)} + ${nodeLabel(add)} became a Gemm`);
          break;
        }
      }
    }
    if (report.changed) dropUnusedInits(g);
    return report;
  }

  private foldConv(model: Model, conv: Node, add: Node, c: Float32Array, dims: readonly number[]): boolean {
    const g = model.graph;
    const w = floatInit(g, conv.inputs[1]);
    if (!w) return false;
    const cout = w.dims[0];
    const nonUnit = dims.filter((d) => d !== 1);
    const perChannel = c.length === cout && (dims.length === 1 || (dims.length >= 3 && dims[dims.length - 3] === cout && nonUnit.length <= 1));
    if (!perChannel && c.length !== 1) return false;
    const old = conv.inputs[2] ? floatInit(g, conv.inputs[2]) : undefined;
    if (conv.inputs[2] && !old) return false;
    const b = new Float32Array(cout);
    for (let i = 0; i < cout; i++) b[i] = (old ? (old.data as Float32Array)[i] : 0) + c[perChannel ? i : 0];
    const name = putInit(g, `${conv.name || conv.outputs[0]}_bias`, b, [cout]);
    if (conv.inputs.length < 3) conv.inputs.push(name);
    else conv.inputs[2] = name;
    g.removeNode(add);
    conv.outputs[0] = add.outputs[0];
    return true;
  }

  private foldMatMul(model: Model, mm: Node, add: Node, c: Float32Array, dims: readonly number[]): boolean {
    const g = model.graph;
    const w = floatInit(g, mm.inputs[1]);
    const aShape = this.types?.get(mm.inputs[0])?.shape;
    if (!w || w.rank !== 2 || !aShape || aShape.length !== 2) return false;
    const n = w.dims[1];
    if (!(c.length === n && (dims.length === 1 || (dims.length === 2 && dims[0] === 1)))) return false;
    const bias = putInit(g, `${mm.name || mm.outputs[0]}_bias`, c.slice(), [n]);
    const gemm = makeNode('Gemm', [mm.inputs[0], mm.inputs[1], bias], [add.outputs[0]], {}, mm.name || g.uniqueName('gemm'));
    g.removeNode(add);
    g.replaceNode(mm, gemm);
    return true;
  }
}
