/**
 * Folding a per-output-channel affine map of a layer's output into the layer, shared by the
 * batch-norm and bias/scale folds:
 *   y'[c] = k[c] * y[c] + t[c]   =>   w'[c] = k[c] * w[c],   b'[c] = k[c] * b[c] + t[c]
 * Weight layouts, output channel c:
 *   Conv          [Cout, Cin/g, k...]: w[c, ...]
 *   ConvTranspose [Cin, Cout/g, k...]: w[ci, c mod Cout/g, ...] for the input channels ci of c's group
 *   Gemm          [K, N] (or [N, K] with transB): column (row) c; alpha and beta must be 1
 * The float function is preserved up to float rounding.
 */
import type { Graph, Node } from '../ir/graph.js';
import type { Tensor } from '../tensor.js';
import { floatAttr, floatInit, intAttr, putInit } from './pass.js';

export const AFFINE_LAYERS = new Set(['Conv', 'ConvTranspose', 'Gemm']);

/**
 * Each output channel's weight elements as runs [start, count, stride] (one run for Conv and Gemm,
 * one per input channel of the group for ConvTranspose), or undefined when the layer's weight is not
 * a constant it can fold into. Runs, not index lists: a fold visits every weight (1.2M in PP-OCRv4
 * det), and building an index array per channel cost more than the fold.
 */
function outputChannelRuns(
  g: Graph,
  layer: Node,
): { w: Tensor; cout: number; runs: (c: number) => [number, number, number][] } | undefined {
  const w = floatInit(g, layer.inputs[1]);
  if (!w || w.rank < 2) return undefined;
  if (layer.opType === 'Conv') {
    const cout = w.dims[0]!,
      inner = w.size / cout;
    return { w, cout, runs: (c) => [[c * inner, inner, 1]] };
  }
  if (layer.opType === 'ConvTranspose') {
    const group = intAttr(layer, 'group', 1);
    const cin = w.dims[0]!,
      perGroupOut = w.dims[1]!,
      k = w.size / (cin * perGroupOut);
    if (group < 1 || cin % group !== 0) return undefined;
    const cinG = cin / group;
    return {
      w,
      cout: perGroupOut * group,
      runs: (c) => {
        const gi = Math.floor(c / perGroupOut),
          j = c % perGroupOut,
          out: [number, number, number][] = [];
        for (let ci = gi * cinG; ci < (gi + 1) * cinG; ci++) out.push([(ci * perGroupOut + j) * k, k, 1]);
        return out;
      },
    };
  }
  if (layer.opType === 'Gemm') {
    if (floatAttr(layer, 'alpha', 1) !== 1 || floatAttr(layer, 'beta', 1) !== 1 || w.rank !== 2) return undefined;
    const [r, cc] = w.dims as [number, number];
    if (intAttr(layer, 'transB', 0) === 1) return { w, cout: r, runs: (c) => [[c * cc, cc, 1]] };
    return { w, cout: cc, runs: (c) => [[c, r, cc]] };
  }
  return undefined;
}

/** The number of output channels a fold into `layer` would need, or undefined when it cannot fold. */
export function foldableChannels(g: Graph, layer: Node): number | undefined {
  if (!AFFINE_LAYERS.has(layer.opType)) return undefined;
  const oc = outputChannelRuns(g, layer);
  if (!oc) return undefined;
  if (layer.inputs[2] && floatInit(g, layer.inputs[2])?.size !== oc.cout) return undefined;
  return oc.cout;
}

/**
 * A constant that broadcasts against the layer's output as one value per output channel (or one
 * value for all): per channel it is [C, 1, ...] aligned with axis 1 of a Conv output ([N, C, ...]),
 * or [N] / [1, N] against a Gemm output. Returns the C values, or undefined.
 */
export function channelValues(g: Graph, layer: Node, c: Tensor): Float64Array | undefined {
  const cout = foldableChannels(g, layer);
  if (cout === undefined) return undefined;
  const outRank = layer.opType === 'Gemm' ? 2 : floatInit(g, layer.inputs[1])!.rank;
  return broadcastChannels(c, cout, outRank, layer.opType === 'Gemm' ? 1 : outRank - 1);
}

/**
 * c's values per channel when c, broadcast (right-aligned) against a tensor of rank `rank`, varies
 * at most along the channel axis (`fromEnd` axes from the end) and has `channels` entries there
 * (or is a single value).
 */
function broadcastChannels(c: Tensor, channels: number, rank: number, fromEnd: number): Float64Array | undefined {
  const dims = c.dims;
  if (dims.length > rank) return undefined;
  const data = c.data as Float32Array;
  if (c.size === 1) return new Float64Array(channels).fill(data[0]!);
  if (c.size !== channels) return undefined;
  const at = dims.length - fromEnd;
  if (at < 0 || dims[at] !== channels || dims.some((d, i) => i !== at && d !== 1)) return undefined;
  return Float64Array.from(data);
}

/**
 * The input-side fold, for a Conv without padding (every output sums over a full window of real
 * inputs, so a shift of the input is a constant per output channel): with x' = k[ci] * x + t[ci],
 *   w'[co, ci, s] = k[ci] * w[co, ci, s],   b'[co] = b[co] + sum over ci, s of w[co, ci, s] * t[ci]
 * (PP-OCRv4's learnable affine after each HardSwish, read by a 1x1 Conv). `c` is the constant of the
 * Mul (`scale`) or Add (shift). Returns false (graph untouched) when it does not apply.
 */
