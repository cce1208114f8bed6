/**
 * Writes quantization into a float graph as standard QDQ (DESIGN.md "Quantized model format"):
 *  - each quantized activation t gets QuantizeLinear -> DequantizeLinear; the producer now writes
 *    `<t>_float`, and the DequantizeLinear writes t, so every reader (and a graph output named t)
 *    sees the dequantized value without being edited;
 *  - a layer's weight becomes an int8 initializer read through DequantizeLinear (axis = the output
 *    channel when per-channel);
 *  - its bias becomes int32, b_q = roundHalfEven(b / (Sx * Sw[c])), with scale Sx * Sw[c] (float32)
 *    and zero point 0, as onnxruntime's quantizer writes it.
 */
import type { Attribute, Graph, Node } from '../ir/graph.js';
import { makeNode } from '../ir/graph.js';
import { Tensor } from '../tensor.js';
import { roundHalfEven } from '../quant/fixedpoint.js';
import {
  blockedDims,
  computeParams,
  dequantizeTensor,
  fakeQuantize,
  quantizeTensor,
  sliceRanges,
  type QuantParams,
  type QuantScheme,
} from '../quant/scheme.js';
import { intAttr } from '../passes/pass.js';
import { OnnxPtqError } from '../errors.js';

export interface ActivationParams {
  scale: number;
  zeroPoint: number;
  signed: boolean;
  /** 16 for an A16W8 activation (int16 when signed, uint16 otherwise); absent: 8-bit. */
  bits?: 16;
}

export interface LayerReport {
  node: string;
  op: string;
  weight: string;
  granularity: string;
  bits: number;
  /** Per-group weights are baked as fake-quantized float (QDQ before opset 21 cannot carry groups). */
  baked: boolean;
  biasQuantized: boolean;
  /** 'MatMulNBits' when weightFormat 'matmulnbits' rewrote the layer; absent: QDQ. */
  format?: 'MatMulNBits';
}

const SCALAR_CTOR = {
  float32: Float32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
} as const;

function scalar(dtype: keyof typeof SCALAR_CTOR, v: number): Tensor {
  return new Tensor(dtype, SCALAR_CTOR[dtype].of(v), []);
}

/** Adds an initializer under a fresh name built from `base`; returns the name. */
export function addInit(g: Graph, base: string, t: Tensor): string {
  const name = g.uniqueName(base);
  g.initializers.set(name, t);
  return name;
}

/** QuantizeLinear/DequantizeLinear on activation t. */
export function insertActivationQdq(g: Graph, t: string, p: ActivationParams): void {
  const zt = p.bits === 16 ? (p.signed ? 'int16' : 'uint16') : p.signed ? 'int8' : 'uint8';
  const s = addInit(g, `${t}_scale`, scalar('float32', p.scale));
  const z = addInit(g, `${t}_zero_point`, scalar(zt, p.zeroPoint));
  const q = g.uniqueName(`${t}_quantized`);
  const producer = g.producerOf(t);
  if (!producer) {
    // A graph input: readers switch to the dequantized copy.
    const dq = g.uniqueName(`${t}_dequantized`);
    const readers = g.consumersOf(t);
    const qn = makeNode('QuantizeLinear', [t, s, z], [q], {}, g.uniqueName(`${t}_QuantizeLinear`));
    const dqn = makeNode('DequantizeLinear', [q, s, z], [dq], {}, g.uniqueName(`${t}_DequantizeLinear`));
    g.insertNode(qn, 0);
    g.insertNode(dqn, 1);
    for (const r of readers) r.inputs = r.inputs.map((i) => (i === t ? dq : i));
    return;
  }
  const f = g.uniqueName(`${t}_float`);
  producer.outputs = producer.outputs.map((o) => (o === t ? f : o));
  const qn = makeNode('QuantizeLinear', [f, s, z], [q], {}, g.uniqueName(`${t}_QuantizeLinear`));
  const dqn = makeNode('DequantizeLinear', [q, s, z], [t], {}, g.uniqueName(`${t}_DequantizeLinear`));
  g.insertAfter(producer, qn);
  g.insertAfter(qn, dqn);
}

