// The one validator of node attributes, arity and shapes. Both sessions and quantize go through it
// (Graph.validate() runs the shape-free checks, inferAndFold the checks that need input types), so
// the float and the integer executor accept and refuse the same models, and a bad model ends in
// INVALID_MODEL naming the node and attribute before any op or lowering reads it (those read
// attributes on trust: a stride of 0 divided by zero, pads of 1e9 sized a typed array from them).
import { OnnxPtqError } from '../errors.js';
import type { DataType, Tensor } from '../tensor.js';
import { nodeLabel, type Dim, type Node } from './graph.js';

/** What a checker knows of a value: dtype and shape when inference found them. */
export interface ValueType {
  dtype?: DataType;
  shape?: Dim[];
}

/**
 * Upper bound of every spatial attribute (kernel size, stride, dilation, pad): no real layer comes
 * near it, and it keeps the output-size arithmetic of every backend far from overflow.
 */
export const MAX_SPATIAL_ATTRIBUTE = 1 << 16;
/** Elements a tensor may have: the typed arrays and the C kernels index with int32. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

const ANY = Infinity;
type Range = readonly [number, number];
interface Arity {
  inputs: Range;
  outputs: Range;
}

const unary: Arity = { inputs: [1, 1], outputs: [1, 1] };
const binary: Arity = { inputs: [2, 2], outputs: [1, 1] };
const variadic: Arity = { inputs: [1, ANY], outputs: [1, 1] };
const reduce: Arity = { inputs: [1, 2], outputs: [1, 1] };

/** Inputs and outputs each op may declare (over the opsets we implement; trailing optional ones counted). */
const ARITY: Record<string, Arity> = {
  ...Object.fromEntries(
    [
      'Abs',
      'Ceil',
      'Elu',
      'Erf',
      'Exp',
      'Floor',
      'Gelu',
      'HardSigmoid',
      'HardSwish',
      'Identity',
      'LeakyRelu',
      'Log',
      'Neg',
      'Not',
      'Reciprocal',
      'Relu',
      'Round',
      'Sigmoid',
      'Sign',
      'Softplus',
      'Sqrt',
      'Tanh',
      'Softmax',
      'LogSoftmax',
      'Flatten',
      'Transpose',
      'Shape',
      'Size',
      'GlobalAveragePool',
      'GlobalMaxPool',
      'Cast',
      'ConstantOfShape',
      'AveragePool',
    ].map((op) => [op, unary]),
  ),
  ...Object.fromEntries(
    [
      'Add',
      'And',
      'Div',
      'Equal',
      'Greater',
      'GreaterOrEqual',
      'Less',
      'LessOrEqual',
      'Mod',
      'Mul',
      'Or',
      'Pow',
      'Sub',
      'Xor',
      'MatMul',
      'CastLike',
      'Expand',
      'Gather',
    ].map((op) => [op, binary]),
  ),
  ...Object.fromEntries(['Max', 'Min', 'Mean', 'Sum', 'Concat'].map((op) => [op, variadic])),
  ...Object.fromEntries(
    [
      'ReduceL1',
      'ReduceL2',
      'ReduceMax',
      'ReduceMean',
      'ReduceMin',
      'ReduceProd',
      'ReduceSum',
      'ReduceSumSquare',
      'Squeeze',
      'Unsqueeze',
      'Upsample',
    ].map((op) => [op, reduce]),
  ),
  MaxPool: { inputs: [1, 1], outputs: [1, 2] },
  BatchNormalization: { inputs: [5, 5], outputs: [1, 5] },
  Clip: { inputs: [1, 3], outputs: [1, 1] },
  Constant: { inputs: [0, 0], outputs: [1, 1] },
  Conv: { inputs: [2, 3], outputs: [1, 1] },
  ConvTranspose: { inputs: [2, 3], outputs: [1, 1] },
  QuantizeLinear: { inputs: [2, 3], outputs: [1, 1] },
  DequantizeLinear: { inputs: [2, 3], outputs: [1, 1] },
  Dropout: { inputs: [1, 3], outputs: [1, 2] },
  Gemm: { inputs: [2, 3], outputs: [1, 1] },
  Pad: { inputs: [1, 4], outputs: [1, 1] },
  Range: { inputs: [3, 3], outputs: [1, 1] },
  Reshape: { inputs: [1, 2], outputs: [1, 1] },
  Resize: { inputs: [1, 4], outputs: [1, 1] },
  Slice: { inputs: [1, 5], outputs: [1, 1] },
  Split: { inputs: [1, 2], outputs: [1, ANY] },
  Where: { inputs: [3, 3], outputs: [1, 1] },
  QLinearConv: { inputs: [8, 9], outputs: [1, 1] },
  QLinearMatMul: { inputs: [8, 8], outputs: [1, 1] },
  ConvInteger: { inputs: [2, 4], outputs: [1, 1] },
  MatMulInteger: { inputs: [2, 4], outputs: [1, 1] },
};
const MS_ARITY: Record<string, Arity> = {
  QLinearAdd: { inputs: [7, 8], outputs: [1, 1] },
  QLinearMul: { inputs: [7, 8], outputs: [1, 1] },
};

