// Which lowering each op type gets: one entry per op family file. An op with no entry runs in float.
import type { Node } from '../../../ir/graph.js';
import { qdqBinary } from './binary.js';
import { qdqConcat } from './concat.js';
import type { LowerContext } from './context.js';
import { qdqConv } from './conv.js';
import { qdqConvTranspose } from './conv-transpose.js';
import { qdqGemm } from './gemm.js';
import { DATA_MOVEMENT, qdqMove } from './movement.js';
import { qdqPool } from './pool.js';
import { convInteger, dynamicQuantizeLinear, qlinearAdd, qlinearConv, qlinearMatMul } from './qoperator.js';
import { matMulInteger } from './matmul-integer.js';
import { qdqResize } from './resize.js';
import { qdqReduceMean } from './reduce.js';
import { qdqLayerNorm, qdqLayerNormOp } from './layernorm.js';
import { qdqSoftmax } from './softmax.js';
import { qdqUnary, SCALAR_FN, UNARY } from './unary-lut.js';
import { wideConv, wideGemm } from './wide.js';

/** Lowers `node` into integer steps on `lc`, or returns why it stays in float. */
export type LowerFn = (lc: LowerContext, node: Node) => string | undefined;

const LOWERINGS = new Map<string, LowerFn>();
function register(ops: Iterable<string>, fn: LowerFn, domain = ''): void {
  for (const op of ops) LOWERINGS.set(`${domain}::${op}`, fn);
}
/** The A16W8 lowering for a node that reads or writes 16-bit data, else the 8-bit one. */
const orWide =
  (wide: LowerFn, narrow: LowerFn): LowerFn =>
  (lc, node) =>
    lc.isWide(node) ? wide(lc, node) : narrow(lc, node);

register(['Conv'], orWide(wideConv, qdqConv));
register(['Gemm', 'MatMul'], orWide(wideGemm, qdqGemm));
register(['Add', 'Mul'], qdqBinary);
register(['Concat'], qdqConcat);
register(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool'], qdqPool);
register(['Resize'], qdqResize);
// A ReduceMean that starts a decomposed LayerNorm lowers the whole pattern; any other, on its own.
register(['ReduceMean'], (lc, node) => {
  const ln = qdqLayerNorm(lc, node);
  return ln === null ? qdqReduceMean(lc, node) : ln;
});
register(['Softmax'], qdqSoftmax);
register(['LayerNormalization'], qdqLayerNormOp);
register(DATA_MOVEMENT, qdqMove);
register(UNARY, qdqUnary);
register(SCALAR_FN, qdqUnary);
register(['QLinearConv'], qlinearConv);
register(['QLinearMatMul'], qlinearMatMul);
register(['ConvInteger'], convInteger);
register(['MatMulInteger'], matMulInteger);
register(['DynamicQuantizeLinear'], dynamicQuantizeLinear);
register(['QLinearAdd'], qlinearAdd, 'com.microsoft');
register(['ConvTranspose'], qdqConvTranspose);

/** The lowering of `node`, or why there is none. */
export function loweringFor(node: Node): LowerFn | string {
  const fn = LOWERINGS.get(`${node.domain ?? ''}::${node.opType}`);
  if (fn) return fn;
  if (node.domain === 'com.microsoft') return `no integer lowering for com.microsoft::${node.opType}`;
  if (node.domain) return `domain '${node.domain}'`;
  return `no integer form for ${node.opType}`;
}

/** The op types (default domain) that have an integer lowering. */
export function loweredOpTypes(): string[] {
  return [...LOWERINGS.keys()].filter((k) => k.startsWith('::')).map((k) => k.slice(2));
}