/**
 * A float constant operand of an integer-form op (plan.parameters): quantized per tensor from its
 * own range [min(0, c), max(0, c)] with the 8-bit type of the op's activations (a scalar is then
 * exact: q = qmin or qmax), stored as an 8-bit initializer and read by `node` through a
 * DequantizeLinear. `pow2` rounds the scale up to a power of two (single-shift mode, where every
 * multiplier must stay a power of two). Returns the parameters used.
 */
export function insertParameterDq(g: Graph, tensor: string, node: Node, signed: boolean, pow2: boolean): ActivationParams {
  const c = g.initializers.get(tensor)!;
  const d = c.data as Float32Array;
  let lo = 0,
    hi = 0;
  for (const v of d) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let p = computeParams([lo], [hi], { bits: 8, signed, symmetric: false, granularity: 'per-tensor' });
  if (pow2) {
    const s = 2 ** Math.ceil(Math.log2(p.scale[0]!));
    p = { ...p, scale: Float32Array.of(s), zeroPoint: Int32Array.of(Math.min(p.qmax, Math.max(p.qmin, roundHalfEven(p.qmin - lo / s)))) };
  }
  const ap: ActivationParams = { scale: p.scale[0]!, zeroPoint: p.zeroPoint[0]!, signed };
  constantDq(g, tensor, [node], { ...p, scale: Float32Array.of(ap.scale), zeroPoint: Int32Array.of(ap.zeroPoint) }, signed);
  return ap;
}

/**
 * A Gather table (plan.gatherTables) quantized with the Gather output's parameters `q` (8-bit, per
 * tensor; values outside its range saturate), read through one DequantizeLinear by every Gather of
 * it, which then moves 8-bit rows.
 */
export function insertTableDq(g: Graph, tensor: string, q: ActivationParams): void {
  const readers = g.consumersOf(tensor).filter((n) => n.opType === 'Gather' && n.domain === '' && n.inputs[0] === tensor);
  if (!readers.length || (q.bits ?? 8) !== 8) return;
  const qmin = q.signed ? -128 : 0;
  const p: QuantParams = {
    scale: Float32Array.of(q.scale),
    zeroPoint: Int32Array.of(q.zeroPoint),
    qmin,
    qmax: qmin + 255,
    bits: 8,
    signed: q.signed,
    symmetric: false,
    granularity: 'per-tensor',
  };
  constantDq(g, tensor, readers, p, q.signed);
}

/** Writes float constant `tensor` as 8-bit on `p` and points `readers` at its DequantizeLinear. */
function constantDq(g: Graph, tensor: string, readers: Node[], p: QuantParams, signed: boolean): void {
  const c = g.initializers.get(tensor)!;
  const q = addInit(
    g,
    `${tensor}_quantized`,
    new Tensor(signed ? 'int8' : 'uint8', quantizeTensor(c.data as Float32Array, c.dims, p), c.dims),
  );
  const sc = addInit(g, `${tensor}_scale`, scalar('float32', p.scale[0]!));
  const z = addInit(g, `${tensor}_zero_point`, scalar(signed ? 'int8' : 'uint8', p.zeroPoint[0]!));
  const out = g.uniqueName(`${tensor}_dequantized`);
  g.insertBefore(readers[0]!, makeNode('DequantizeLinear', [q, sc, z], [out], {}, g.uniqueName(`${tensor}_DequantizeLinear`)));
  for (const r of readers) r.inputs = r.inputs.map((i) => (i === tensor ? out : i));
}

/** The output-channel axis of a layer's weight. */
export function weightAxis(n: Node): number {
  if (n.opType === 'Conv') return 0;
  if (n.opType === 'Gemm') return intAttr(n, 'transB', 0) === 1 ? 0 : 1;
  return 1; // MatMul: B is [K, N]
}

/**
 * The input-channel axis of a layer's weight: the axis per-block quantization cuts into blocks (the
 * reduction axis, as MatMulNBits and onnxruntime's blocked weight quantizers do).
 */