export function foldInputAffine(g: Graph, conv: Node, c: Tensor, kind: 'scale' | 'shift', tag: string): boolean {
  const w = floatInit(g, conv.inputs[1]);
  if (conv.opType !== 'Conv' || conv.domain !== '' || !w || w.rank < 3) return false;
  const autoPad = conv.attributes.get('auto_pad');
  if (autoPad && autoPad.type === 'string' && !['NOTSET', 'VALID'].includes(autoPad.value)) return false;
  const pads = conv.attributes.get('pads');
  if (pads && pads.type === 'ints' && pads.value.some((p) => p !== 0)) return false;
  const group = intAttr(conv, 'group', 1),
    cout = w.dims[0]!,
    cinG = w.dims[1]!,
    kk = w.size / (cout * cinG);
  const v = broadcastChannels(c, cinG * group, w.rank, w.rank - 1);
  const bias = conv.inputs[2] ? floatInit(g, conv.inputs[2]) : undefined;
  if (!v || (conv.inputs[2] && bias?.size !== cout) || cout % group !== 0) return false;
  const wd = w.data as Float32Array,
    coutG = cout / group;
  if (kind === 'scale') {
    conv.inputs[1] = putInit(g, `${conv.inputs[1]}_${tag}`, scaledInputs(wd, v, cout, coutG, cinG, kk), w.dims);
    return true;
  }
  const bf = shiftedBias(wd, v, bias ? (bias.data as Float32Array) : undefined, cout, coutG, cinG, kk);
  const bname = putInit(g, `${conv.name || conv.outputs[0]}_bias_${tag}`, bf, [cout]);
  if (conv.inputs.length < 3) conv.inputs.push(bname);
  else conv.inputs[2] = bname;
  return true;
}

// The folds' loops are functions of their own: a pass calls each once per layer, and inline in
// the pass (called once per quantize) they ran at interpreter speed over every weight.

/** w' = w * k[c] over output channel c's runs of weights. */
function scaledOutputs(
  wd: Float32Array,
  runs: (c: number) => [number, number, number][],
  cout: number,
  k: ArrayLike<number>,
): Float32Array {
  const wf = new Float32Array(wd.length);
  for (let c = 0; c < cout; c++) {
    const kc = k[c]!;
    for (const [start, count, stride] of runs(c)) for (let j = 0, i = start; j < count; j++, i += stride) wf[i] = wd[i]! * kc;
  }
  return wf;
}

/** w'[co, ci, s] = w[co, ci, s] * v[group(co)*cinG + ci]: an input channel scale folded into Conv weights. */
function scaledInputs(wd: Float32Array, v: Float64Array, cout: number, coutG: number, cinG: number, kk: number): Float32Array {
  const wf = new Float32Array(wd.length);
  for (let co = 0; co < cout; co++) {
    const g0 = Math.floor(co / coutG) * cinG;
    for (let ci = 0; ci < cinG; ci++) {
      const vc = v[g0 + ci]!;
      for (let s = 0, i = (co * cinG + ci) * kk; s < kk; s++, i++) wf[i] = wd[i]! * vc;
    }
  }
  return wf;
}

/** b'[co] = b[co] + sum_{ci,s} w[co, ci, s] * v[group(co)*cinG + ci]: an input channel shift folded into Conv's bias. */
function shiftedBias(
  wd: Float32Array,
  v: Float64Array,
  bias: Float32Array | undefined,
  cout: number,
  coutG: number,
  cinG: number,
  kk: number,
): Float32Array {
  const bf = new Float32Array(cout);
  for (let co = 0; co < cout; co++) {
    const g0 = Math.floor(co / coutG) * cinG;
    let acc = bias ? bias[co]! : 0;
    for (let ci = 0; ci < cinG; ci++) for (let s = 0; s < kk; s++) acc += wd[(co * cinG + ci) * kk + s]! * v[g0 + ci]!;
    bf[co] = acc;
  }
  return bf;
}

/**
 * Folds y' = k * y + t (per output channel; `k` undefined means 1, `t` undefined means 0) into
 * `layer`'s weight and bias. New initializers are named from `tag`; the old ones are left for the
 * caller's dropUnusedInits. Returns false (graph untouched) when the layer cannot take it.
 */
export function foldOutputAffine(
  g: Graph,
  layer: Node,
  k: ArrayLike<number> | undefined,
  t: ArrayLike<number> | undefined,
  tag: string,
): boolean {
  const cout = foldableChannels(g, layer);
  if (cout === undefined || (k && k.length !== cout) || (t && t.length !== cout)) return false;
  const oc = outputChannelRuns(g, layer)!;
  const bias = layer.inputs[2] ? (floatInit(g, layer.inputs[2])!.data as Float32Array) : undefined;
  if (k) {
    layer.inputs[1] = putInit(g, `${layer.inputs[1]}_${tag}`, scaledOutputs(oc.w.data as Float32Array, oc.runs, cout, k), oc.w.dims);
  }
  const bf = new Float32Array(cout);
  for (let c = 0; c < cout; c++) bf[c] = (k ? k[c]! : 1) * (bias ? bias[c]! : 0) + (t ? t[c]! : 0);
  const bname = putInit(g, `${layer.name || layer.outputs[0]}_bias_${tag}`, bf, [cout]);
  if (layer.inputs.length < 3) layer.inputs.push(bname);
  else layer.inputs[2] = bname;
  return true;
}
