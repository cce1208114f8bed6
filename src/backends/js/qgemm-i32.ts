/** qgemmI32 on the js backend: the reference after the C ABI's checks. */
import {
  normalizeQGemmI32,
  normalizeQGemmI32Pack,
  normalizeQGemmI32Packed,
  validateQGemmI32,
  validateQGemmI32Operands,
  type QGemmI32Kernels,
} from '../kernels-qgemm-i32.js';
import { qgemmI32Ref } from '../../kernels/int8/qgemm-i32-ref.js';
import type { Int8Like } from '../types.js';
import { checkVariant } from './variant.js';

/** The js backend's packed B: a dense copy of B and of its zero points (the reference reads them as they are). */
interface JsPackedB {
  b: Int8Like;
  bZeroPoint: Int32Array;
}

export function jsQGemmI32Kernels(): QGemmI32Kernels {
  return {
    qgemmI32(args) {
      checkVariant(args?.variant);
      const g = normalizeQGemmI32(args);
      validateQGemmI32(g);
      qgemmI32Ref(g);
    },
    qgemmI32Pack(args) {
      checkVariant(args?.variant);
      const p = normalizeQGemmI32Pack(args);
      const { n, k, ldb } = p;
      // B's checks as the full call makes them (A and Y empty).
      validateQGemmI32Operands({ m: 0, n, k, a: new Uint8Array(0), lda: k, aZeroPoint: Int32Array.of(0), y: new Int32Array(0), ldy: n }, p);
      const dense = p.b instanceof Int8Array ? new Int8Array(k * n) : new Uint8Array(k * n);
      for (let r = 0; r < k; r++) dense.set(p.b.subarray(r * ldb, r * ldb + n), r * n);
      const handle: JsPackedB = { b: dense, bZeroPoint: p.bZeroPoint.slice() };
      return { backend: 'js', variant: 'ref', n, k, handle };
    },
    qgemmI32Packed(packed, args) {
      const r = normalizeQGemmI32Packed('js', packed, args);
      const h = packed.handle as JsPackedB;
      // A's and Y's checks only: B and its zero points were checked when packed.
      validateQGemmI32Operands({ ...r, n: packed.n, k: packed.k });
      qgemmI32Ref({ ...r, n: packed.n, k: packed.k, b: h.b, ldb: packed.n, bZeroPoint: h.bZeroPoint });
    },
  };
}