/** Ops with convolution/pooling attributes, and which input holds X and W (-1: none). */
const SPATIAL: Record<string, { x: number; w: number; pool: boolean }> = {
  Conv: { x: 0, w: 1, pool: false },
  ConvTranspose: { x: 0, w: 1, pool: false },
  ConvInteger: { x: 0, w: 1, pool: false },
  QLinearConv: { x: 0, w: 3, pool: false },
  MaxPool: { x: 0, w: -1, pool: true },
  AveragePool: { x: 0, w: -1, pool: true },
  LpPool: { x: 0, w: -1, pool: true },
};
const AUTO_PAD = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

const FLOATS: readonly DataType[] = ['float32', 'float16', 'float64'];
const INT8: readonly DataType[] = ['int8', 'uint8'];
/** For each quantized op: input index -> the dtypes it may have. */
const QUANT_DTYPES: Record<string, Record<number, readonly DataType[]>> = {
  QuantizeLinear: { 0: FLOATS, 1: FLOATS, 2: [...INT8, 'int4', 'uint4', 'int16', 'uint16', 'int32'] },
  DequantizeLinear: {
    0: [...INT8, 'int4', 'uint4', 'int16', 'uint16', 'int32'],
    1: FLOATS,
    2: [...INT8, 'int4', 'uint4', 'int16', 'uint16', 'int32'],
  },
  QLinearConv: { 0: INT8, 1: FLOATS, 2: INT8, 3: INT8, 4: FLOATS, 5: INT8, 6: FLOATS, 7: INT8, 8: ['int32'] },
  QLinearMatMul: { 0: INT8, 1: FLOATS, 2: INT8, 3: INT8, 4: FLOATS, 5: INT8, 6: FLOATS, 7: INT8 },
  ConvInteger: { 0: INT8, 1: INT8, 2: INT8, 3: INT8 },
  MatMulInteger: { 0: INT8, 1: INT8, 2: INT8, 3: INT8 },
  QLinearAdd: { 0: INT8, 1: FLOATS, 2: INT8, 3: INT8, 4: FLOATS, 5: INT8, 6: FLOATS, 7: INT8 },
  QLinearMul: { 0: INT8, 1: FLOATS, 2: INT8, 3: INT8, 4: FLOATS, 5: INT8, 6: FLOATS, 7: INT8 },
};
/** Inputs that are scales (must be finite when constant). */
const SCALE_INPUTS: Record<string, number[]> = {
  QuantizeLinear: [1],
  DequantizeLinear: [1],
  QLinearConv: [1, 4, 6],
  QLinearMatMul: [1, 4, 6],
  QLinearAdd: [1, 4, 6],
  QLinearMul: [1, 4, 6],
};

