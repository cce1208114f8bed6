/**
 * Per-axis QuantizeLinear/DequantizeLinear need opset 13. Older models are moved to 13 by rewriting
 * the ops whose form changed on the way (attributes that became inputs); any other op keeps its
 * meaning across these versions. Ops that cannot be moved are refused by name.
 */
import { OnnxPtqError } from '../errors.js';
import { nodeLabel, opsetVersion, type Model, type Node } from '../ir/graph.js';
import { Tensor } from '../tensor.js';

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

export function upgradeToOpset13(model: Model): { from: number; to: number } {
  const from = opsetVersion(model) ?? 1;
  if (from >= 13) return { from, to: from };
  if (from < 7) throw new OnnxPtqError('UNSUPPORTED_OP', `opset ${from} is too old to quantize (need 7 or later)`);
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
          const lo = n.attributes.get('min'), hi = n.attributes.get('max');
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
        throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(n)} (opset ${from}) has no opset-13 form that onnx-ptq rewrites; re-export the model at opset 13`);
      default:
        break;
    }
  }
  for (const o of model.opsetImports) if (o.domain === '' || o.domain === 'ai.onnx') o.version = 13;
  if (model.irVersion < 7) model.irVersion = 7;
  return { from, to: 13 };
}