export function weightBlockAxis(n: Node, rank: number): number {
  if (n.opType === 'Conv') return 1;
  if (n.opType === 'ConvTranspose') return 0;
  if (n.opType === 'Gemm') return intAttr(n, 'transB', 0) === 1 ? 1 : 0;
  return rank - 2; // MatMul: B is [..., K, N]
}

/**
 * Quantization parameters of a layer's weight under a scheme (the axis is the layer's output
 * channel; per block, its input channel).
 */
export function layerWeightParams(g: Graph, n: Node, scheme: Omit<QuantScheme, 'axis'>): QuantParams {
  const w = g.initializers.get(n.inputs[1])!;
  const full: QuantScheme = { ...scheme, axis: scheme.granularity === 'per-block' ? weightBlockAxis(n, w.rank) : weightAxis(n) };
  const { mins, maxs } = sliceRanges(w.data as Float32Array, w.dims, full);
  return computeParams(mins, maxs, full);
}

/** The float values a layer's quantized weight stands for (what bias correction compares with). */
export function layerWeightFakeQuant(g: Graph, n: Node, scheme: Omit<QuantScheme, 'axis'>, round = true): Float32Array {
  const w = g.initializers.get(n.inputs[1])!;
  return fakeQuantize(w.data as Float32Array, w.dims, layerWeightParams(g, n, scheme), round);
}

/**
 * Quantizes a layer's weight (and bias when the activation input has parameters). Returns what it
 * did. `scheme` carries bits, granularity and symmetry; the axis is the layer's output channel.
 */
export function quantizeLayerWeights(
  g: Graph,
  n: Node,
  scheme: Omit<QuantScheme, 'axis'>,
  input?: ActivationParams,
  noRounding = false,
  /** Replaces the computed weight scales (single-shift); needs symmetric weights. */
  adjustScale?: (scale: Float32Array, perChannel: boolean) => Float32Array,
  /** The integer weights to write instead of round(W / s) + z (adaround's learned rounding), on the same parameters. */
  values?: Int8Array | Uint8Array,
): LayerReport & { params: QuantParams } {
  const wName = n.inputs[1];
  const w = g.initializers.get(wName)!;
  const axis = weightAxis(n);
  let params = layerWeightParams(g, n, scheme);
  if (adjustScale) params = { ...params, scale: adjustScale(params.scale, scheme.granularity !== 'per-tensor') };
  const label = n.name || n.outputs[0];
  const report = {
    node: label,
    op: n.opType,
    weight: wName,
    granularity: scheme.granularity,
    bits: scheme.bits,
    baked: false,
    biasQuantized: false,
    params,
  };
  // Per-group (QDQ before opset 21 has no groups) and "PTQ without rounding" (int8 cannot hold an
  // unrounded weight) bake the fake-quantized weight as float; the latter only clamps.
  if (values && values.length !== w.size)
    throw new OnnxPtqError('INTERNAL', `layer '${label}': ${values.length} integer weights given for a weight of ${w.size}`);
  if (scheme.granularity === 'per-group' || noRounding) {
    const baked =
      values && !noRounding ? dequantizeTensor(values, w.dims, params) : fakeQuantize(w.data as Float32Array, w.dims, params, !noRounding);
    n.inputs[1] = addInit(g, `${wName}_fakequant`, new Tensor('float32', baked, w.dims));
    report.baked = true;
    return report;
  }
  if (scheme.granularity === 'per-block') return writeBlockedWeight(g, n, params, values, report);
  const perChannel = scheme.granularity === 'per-channel';
  const q = values ?? quantizeTensor(w.data as Float32Array, w.dims, params);
  const qName = addInit(g, `${wName}_quantized`, new Tensor(scheme.signed ? 'int8' : 'uint8', q, w.dims));
  const cdims = perChannel ? [params.scale.length] : [];
  const sName = addInit(g, `${wName}_scale`, new Tensor('float32', params.scale.slice(), cdims));
  // An all-zero zero point is DequantizeLinear's default for int8 (and int32) input: written only
  // when it says something, which keeps a per-channel array and three names per layer out of the file.
  const zdata = scheme.signed ? Int8Array.from(params.zeroPoint) : Uint8Array.from(params.zeroPoint);
  const dqInputs = [qName, sName];
  if (!scheme.signed || zdata.some((z) => z !== 0)) {
    dqInputs.push(
      addInit(g, `${wName}_zero_point`, new Tensor(scheme.signed ? 'int8' : 'uint8', perChannel ? zdata : zdata.subarray(0, 1), cdims)),
    );
  }
  const dq = g.uniqueName(`${wName}_dequantized`);
  const attrs: Record<string, Attribute> = perChannel ? { axis: { type: 'int', value: axis } } : {};
  g.insertBefore(n, makeNode('DequantizeLinear', dqInputs, [dq], attrs, g.uniqueName(`${label}_weight_DequantizeLinear`)));
  n.inputs[1] = dq;

  const b = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
  if (input && b && b.dtype === 'float32' && b.rank === 1) {
    const c = b.size;
    const bs = new Float32Array(c),
      bq = new Int32Array(c);
    for (let i = 0; i < c; i++) {
      // ConvTranspose with groups: Cout/group scales along axis 1, output channel i uses i mod Cout/group.
      bs[i] = Math.fround(input.scale * params.scale[perChannel ? i % params.scale.length : 0]);
      const v = roundHalfEven((b.data as Float32Array)[i] / bs[i]);
      bq[i] = Math.max(-2147483648, Math.min(2147483647, v));
    }
    const bsName = addInit(g, `${n.inputs[2]}_scale`, perChannel ? new Tensor('float32', bs, [c]) : scalar('float32', bs[0]));
    const bqName = addInit(g, `${n.inputs[2]}_quantized`, new Tensor('int32', bq, [c]));
    const bdq = g.uniqueName(`${n.inputs[2]}_dequantized`);
    g.insertBefore(
      n,
      makeNode(
        'DequantizeLinear',
        [bqName, bsName],
        [bdq],
        perChannel ? { axis: { type: 'int', value: 0 } } : {},
        g.uniqueName(`${label}_bias_DequantizeLinear`),
      ),
    );
    n.inputs[2] = bdq;
    report.biasQuantized = true;
  }
  return report;
}

