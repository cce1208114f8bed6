/**
 * Per-axis QuantizeLinear/DequantizeLinear need opset 13. Older models are moved to 13 by rewriting
 * the ops whose form changed on the way (attributes that became inputs); any other op keeps its
 * meaning across these versions. Ops that cannot be moved are refused by name. A graph holding
 * HardSwish (written by the fuse-hardswish pass) goes on to 14, where HardSwish was introduced; from
 * 13 to 14 only BatchNormalization changed form (its running-statistics outputs became training-only).
 * LayerNormalization and Gelu (the LayerNorm and GELU fusions) take it to 17 and 20 the same way.
 */
import { OnnxPtqError } from '../errors.js';
import { makeNode, nodeLabel, opsetVersion, type Model, type Node } from '../ir/graph.js';
import { Tensor } from '../tensor.js';
import type { TypeInfo } from '../ops/index.js';

function attrToInput(model: Model, n: Node, attr: string, index: number, make: (v: number[]) => Tensor): void {
  const a = n.attributes.get(attr);
  if (!a) return;
  if (a.type !== 'ints' && a.type !== 'floats' && a.type !== 'float' && a.type !== 'int') return;
  const values = Array.isArray(a.value) ? a.value : [a.value];
  const name = model.graph.uniqueName(`${n.name || n.outputs[0]}_${attr}`);
  model.graph.initializers.set(name, make(values as number[]));
  while (n.inputs.length < index) n.inputs.push('');
  n.inputs[index] = name;
  n.attributes.delete(attr);
}

const i64 = (v: number[]) => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);

/**
 * `types` (from shape inference) lets Softmax-like ops move when their old 2-D coercion and the new
 * per-axis form agree (axis = last).
 */
export function upgradeOpset(
  model: Model,
  types?: ReadonlyMap<string, TypeInfo>,
  /** A later opset the model must reach (21 for 16-bit QuantizeLinear/DequantizeLinear). */
  atLeast?: number,
): { from: number; to: number; wrapped: WrappedOp[] } {
  const from = opsetVersion(model) ?? 1;
  const target = Math.max(atLeast ?? 0, 13, ...model.graph.nodes.map((n) => (n.domain === '' ? (INTRODUCED[n.opType] ?? 0) : 0)));
  const wrapped: WrappedOp[] = [];
  if (from >= target) return { from, to: from, wrapped };
  if (from < 13) upgradeTo13(model, from, types, wrapped);
  if (target >= 14) {
    for (const n of model.graph.nodes) {
      // Inference BatchNormalization has one output; unread optional outputs go (14 forbids them outside training).
      if (n.opType === 'BatchNormalization' && n.domain === '') {
        const unread = (v: string) =>
          v === '' || (model.graph.consumersOf(v).length === 0 && !model.graph.outputs.some((o) => o.name === v));
        while (n.outputs.length > 1 && unread(n.outputs[n.outputs.length - 1])) n.outputs.pop();
        if (n.outputs.length > 1)
          throw new OnnxPtqError(
            'UNSUPPORTED_OP',
            `${nodeLabel(n)} has its running-statistics outputs read: opset 14 (needed for HardSwish) allows them only in training mode`,
          );
      }
    }
  }
  if (target > 14) upgradePast14(model, Math.max(from, 13), target, atLeast ?? 0);
  for (const o of model.opsetImports) if (o.domain === '' || o.domain === 'ai.onnx') o.version = target;
  // IR 10 is the version that came with opset 21.
  const ir = target >= 21 ? 10 : target >= 19 ? 9 : target >= 15 ? 8 : 7;
  if (model.irVersion < ir) model.irVersion = ir;
  return { from, to: target, wrapped };
}

/** A Softmax-like op written out as Reshape(op(Flatten(input)), Shape(input)): its tensors. */
export interface WrappedOp {
  op: Node;
  input: string;
  flat: string;
  opOutput: string;
  output: string;
}

