/** The A16W8 Add and Mul on the js backend: the 8-bit family's references after the C ABI's checks. */
import type { Int8Like } from '../types.js';
import { checkQBinary16Types, validateQAdd16, validateQMul16, type QBinary16Kernels } from '../kernels-qbinary16.js';
import { qaddRef, qmulRef } from '../../kernels/int8/qbinary-ref.js';
import { checkVariant } from './variant.js';

export function jsQBinary16Kernels(): QBinary16Kernels {
  return {
    qadd16(g) {
      checkVariant(g?.variant);
      checkQBinary16Types(g, 'qadd16');
      validateQAdd16(g);
      // The references read and write any typed array element by element (Int8Like in their types).
      qaddRef({ ...g, a: g.a as Int8Like, b: g.b as Int8Like, y: g.y as Int8Like });
    },
    qmul16(g) {
      checkVariant(g?.variant);
      checkQBinary16Types(g, 'qmul16');
      validateQMul16(g);
      qmulRef({ ...g, a: g.a as Int8Like, b: g.b as Int8Like, y: g.y as Int8Like });
    },
  };
}