function fail(node: Node, msg: string): never {
  throw new OnnxPtqError('INVALID_MODEL', `${nodeLabel(node)}: ${msg}`);
}

function isDefaultDomain(node: Node): boolean {
  return node.domain === '' || node.domain === 'ai.onnx';
}

function arityOf(node: Node): Arity | undefined {
  if (isDefaultDomain(node)) return ARITY[node.opType];
  if (node.domain === 'com.microsoft') return MS_ARITY[node.opType];
  return undefined;
}

function quantOp(node: Node): string | undefined {
  if (isDefaultDomain(node) && QUANT_DTYPES[node.opType]) return node.opType;
  if (node.domain === 'com.microsoft' && (node.opType === 'QLinearAdd' || node.opType === 'QLinearMul')) return node.opType;
  return undefined;
}

function intAttr(node: Node, name: string): number | undefined {
  const a = node.attributes.get(name);
  if (!a) return undefined;
  if (a.type !== 'int') fail(node, `attribute '${name}' must be an int`);
  return a.value;
}

function intsAttr(node: Node, name: string): number[] | undefined {
  const a = node.attributes.get(name);
  if (!a) return undefined;
  if (a.type !== 'ints') fail(node, `attribute '${name}' must be a list of ints`);
  return a.value;
}

function checkInts(node: Node, name: string, v: number[] | undefined, lo: number, hi: number, len?: number): void {
  if (v === undefined) return;
  if (len !== undefined && v.length !== len)
    fail(node, `attribute '${name}' must have ${len} entries, got ${v.length} ([${v.join(', ')}])`);
  for (const x of v) {
    if (!Number.isSafeInteger(x) || x < lo || x > hi)
      fail(node, `attribute '${name}' entries must be integers in [${lo}, ${hi}], got [${v.join(', ')}]`);
  }
}

/** The spatial rank the attributes of a conv/pool node declare (undefined when none does). */
function spatialRank(node: Node): number | undefined {
  const k = intsAttr(node, 'kernel_shape'),
    s = intsAttr(node, 'strides'),
    d = intsAttr(node, 'dilations'),
    p = intsAttr(node, 'pads');
  return k?.length ?? s?.length ?? d?.length ?? (p ? p.length / 2 : undefined);
}

