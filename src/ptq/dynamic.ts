/**
 * Dynamic quantization (`mode: 'dynamic'`, onnxruntime's quantize_dynamic format): weights int8
 * offline, activations quantized on every run from their own range, so no calibration data is
 * needed. Each MatMul (and Gemm with transA 0) with a constant 2-D weight becomes
 *
 *   DynamicQuantizeLinear(x) -> (x_q uint8, x_scale, x_zero_point)      (one per x, shared by readers)
 *   MatMulInteger(x_q, W_q int8 [K, N], x_zero_point, w_zero_point)     -> int32 acc (exact)
 *   y = Cast(acc, float) * (x_scale * alpha w_scale) [+ beta C]          (w_scale per column or one)
 *
 * which onnxruntime runs, and IntegerSession runs with the int32 product on its integer kernel.
 * Convolutions stay float (onnxruntime would write ConvInteger; the dynamic mode targets the linear
 * layers of transformers, where activation ranges vary most from input to input).
 */
import { OnnxPtqError } from '../errors.js';
import { makeNode, nodeLabel, type Graph, type Node } from '../ir/graph.js';
import { Tensor } from '../tensor.js';
import { quantizeTensor, type QuantScheme } from '../quant/scheme.js';
import { floatAttr, intAttr } from '../passes/pass.js';
import { layerWeightParams, type LayerReport } from './qdq-export.js';

export interface DynamicRewrite {
  layers: LayerReport[];
  keptFloat: { node: string; why: string }[];
}

/** Rewrites every layer of `layers` it can (see the module comment) in place. */
export function rewriteDynamic(g: Graph, layers: readonly Node[], scheme: Omit<QuantScheme, 'axis'>): DynamicRewrite {
  if (scheme.bits !== 8)
    throw new OnnxPtqError('INVALID_OPTION', `mode 'dynamic': weights are 8-bit (MatMulInteger), got weightBits ${scheme.bits}`);
  if (scheme.granularity === 'per-group')
    throw new OnnxPtqError('INVALID_OPTION', `mode 'dynamic': MatMulInteger takes per-tensor or per-column weights, not per-group`);
  const out: DynamicRewrite = { layers: [], keptFloat: [] };
  const quantized = new Map<string, { q: string; s: string; z: string }>();
  for (const n of layers) {
    const why = unsupported(g, n);
    if (why) {
      out.keptFloat.push({ node: n.name || n.outputs[0]!, why: `mode 'dynamic': ${why}` });
      continue;
    }
    const base = n.name || n.outputs[0]!;
    const x = n.inputs[0]!;
    const w = g.initializers.get(n.inputs[1]!)!;
    const transB = n.opType === 'Gemm' && intAttr(n, 'transB', 0) === 1;
    const alpha = n.opType === 'Gemm' ? floatAttr(n, 'alpha', 1) : 1;
    const p = layerWeightParams(g, n, { ...scheme, signed: true });
    let wq = quantizeTensor(w.data as Float32Array, w.dims, p) as Int8Array;
    const [r0, r1] = w.dims as [number, number];
    if (transB) {
      // MatMulInteger's B is [K, N]: Gemm's transposed weight is written transposed.
      const t = new Int8Array(wq.length);
      for (let i = 0; i < r0; i++) for (let j = 0; j < r1; j++) t[j * r0 + i] = wq[i * r1 + j]!;
      wq = t;
    }
    const [K, N] = transB ? [r1, r0] : [r0, r1];
    const perColumn = p.scale.length > 1;
    let dq = quantized.get(x);
    if (!dq) {
      dq = { q: g.uniqueName(`${x}_quantized`), s: g.uniqueName(`${x}_scale`), z: g.uniqueName(`${x}_zero_point`) };
      quantized.set(x, dq);
      const producer = g.producerOf(x);
      const dql = makeNode('DynamicQuantizeLinear', [x], [dq.q, dq.s, dq.z], {}, g.uniqueName(`${x}_DynamicQuantizeLinear`));
      if (producer) g.insertAfter(producer, dql);
      else g.insertNode(dql, 0);
    }
    const init = (name: string, t: Tensor) => {
      const v = g.uniqueName(name);
      g.initializers.set(v, t);
      return v;
    };
    const wName = init(`${base}_weight_quantized`, new Tensor('int8', wq, [K, N]));
    const wz = init(`${base}_weight_zero_point`, new Tensor('int8', Int8Array.from(p.zeroPoint), perColumn ? [N] : []));
    const ws = init(
      `${base}_weight_scale`,
      new Tensor(
        'float32',
        Float32Array.from(p.scale, (s) => s * alpha),
        perColumn ? [N] : [],
      ),
    );
    const acc = g.uniqueName(`${base}_int32`),
      accf = g.uniqueName(`${base}_int32_float`),
      scale = g.uniqueName(`${base}_scale`);
    const y = n.outputs[0]!;
    const c = n.opType === 'Gemm' ? n.inputs[2] : undefined;
    const beta = n.opType === 'Gemm' ? floatAttr(n, 'beta', 1) : 1;
    const scaled = c ? g.uniqueName(`${base}_scaled`) : y;
    const nodes = [
      makeNode('MatMulInteger', [dq.q, wName, dq.z, wz], [acc], {}, g.uniqueName(`${base}_MatMulInteger`)),
      makeNode('Cast', [acc], [accf], { to: { type: 'int', value: 1 } }, g.uniqueName(`${base}_Cast`)),
      makeNode('Mul', [dq.s, ws], [scale], {}, g.uniqueName(`${base}_scales`)),
      makeNode('Mul', [accf, scale], [scaled], {}, g.uniqueName(`${base}_rescale`)),
    ];
    if (c) {
      const ct = g.initializers.get(c);
      const cName =
        beta === 1
          ? c
          : init(
              `${base}_C_beta`,
              new Tensor(
                'float32',
                Float32Array.from(ct!.data as Float32Array, (v) => v * beta),
                ct!.dims,
              ),
            );
      nodes.push(makeNode('Add', [scaled, cName], [y], {}, g.uniqueName(`${base}_bias`)));
    }
    g.replaceNode(n, ...nodes);
    out.layers.push({
      node: base,
      op: n.opType,
      weight: n.inputs[1]!,
      granularity: perColumn ? 'per-channel' : 'per-tensor',
      bits: 8,
      baked: false,
      biasQuantized: false,
    });
  }
  return out;
}

/** Why `n` has no dynamic form, or undefined. */
function unsupported(g: Graph, n: Node): string | undefined {
  if (n.opType !== 'MatMul' && n.opType !== 'Gemm') return `${n.opType} stays float (the dynamic mode quantizes MatMul and Gemm)`;
  const w = g.initializers.get(n.inputs[1]!);
  if (w?.dtype !== 'float32' || w.rank !== 2) return `${nodeLabel(n)}: the weight is not a 2-D float constant`;
  if (n.opType === 'Gemm') {
    if (intAttr(n, 'transA', 0) !== 0) return `${nodeLabel(n)}: Gemm with transA`;
    const c = n.inputs[2];
    if (c && floatAttr(n, 'beta', 1) !== 1 && g.initializers.get(c)?.dtype !== 'float32')
      return `${nodeLabel(n)}: Gemm with a computed C and beta != 1`;
  }
  return undefined;
}