/**
 * A per-block weight as opset 21's blocked DequantizeLinear: int4/uint4 storage up to 4 bits (two
 * per byte in the file), int8/uint8 above; scale and zero point shaped like the weight with the
 * blocked axis cut into blocks. The bias stays float: its scale would have to be Sx * Sw, and Sw
 * varies along the reduction axis.
 */
function writeBlockedWeight<R extends LayerReport>(
  g: Graph,
  n: Node,
  params: QuantParams,
  values: Int8Array | Uint8Array | undefined,
  report: R,
): R {
  const wName = n.inputs[1]!;
  const w = g.initializers.get(wName)!;
  const label = n.name || n.outputs[0];
  const axis = params.axis!,
    block = params.groupSize!;
  const dtype = params.bits <= 4 ? (params.signed ? 'int4' : 'uint4') : params.signed ? 'int8' : 'uint8';
  const q = values ?? quantizeTensor(w.data as Float32Array, w.dims, params);
  const pdims = blockedDims(w.dims, axis, block);
  const qName = addInit(g, `${wName}_quantized`, new Tensor(dtype, q, w.dims));
  const sName = addInit(g, `${wName}_scale`, new Tensor('float32', params.scale.slice(), pdims));
  const dqInputs = [qName, sName];
  if (!params.signed || params.zeroPoint.some((z) => z !== 0)) {
    const z = params.signed ? Int8Array.from(params.zeroPoint) : Uint8Array.from(params.zeroPoint);
    dqInputs.push(addInit(g, `${wName}_zero_point`, new Tensor(dtype, z, pdims)));
  }
  const dq = g.uniqueName(`${wName}_dequantized`);
  g.insertBefore(
    n,
    makeNode(
      'DequantizeLinear',
      dqInputs,
      [dq],
      { axis: { type: 'int', value: axis }, block_size: { type: 'int', value: block } },
      g.uniqueName(`${label}_weight_DequantizeLinear`),
    ),
  );
  n.inputs[1] = dq;
  return report;
}