function upgradeTo13(model: Model, from: number, types: ReadonlyMap<string, TypeInfo> | undefined, wrapped: WrappedOp[]): void {
  if (from < 7) throw new OnnxPtqError('UNSUPPORTED_OP', `opset ${from} is too old to quantize (need 7 or later)`);
  const rewrites: Node[] = [];
  for (const n of model.graph.nodes) {
    if (n.domain !== '') continue;
    switch (n.opType) {
      case 'Squeeze':
      case 'Unsqueeze':
      case 'ReduceSum':
        attrToInput(model, n, 'axes', 1, i64);
        break;
      case 'Split':
        attrToInput(model, n, 'split', 1, i64);
        break;
      case 'Clip':
        if (from < 11) {
          const lo = n.attributes.get('min'),
            hi = n.attributes.get('max');
          if (lo) attrToInput(model, n, 'min', 1, (v) => new Tensor('float32', Float32Array.from(v), []));
          if (hi) attrToInput(model, n, 'max', 2, (v) => new Tensor('float32', Float32Array.from(v), []));
        }
        break;
      case 'Pad':
        if (from < 11) {
          attrToInput(model, n, 'pads', 1, i64);
          const value = n.attributes.get('value');
          if (value) attrToInput(model, n, 'value', 2, (v) => new Tensor('float32', Float32Array.from(v), []));
        }
        break;
      case 'Slice':
        if (from < 10) {
          attrToInput(model, n, 'starts', 1, i64);
          attrToInput(model, n, 'ends', 2, i64);
          attrToInput(model, n, 'axes', 3, i64);
        }
        break;
      case 'Resize':
        if (from < 11) {
          // opset 10: Resize(X, scales) with asymmetric coordinates and floor for nearest.
          n.inputs = [n.inputs[0], '', n.inputs[1]];
          n.attributes.set('coordinate_transformation_mode', { type: 'string', value: 'asymmetric' });
          if ((n.attributes.get('mode')?.value ?? 'nearest') === 'nearest')
            n.attributes.set('nearest_mode', { type: 'string', value: 'floor' });
        }
        break;
      case 'Softmax':
      case 'LogSoftmax':
      case 'Hardmax': {
        // Before 13 these flatten to 2-D at `axis` (default 1); from 13 they work along `axis`
        // (default -1). When axis is known to be the last one the two agree; otherwise the old
        // meaning is written out exactly: Reshape(op(Flatten(x, axis), axis=-1), Shape(x)).
        const rank = types?.get(n.inputs[0])?.shape?.length;
        const a = n.attributes.get('axis');
        const axis = a && a.type === 'int' ? a.value : 1;
        if (rank !== undefined && (axis + rank) % rank === rank - 1) {
          n.attributes.set('axis', { type: 'int', value: -1 });
        } else {
          rewrites.push(n);
        }
        break;
      }
      case 'TopK':
        if (from < 10) attrToInput(model, n, 'k', 1, i64);
        break;
      case 'Dropout':
        // Inference Dropout is an identity; its attributes (ratio, is_test) changed meaning over versions.
        n.attributes.clear();
        n.outputs = n.outputs.slice(0, 1);
        break;
      case 'BatchNormalization':
        n.attributes.delete('spatial');
        n.attributes.delete('is_test');
        n.attributes.delete('consumed_inputs');
        break;
      case 'Upsample':
      case 'Scatter':
        throw new OnnxPtqError(
          'UNSUPPORTED_OP',
          `${nodeLabel(n)} (opset ${from}) has no opset-13 form that onnx-ptq rewrites; re-export the model at opset 13`,
        );
      default:
        break;
    }
  }
  const g = model.graph;
  for (const n of rewrites) {
    const a = n.attributes.get('axis');
    const axis = a && a.type === 'int' ? a.value : 1;
    const x = n.inputs[0],
      y = n.outputs[0],
      base = n.name || y;
    const flat = g.uniqueName(`${base}_flat`),
      shape = g.uniqueName(`${base}_shape`),
      out2d = g.uniqueName(`${base}_2d`);
    g.replaceNode(
      n,
      makeNode('Flatten', [x], [flat], { axis: { type: 'int', value: axis } }, g.uniqueName(`${base}_Flatten`)),
      makeNode(n.opType, [flat], [out2d], { axis: { type: 'int', value: -1 } }, n.name),
      makeNode('Shape', [x], [shape], {}, g.uniqueName(`${base}_Shape`)),
      makeNode('Reshape', [out2d, shape], [y], {}, g.uniqueName(`${base}_Reshape`)),
    );
    wrapped.push({ op: g.producerOf(out2d)!, input: x, flat, opOutput: out2d, output: y });
  }
}

/** Reductions whose `axes` became an input at opset 18 (ReduceSum already did at 13). */
const REDUCE_18 = new Set([
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSum',
  'ReduceLogSumExp',
  'ReduceSumSquare',
]);

/**
 * Ops the quantizer's fusions write, and the opset that introduced them: a graph holding one moves
 * there (fuse-hardswish, fuse-gelu, and the LayerNorm fusion).
 */
const INTRODUCED: Record<string, number> = { HardSwish: 14, LayerNormalization: 17, Gelu: 20 };

/** The op that changed meaning at `version` (after 14, up to 21), by op. */
const CHANGED_AT: Record<string, number> = { RoiAlign: 16, GridSample: 20, DFT: 20, GroupNormalization: 21 };

/**
 * From 13/14 to `target` (17 for LayerNormalization, 20 for Gelu, 21 for 16-bit
 * QuantizeLinear/DequantizeLinear). Most ops changed only in the types they accept; the reductions'
 * axes became an input at 18 (rewritten here). Ops whose meaning changed on the way (RoiAlign's
 * default coordinate mode at 16, GridSample's mode names and DFT's axis input at 20,
 * GroupNormalization's per-channel scale at 21) are refused by name.
 */
function upgradePast14(model: Model, from: number, target: number, atLeast: number): void {
  for (const n of model.graph.nodes) {
    if (n.domain !== '') continue;
    const changed = CHANGED_AT[n.opType];
    if (REDUCE_18.has(n.opType) && from < 18 && target >= 18) attrToInput(model, n, 'axes', 1, i64);
    else if (changed !== undefined && from < changed && target >= changed) {
      const why =
        atLeast >= target
          ? `16-bit activations need opset ${target}`
          : `the fused ${Object.keys(INTRODUCED).find((op) => INTRODUCED[op] === target) ?? 'op'} needs opset ${target}`;
      throw new OnnxPtqError(
        'UNSUPPORTED_OP',
        `${nodeLabel(n)}: ${why}, and ${n.opType} changed meaning before it; onnx-ptq does not rewrite it (${atLeast >= target ? 'use 8-bit activations' : 'turn the fusion off'}, or re-export the model at opset ${target})`,
      );
    }
  }
}
