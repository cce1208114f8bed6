// Lowering of a QDQ (or QOperator) graph into a plan of integer kernel calls. A float op whose
// activation inputs come from per-tensor DequantizeLinear and whose output goes (optionally through
// a Relu/Clip) into one QuantizeLinear becomes one integer step reading the 8-bit inputs of the DQs
// and writing the 8-bit output of the Q; everything else runs in float on the float engine's ops.
// DequantizeLinear nodes whose outputs nobody reads any more disappear from the plan. Each op
// family's pattern lives in lower/ (registry.ts says which file lowers which op); this file is the
// driver: graph order, boundary Q/DQ, float fallbacks, and pruning.
import { OnnxPtqError } from '../../errors.js';
import { nodeLabel, type Node } from '../../ir/graph.js';
import { Tensor } from '../../tensor.js';
import { RunValues } from './plan.js';
import { LowerContext, isOp, layout, runImpl, type Step } from './lower/context.js';
import { loweringFor } from './lower/registry.js';
import { fuseTables } from './lower/fuse-tables.js';

export { quantizeScalar, type LowerOptions, type LoweringEntry, type Step, type Values } from './lower/context.js';

const SHAPE_OPS = new Set([
  'Cast',
  'Slice',
  'Concat',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Reshape',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Equal',
  'Where',
  'ConstantOfShape',
  'Range',
  'Identity',
  'ReduceProd',
  'Max',
  'Min',
]);
const isIntegerConst = (t: Tensor | undefined) => !!t && (t.dtype === 'int64' || t.dtype === 'int32' || t.dtype === 'bool');

