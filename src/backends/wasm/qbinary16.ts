/** wasm marshalling of the A16W8 Add and Mul (opq_qadd16, opq_qmul16). */
import { alignShapes } from '../kernels-qbinary.js';
import { checkQBinary16Types, type QAdd16Args, type QBinary16Kernels, type QMul16Args } from '../kernels-qbinary16.js';
import { qc16Type } from '../kernels-qconv16.js';
import { WasmModule } from './module.js';
import { checkRequant, dim, fail, withBuffers } from './int8-common.js';
import { qaddParamsStruct } from './qbinary.js';

function shapes(op: string, g: QAdd16Args | QMul16Args): [Uint32Array, Uint32Array] {
  checkQBinary16Types(g, op);
  const [a, b] = alignShapes(g.aShape, g.bShape);
  return [Uint32Array.from(a, (d) => dim(d, 'aShape entry')), Uint32Array.from(b, (d) => dim(d, 'bShape entry'))];
}

const isInt32 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31 - 1;

export function wasmQBinary16Kernels(mod: WasmModule): QBinary16Kernels {
  return {
    qadd16(g) {
      const [as, bs] = shapes('qadd16', g);
      const p = g.params;
      if (p === null || typeof p !== 'object') fail('qadd16: params must be an object');
      // What the N-API glue reads as integers and finite numbers (the C ABI checks the values).
      for (const k of [
        'mode',
        'aZeroPoint',
        'bZeroPoint',
        'leftShift',
        'aMultiplier',
        'aShift',
        'bMultiplier',
        'bShift',
        'outputMultiplier',
        'outputShift',
        'zeroPoint',
        'min',
        'max',
      ] as const)
        if (!isInt32(p[k])) fail(`qadd16: params.${k} must be an int32 integer`);
      if (!Number.isFinite(p.aScale) || !Number.isFinite(p.bScale)) fail('qadd16: params.aScale and bScale must be finite numbers');
      withBuffers(
        mod,
        [as, bs, g.a, g.b, qaddParamsStruct(p), g.y],
        0,
        ([pas, pbs, pa, pb, pp, py]) =>
          mod.fn('opq_qadd16')(
            as.length,
            pas!,
            pbs!,
            pa!,
            g.a.length,
            qc16Type(g.a),
            pb!,
            g.b.length,
            qc16Type(g.b),
            pp!,
            py!,
            g.y.length,
            qc16Type(g.y),
            mod.variantId(g.variant),
          ),
        [5],
      );
    },
    qmul16(g) {
      const [as, bs] = shapes('qmul16', g);
      checkRequant(g.requant, 'qmul16');
      for (const k of ['zeroPoint', 'min', 'max'] as const) if (!isInt32(g.requant[k])) fail(`requant.${k} must be an int32 integer`);
      if (!isInt32(g.aZeroPoint) || !isInt32(g.bZeroPoint)) fail('qmul16: aZeroPoint and bZeroPoint must be int32 integers');
      withBuffers(
        mod,
        [as, bs, g.a, g.b, g.y],
        WasmModule.requantBytes(g.requant),
        ([pas, pbs, pa, pb, py], prq) => {
          mod.putRequant(prq, g.requant);
          return mod.fn('opq_qmul16')(
            as.length,
            pas!,
            pbs!,
            pa!,
            g.a.length,
            qc16Type(g.a),
            g.aZeroPoint,
            pb!,
            g.b.length,
            qc16Type(g.b),
            g.bZeroPoint,
            prq,
            py!,
            g.y.length,
            qc16Type(g.y),
            mod.variantId(g.variant),
          );
        },
        [4],
      );
    },
  };
}