/** Arity and attribute checks that need no shapes. Throws INVALID_MODEL naming node and attribute. */
export function validateNode(node: Node): void {
  const arity = arityOf(node);
  if (arity) {
    const [imin, imax] = arity.inputs,
      [omin, omax] = arity.outputs;
    const nin = node.inputs.length,
      nout = node.outputs.length;
    if (nin < imin || nin > imax)
      fail(
        node,
        `has ${nin} inputs; ${node.opType} takes ${imin === imax ? imin : imax === ANY ? `at least ${imin}` : `${imin} to ${imax}`}`,
      );
    if (nout < omin || nout > omax)
      fail(
        node,
        `declares ${nout} outputs; ${node.opType} has ${omin === omax ? omin : omax === ANY ? `at least ${omin}` : `${omin} to ${omax}`}`,
      );
    for (let i = 0; i < imin; i++) if (!node.inputs[i]) fail(node, `required input #${i} is empty`);
    if (!node.outputs[0] && omin > 0) fail(node, 'its first output has no name');
    // BatchNormalization's outputs after Y exist only with training_mode = 1 (the float session ended
    // in INTERNAL when one was declared without it, the integer one ignored it).
    if (node.opType === 'BatchNormalization' && node.outputs.slice(1).some((o) => o) && intAttr(node, 'training_mode') !== 1) {
      throw new OnnxPtqError(
        'UNSUPPORTED_OP',
        `${nodeLabel(node)}: declares ${node.outputs.length} outputs; the running statistics are outputs only with training_mode = 1`,
      );
    }
  }
  if (isDefaultDomain(node) && node.opType === 'Gelu') {
    // The attribute names the formula (opset 20): any other value is no Gelu.
    const a = node.attributes.get('approximate');
    if (a && (a.type !== 'string' || (a.value !== 'none' && a.value !== 'tanh')))
      fail(
        node,
        `attribute 'approximate' must be 'none' or 'tanh', got ${a.type === 'string' ? `'${a.value}'` : `an attribute of type ${a.type}`}`,
      );
  }
  const sp = isDefaultDomain(node) ? SPATIAL[node.opType] : undefined;
  if (sp) {
    const r = spatialRank(node);
    if (r !== undefined && !Number.isInteger(r))
      fail(node, `attribute 'pads' must have 2 entries per spatial axis, got ${intsAttr(node, 'pads')!.length}`);
    const kernel = intsAttr(node, 'kernel_shape');
    if (sp.pool && kernel === undefined) fail(node, "attribute 'kernel_shape' is required");
    checkInts(node, 'kernel_shape', kernel, 1, MAX_SPATIAL_ATTRIBUTE, r);
    checkInts(node, 'strides', intsAttr(node, 'strides'), 1, MAX_SPATIAL_ATTRIBUTE, r);
    checkInts(node, 'dilations', intsAttr(node, 'dilations'), 1, MAX_SPATIAL_ATTRIBUTE, r);
    checkInts(node, 'pads', intsAttr(node, 'pads'), 0, MAX_SPATIAL_ATTRIBUTE, r === undefined ? undefined : 2 * r);
    if (!sp.pool) checkInts(node, 'output_padding', intsAttr(node, 'output_padding'), 0, MAX_SPATIAL_ATTRIBUTE, r);
    const group = intAttr(node, 'group');
    if (group !== undefined && !(group >= 1 && group <= MAX_TENSOR_ELEMENTS)) fail(node, `attribute 'group' must be >= 1, got ${group}`);
    const a = node.attributes.get('auto_pad');
    if (a && (a.type !== 'string' || !AUTO_PAD.includes(a.value))) fail(node, `attribute 'auto_pad' must be one of ${AUTO_PAD.join(', ')}`);
    for (const flag of ['ceil_mode', 'count_include_pad', 'storage_order']) {
      const v = intAttr(node, flag);
      if (v !== undefined && v !== 0 && v !== 1) fail(node, `attribute '${flag}' must be 0 or 1, got ${v}`);
    }
  }
}

const known = (d: Dim | undefined): d is number => typeof d === 'number' && d >= 0;
const count = (shape: Dim[]): string => (shape.every(known) ? String(shape.reduce<number>((a, d) => a * (d as number), 1)) : '?');

function checkAxis(node: Node, name: string, axis: number | undefined, rank: number | undefined, extra = 0): void {
  if (axis === undefined || rank === undefined) return;
  const lo = -(rank + extra),
    hi = rank + extra - 1;
  if (!Number.isSafeInteger(axis) || axis < lo || axis > hi)
    fail(node, `attribute '${name}' is ${axis}, outside [${lo}, ${hi}] for an input of rank ${rank}`);
}

/**
 * The checks that need the inputs' types (dtype and shape where inference knows them) and constant
 * values: dtypes of the quantized ops, finite scales, axes in range, group and channels, kernel
 * within the padded input. Runs after validateNode.
 */
