/** wasm marshalling of quantized Add and Mul. */
import type { Lut2Args, QAddArgs, QBinaryKernels, QMulArgs } from '../kernels-qbinary.js';
import { alignShapes } from '../kernels-qbinary.js';
import type { QAddParams } from '../../quant/qadd.js';
import { WasmModule } from './module.js';
import { checkRequant, dim, fail, is8, withBuffers } from './int8-common.js';

function shapes(op: string, g: QAddArgs | QMulArgs | Lut2Args): [Uint32Array, Uint32Array] {
  if (!is8(g.a) || !is8(g.b) || !is8(g.y) || g.a.constructor !== g.b.constructor || g.a.constructor !== g.y.constructor) {
    fail(`${op}: a, b and y must all be Uint8Array or all Int8Array`);
  }
  const [a, b] = alignShapes(g.aShape, g.bShape);
  return [Uint32Array.from(a, (d) => dim(d, 'aShape entry')), Uint32Array.from(b, (d) => dim(d, 'bShape entry'))];
}

/** opq_qadd_params (native/include/opq_qbinary.h) as its 60 bytes. */
export function qaddParamsStruct(p: QAddParams): Uint8Array {
  const struct = new ArrayBuffer(60);
  const dv = new DataView(struct);
  const ints = [
    p.mode,
    p.aZeroPoint,
    p.bZeroPoint,
    p.leftShift,
    p.aMultiplier,
    p.aShift,
    p.bMultiplier,
    p.bShift,
    p.outputMultiplier,
    p.outputShift,
  ];
  ints.forEach((v, i) => dv.setInt32(4 * i, v, true));
  dv.setFloat32(40, p.aScale, true);
  dv.setFloat32(44, p.bScale, true);
  [p.zeroPoint, p.min, p.max].forEach((v, i) => dv.setInt32(48 + 4 * i, v, true));
  return new Uint8Array(struct);
}

export function wasmQBinaryKernels(mod: WasmModule): QBinaryKernels {
  return {
    qadd(g) {
      const [as, bs] = shapes('qadd', g);
      const p = g.params;
      if (p === null || typeof p !== 'object') fail('qadd: params must be an object');
      const signed = g.a instanceof Int8Array ? 1 : 0;
      withBuffers(
        mod,
        [as, bs, g.a, g.b, qaddParamsStruct(p), g.y],
        0,
        ([pas, pbs, pa, pb, pp, py]) =>
          mod.fn('opq_qadd')(as.length, pas, pbs, pa, g.a.length, pb, g.b.length, signed, pp, py, g.y.length, mod.variantId(g.variant)),
        [5],
      );
    },
    qmul(g) {
      const [as, bs] = shapes('qmul', g);
      checkRequant(g.requant, 'qmul');
      const signed = g.a instanceof Int8Array ? 1 : 0;
      withBuffers(
        mod,
        [as, bs, g.a, g.b, g.y],
        WasmModule.requantBytes(g.requant),
        ([pas, pbs, pa, pb, py], prq) => {
          mod.putRequant(prq, g.requant);
          return mod.fn('opq_qmul')(
            as.length,
            pas,
            pbs,
            pa,
            g.a.length,
            g.aZeroPoint,
            pb,
            g.b.length,
            g.bZeroPoint,
            signed,
            prq,
            py,
            g.y.length,
            mod.variantId(g.variant),
          );
        },
        [4],
      );
    },
    lut2(g) {
      const [as, bs] = shapes('lut2', g);
      if (!(g.table instanceof Uint8Array)) fail('table must be a Uint8Array');
      withBuffers(
        mod,
        [as, bs, g.a, g.b, g.table, g.y],
        0,
        ([pas, pbs, pa, pb, pt, py]) =>
          mod.fn('opq_lut2')(
            as.length,
            pas,
            pbs,
            pa,
            g.a.length,
            pb,
            g.b.length,
            pt,
            g.table.length,
            py,
            g.y.length,
            mod.variantId(g.variant),
          ),
        [5],
      );
    },
  };
}
