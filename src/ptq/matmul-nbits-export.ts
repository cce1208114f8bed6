/**
 * weightFormat 'matmulnbits': rewrites each MatMul (and Gemm that is A x B + c) whose constant
 * 2-D weight is a blocked 4-bit DequantizeLinear along K (as per-block quantization writes it) into
 * onnxruntime's com.microsoft MatMulNBits (a Gemm's bias as its input 5), the form its 4-bit GEMM kernels take. MatMulNBits holds unsigned 4-bit codes with a
 * default zero point of 8, so int4 q becomes q + 8 (and its zero point z + 8); uint4 keeps its codes
 * and writes its zero points, absent ones being 0 in QDQ but 8 in MatMulNBits. Scales go from the
 * blocked layout [K / block, N] to MatMulNBits' [N, K / block]. The values a weight stands for do
 * not change: (q + 8 - (z + 8)) * s = (q - z) * s.
 */
import { makeNode, type Graph, type Model, type Node } from '../ir/graph.js';
import { dropUnusedInits, floatAttr, intAttr } from '../passes/pass.js';
import { packMatMulNBits, packZeroPoints4 } from '../ops/matmul-nbits.js';
import { Tensor } from '../tensor.js';
import { isBlockSize } from '../quant/scheme.js';
import { addInit } from './qdq-export.js';

/** Rewrites the model in place; returns the names of the MatMuls rewritten. */
export function toMatMulNBits(model: Model): string[] {
  const g = model.graph;
  const done: string[] = [];
  for (const mm of [...g.nodes]) {
    const bias = linearForm(g, mm);
    if (bias === undefined) continue;
    const dq = g.producerOf(mm.inputs[1]!);
    const transB = mm.opType === 'Gemm' && intAttr(mm, 'transB', 0) === 1;
    const rewrite = dq && blockedWeight(g, dq, transB);
    if (!rewrite || g.consumersOf(dq.outputs[0]!).length !== 1) continue;
    const { q, scale, zp, K, N, block } = rewrite;
    const kb = Math.ceil(K / block);
    const offset = q.dtype === 'int4' ? 8 : 0;
    // Weight element (k, n): [K, N] row-major, or [N, K] under Gemm's transB; parameters likewise.
    const at = transB ? (k: number, n: number) => n * K + k : (k: number, n: number) => k * N + n;
    const atBlock = transB ? (b: number, n: number) => n * kb + b : (b: number, n: number) => b * N + n;
    const codes = new Uint8Array(N * K);
    const qd = q.data as ArrayLike<number>;
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) codes[n * K + k] = qd[at(k, n)]! + offset;
    const scales = new Float32Array(N * kb);
    const zps = new Uint8Array(N * kb).fill(offset);
    const sd = scale.data as Float32Array,
      zd = zp?.data as ArrayLike<number> | undefined;
    for (let b = 0; b < kb; b++)
      for (let n = 0; n < N; n++) {
        scales[n * kb + b] = sd[atBlock(b, n)]!;
        if (zd) zps[n * kb + b] = zd[atBlock(b, n)]! + offset;
      }
    const base = mm.name || mm.outputs[0]!;
    const bName = addInit(g, `${base}_B_nbits`, new Tensor('uint8', packMatMulNBits(codes, N, K, block), [N, kb, block / 2]));
    const sName = addInit(g, `${base}_scales_nbits`, new Tensor('float32', scales, [N, kb]));
    const inputs = [mm.inputs[0]!, bName, sName];
    // The default zero point (8) stands for int4's 0: written only when some block differs.
    const zpName = zps.some((z) => z !== 8)
      ? addInit(g, `${base}_zero_points_nbits`, new Tensor('uint8', packZeroPoints4(zps, N, kb), [N, Math.ceil(kb / 2)]))
      : '';
    // Input 4 is g_idx, 5 the bias: empty names skip the absent ones.
    if (zpName || bias) inputs.push(zpName);
    if (bias) inputs.push('', bias);
    const nbits = makeNode(
      'MatMulNBits',
      inputs,
      [...mm.outputs],
      {
        K: { type: 'int', value: K },
        N: { type: 'int', value: N },
        bits: { type: 'int', value: 4 },
        block_size: { type: 'int', value: block },
      },
      g.uniqueName(`${base}_MatMulNBits`),
      'com.microsoft',
    );
    g.nodes[g.nodes.indexOf(mm)] = nbits;
    g.nodes.splice(g.nodes.indexOf(dq), 1);
    done.push(base);
  }
  if (done.length) {
    dropUnusedInits(g);
    if (!model.opsetImports.some((o) => o.domain === 'com.microsoft')) model.opsetImports.push({ domain: 'com.microsoft', version: 1 });
  }
  return done;
}

/**
 * The bias name ('' for none) when `n` is y = A x B (+ c) with a constant B: a MatMul, or a Gemm with
 * alpha = beta = 1, no transA and a 1-D float bias; undefined for anything else.
 */
function linearForm(g: Graph, n: Node): string | undefined {
  if (n.domain) return undefined;
  if (n.opType === 'MatMul') return '';
  if (n.opType !== 'Gemm' || intAttr(n, 'transA', 0) !== 0) return undefined;
  if (floatAttr(n, 'alpha', 1) !== 1 || floatAttr(n, 'beta', 1) !== 1) return undefined;
  if (!n.inputs[2]) return '';
  const c = g.initializers.get(n.inputs[2]);
  return c && c.rank === 1 && c.dtype === 'float32' ? n.inputs[2] : undefined;
}

function blockedWeight(g: Graph, dq: Node, transB: boolean) {
  if (dq.opType !== 'DequantizeLinear') return undefined;
  const q = g.initializers.get(dq.inputs[0]!),
    scale = g.initializers.get(dq.inputs[1]!),
    zp = dq.inputs[2] ? g.initializers.get(dq.inputs[2]) : undefined;
  const block = dq.attributes.get('block_size')?.value as number | undefined;
  const axis = (dq.attributes.get('axis')?.value as number | undefined) ?? 1;
  const kAxis = transB ? 1 : 0;
  if (!q || !scale || (dq.inputs[2] && !zp) || !block || q.rank !== 2 || (axis + 2) % 2 !== kAxis) return undefined;
  if (q.dtype !== 'int4' && q.dtype !== 'uint4') return undefined;
  if (scale.dtype !== 'float32' || !isBlockSize(block)) return undefined;
  const [K, N] = (transB ? [q.dims[1], q.dims[0]] : q.dims) as [number, number];
  return { q, scale, zp, K, N, block };
}