export function validateNodeTypes(
  node: Node,
  inputs: readonly (ValueType | undefined)[],
  values: readonly (Tensor | undefined)[],
  graphInputs: ReadonlySet<string> = new Set(),
): void {
  const q = quantOp(node);
  if (q) {
    for (const [i, allowed] of Object.entries(QUANT_DTYPES[q]!)) {
      const dt = inputs[Number(i)]?.dtype;
      const name = node.inputs[Number(i)];
      // The no-rounding debug mode (createQdqRegistry({ rounding: false })) has QuantizeLinear
      // compute an unrounded float32 "quantized" tensor: a DequantizeLinear may read a float that a
      // node computed, never a float graph input or initializer.
      const unrounded =
        q === 'DequantizeLinear' && i === '0' && dt !== undefined && FLOATS.includes(dt) && !values[0] && !graphInputs.has(name ?? '');
      if (name && dt !== undefined && !allowed.includes(dt) && !unrounded)
        fail(node, `input #${i} '${node.inputs[Number(i)]}' is ${dt}; ${q} expects ${allowed.join(' or ')} there`);
    }
    for (const i of SCALE_INPUTS[q] ?? []) {
      const t = values[i];
      if (t && !Array.isArray(t.data) && !(t.data instanceof BigInt64Array) && !(t.data instanceof BigUint64Array)) {
        const d = t.data as ArrayLike<number>;
        for (let j = 0; j < d.length; j++)
          if (!Number.isFinite(d[j])) fail(node, `scale '${node.inputs[i]}' has a non-finite entry (${d[j]}) at ${j}`);
      }
    }
  }
  const rank = inputs[0]?.shape?.length;
  if (isDefaultDomain(node)) {
    switch (node.opType) {
      case 'Softmax':
      case 'LogSoftmax':
      case 'Concat':
      case 'Gather':
      case 'Split':
        checkAxis(node, 'axis', intAttr(node, 'axis'), rank);
        break;
      case 'Flatten':
        checkAxis(node, 'axis', intAttr(node, 'axis'), rank === undefined ? undefined : rank, 1);
        break;
      case 'QuantizeLinear':
      case 'DequantizeLinear': {
        const s = inputs[1]?.shape,
          zs = node.inputs[2] ? inputs[2]?.shape : undefined;
        if (s && s.length > 1 && !node.attributes.has('block_size'))
          fail(node, `scale '${node.inputs[1]}' has rank ${s.length}; it must be a scalar or 1-D`);
        // A scalar scale with a [1] zero point (or the reverse) is one per-tensor pair: the ONNX tests write it.
        const single = (d: readonly Dim[]) => d.length <= 1 && d.every((v) => v === 1);
        if (s && zs && !(single(s) && single(zs)) && (zs.length !== s.length || zs.some((d, i) => known(d) && known(s[i]) && d !== s[i])))
          fail(
            node,
            `zero point has ${count(zs)} elements but the scale has ${count(s)} ('${node.inputs[2]}' [${zs.join(', ')}], '${node.inputs[1]}' [${s.join(', ')}])`,
          );
        // The axis matters (and must be in range) only for a per-axis, 1-D scale.
        if (s && s.length === 1) {
          const axis = intAttr(node, 'axis') ?? 1;
          checkAxis(node, 'axis', axis, rank);
          const xs = inputs[0]?.shape;
          if (xs && rank !== undefined) {
            const c = xs[axis < 0 ? axis + rank : axis];
            if (known(c) && known(s[0]) && s[0] !== 1 && s[0] !== c)
              fail(node, `scale has ${s[0]} entries but axis ${axis} of the input has ${c}`);
          }
        }
        break;
      }
      case 'Squeeze':
      case 'ReduceL1':
      case 'ReduceL2':
      case 'ReduceMax':
      case 'ReduceMean':
      case 'ReduceMin':
      case 'ReduceProd':
      case 'ReduceSum':
      case 'ReduceSumSquare': {
        const axes = intsAttr(node, 'axes');
        if (axes) for (const a of axes) checkAxis(node, 'axes', a, rank);
        if (axes && new Set(axes.map((a) => (rank !== undefined && a < 0 ? a + rank : a))).size !== axes.length)
          fail(node, `attribute 'axes' repeats an axis: [${axes.join(', ')}]`);
        break;
      }
      case 'Unsqueeze': {
        const axes = intsAttr(node, 'axes');
        if (axes && rank !== undefined) for (const a of axes) checkAxis(node, 'axes', a, rank + axes.length);
        break;
      }
    }
  }
  const sp = isDefaultDomain(node) ? SPATIAL[node.opType] : undefined;
  if (!sp) return;
  const xs = inputs[sp.x]?.shape;
  const ws = sp.w >= 0 ? inputs[sp.w]?.shape : undefined;
  if (xs && xs.length < 3) fail(node, `input '${node.inputs[sp.x]}' has rank ${xs.length}; ${node.opType} needs N x C x spatial`);
  if (ws && xs && ws.length !== xs.length)
    fail(node, `weight '${node.inputs[sp.w]}' has rank ${ws.length} but the input has rank ${xs.length}`);
  const r = xs ? xs.length - 2 : ws ? ws.length - 2 : undefined;
  const declared = spatialRank(node);
  if (r !== undefined && declared !== undefined && declared !== r)
    fail(node, `attributes describe ${declared} spatial axes but the ${xs ? 'input' : 'weight'} has ${r}`);
  const group = intAttr(node, 'group') ?? 1;
  const c = xs?.[1],
    m = ws?.[0],
    wc = ws?.[1];
  if (!sp.pool) {
    if (node.opType === 'ConvTranspose') {
      if (known(c) && c % group !== 0) fail(node, `attribute 'group' (${group}) does not divide the ${c} input channels`);
      if (known(c) && known(m) && m !== c) fail(node, `weight has ${m} input channels but the input has ${c}`);
    } else {
      if (known(c) && c % group !== 0) fail(node, `attribute 'group' (${group}) does not divide the ${c} input channels`);
      if (known(m) && m % group !== 0) fail(node, `attribute 'group' (${group}) does not divide the ${m} output channels`);
      if (known(c) && known(wc) && wc * group !== c)
        fail(node, `weight has ${wc} input channels per group, times group ${group} is not the input's ${c}`);
    }
  }
  if (!xs || node.opType === 'ConvTranspose') return;
  // Kernel within the padded input (explicit pads; SAME pads never shrink below one output).
  const autoPad = (node.attributes.get('auto_pad')?.value as string | undefined) ?? 'NOTSET';
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return;
  const kernel = intsAttr(node, 'kernel_shape') ?? (ws ? ws.slice(2) : undefined);
  const dil = intsAttr(node, 'dilations'),
    pads = autoPad === 'VALID' ? undefined : intsAttr(node, 'pads');
  const strides = intsAttr(node, 'strides');
  // ceil_mode pools may start their one window inside the input and overhang it by less than a stride.
  const ceil = sp.pool && intAttr(node, 'ceil_mode') === 1;
  const nsp = xs.length - 2;
  for (let i = 0; i < nsp; i++) {
    const k = kernel?.[i],
      size = xs[i + 2];
    if (!known(k) || !known(size)) continue;
    const extent = (k - 1) * (dil?.[i] ?? 1) + 1;
    const padded = size + (pads?.[i] ?? 0) + (pads?.[i + nsp] ?? 0);
    const slack = ceil ? (strides?.[i] ?? 1) - 1 : 0;
    if (extent > padded + slack) fail(node, `kernel extent ${extent} on spatial axis ${i} is larger than the padded input (${padded})`);
  }
}

/** An inferred output shape must be a real tensor: non-negative dims whose product fits int32. */
export function validateOutputShape(node: Node, output: string, shape: Dim[] | undefined): void {
  if (!shape) return;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') continue;
    if (!Number.isSafeInteger(d) || d < 0) fail(node, `output '${output}' would have dimension ${d} (shape [${shape.join(', ')}])`);
    n *= d;
  }
  if (n > MAX_TENSOR_ELEMENTS) fail(node, `output '${output}' would have ${n} elements (shape [${shape.join(', ')}]), more than 2^31 - 1`);
}