export class Lowering extends LowerContext {
  lower(): void {
    const order = this.graph.topologicalOrder();
    for (const node of order) {
      if (this.handled.has(node)) continue;
      if (isOp(node, 'QuantizeLinear') || isOp(node, 'DequantizeLinear')) {
        this.boundary(node);
        continue;
      }
      let reason: string | undefined;
      try {
        const fn = loweringFor(node);
        reason = typeof fn === 'string' ? fn : fn(this, node);
      } catch (e) {
        if (e instanceof OnnxPtqError) throw e;
        throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)}: lowering failed: ${(e as Error).message}`, { cause: e });
      }
      if (reason !== undefined) this.float(node, reason);
    }
    this.prune();
    fuseTables(this, this.steps);
  }

  // ---- float and boundary steps ---------------------------------------------------------------

  private float(node: Node, reason: string): void {
    const impl = this.opts.registry.get(node.opType, node.domain);
    if (!impl)
      throw new OnnxPtqError(
        'UNSUPPORTED_OP',
        `${nodeLabel(node)}: op ${node.domain ? `${node.domain}::` : ''}${node.opType} has no integer lowering (${reason}) and no float implementation`,
      );
    const ctx = this.floatStepCtx(node);
    if (this.isShapeArithmetic(node)) {
      for (const o of node.outputs) if (o) this.shapeValues.add(o);
      this.record(node, { execution: 'shape', reason: 'arithmetic on tensor dimensions' });
    } else this.record(node, { execution: 'float', reason });
    this.push(node, node.inputs, node.outputs, (values) => runImpl(impl, ctx, node, values));
  }

  /**
   * Shape reads only its input's dimensions; Cast, Slice, Concat, Gather, Unsqueeze, ... whose inputs
   * are all such values or integer constants compute on dimensions too (exporters' dynamic Reshape
   * targets). Neither touches activation data, so neither is a float fallback.
   */
  private isShapeArithmetic(node: Node): boolean {
    if (node.domain !== '') return false;
    if (node.opType === 'Shape' || node.opType === 'Size') return true;
    if (!SHAPE_OPS.has(node.opType)) return false;
    const ins = node.inputs.filter(Boolean);
    return ins.some((i) => this.shapeValues.has(i)) && ins.every((i) => this.shapeValues.has(i) || isIntegerConst(this.consts.get(i)));
  }

  private boundary(node: Node): void {
    const impl = this.opts.registry.get(node.opType, node.domain)!;
    const ctx = this.ctx(node);
    const quant = isOp(node, 'QuantizeLinear');
    const p = this.qdqParams(node);
    const k = this.opts.kernels;
    if (p && (p.dtype === 'uint8' || p.dtype === 'int8' || (!quant && p.dtype === 'int32'))) {
      const kernel = quant ? 'quantizeLinear' : 'dequantizeLinear';
      this.record(node, { execution: quant ? 'quantize' : 'dequantize', kernel });
      this.push(
        node,
        node.inputs,
        node.outputs,
        (values) => {
          const x = values.get(node.inputs[0]!);
          if (!x) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)}: input has no value`);
          if ((quant && x.dtype !== 'float32') || (!quant && x.dtype !== p.dtype)) {
            runImpl(impl, ctx, node, values);
            return;
          }
          const lay = layout(x.dims, p.axis, p.scale.length, node);
          if (quant) {
            const y = values.out8(node.outputs[0]!, p.dtype === 'int8', x.size);
            k.backend.quantizeLinear({ ...lay, scale: p.scale, zeroPoint: p.zp, x: x.data as Float32Array, y });
            values.set(node.outputs[0]!, new Tensor(p.dtype as 'int8', y, x.dims));
          } else {
            const y = values.out(node.outputs[0]!, 'float32', x.size);
            k.backend.dequantizeLinear({ ...lay, scale: p.scale, zeroPoint: p.zp, x: x.data as Int8Array, y });
            values.set(node.outputs[0]!, new Tensor('float32', y, x.dims));
          }
          // The float engine's fallback above writes a fresh array: that keeps the step out of a plan.
        },
        { pure: true },
      );
      return;
    }
    this.record(node, {
      execution: quant ? 'quantize' : 'dequantize',
      kernel: 'float engine',
      // 16-bit: ONNX's arithmetic on the reference op (a boundary conversion, elementwise).
      reason: p && (p.dtype === 'int16' || p.dtype === 'uint16') ? '16-bit' : 'parameters are not constant or not 8-bit',
    });
    this.push(node, node.inputs, node.outputs, (values) => runImpl(impl, ctx, node, values));
  }

  /** Drops steps whose outputs nobody reads (DQs absorbed by integer steps). */
  private prune(): void {
    const needed = new Set(this.graphOutputs);
    const keep: Step[] = [];
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i]!;
      if (s.outputs.some((o) => o && needed.has(o))) {
        keep.push(s);
        for (const x of s.inputs) needed.add(x);
      } else if (isOp(s.node, 'DequantizeLinear')) {
        this.record(s.node, { execution: 'fused', kernel: 'integer consumers', reason: 'only integer steps read its input' });
      } else {
        keep.push(s); // keep anything else: its absence would hide a bug
        for (const x of s.inputs) needed.add(x);
      }
    }
    keep.reverse();
    this.steps.length = 0;
    for (const s of keep) if (!this.dequantizeOnce(s)) this.steps.push(s);
  }

  /**
   * A DequantizeLinear of constants that a float step still reads (a float fallback's weights) runs
   * once here and its output becomes a constant, instead of being dequantized again on every run.
   */
  private dequantizeOnce(s: Step): boolean {
    if (!isOp(s.node, 'DequantizeLinear') || !s.inputs.every((x) => this.consts.has(x)) || this.graphOutputs.has(s.outputs[0]!))
      return false;
    const values = new RunValues(this.consts);
    s.run(values);
    const y = values.get(s.outputs[0]!);
    if (!y) return false;
    this.consts.set(s.outputs[0]!, y);
    const e = this.report.get(s.node);
    this.record(s.node, {
      execution: 'dequantize',
      kernel: `${e?.kernel ?? 'dequantizeLinear'}, once at session creation`,
      reason: 'constant input read by a float step',
    });
    return true;
  }
}
