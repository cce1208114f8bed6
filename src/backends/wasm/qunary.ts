/** wasm marshalling of the table lookup, QuantizeLinear and DequantizeLinear. */
import type { QUnaryKernels, QdqLayout } from '../kernels-qunary.js';
import type { WasmModule } from './module.js';
import { dim, fail, is8, withBuffers } from './int8-common.js';

function layout(l: QdqLayout): [number, number, number, number] {
  if (!(l.scale instanceof Float32Array) || !(l.zeroPoint instanceof Int32Array))
    fail('scale must be a Float32Array and zeroPoint an Int32Array');
  if (l.scale.length !== l.zeroPoint.length) fail('scale and zeroPoint must have the same length');
  return [dim(l.outer, 'outer'), dim(l.axisLen, 'axisLen'), dim(l.inner, 'inner'), dim(l.blockSize ?? 0, 'blockSize')];
}

export function wasmQUnaryKernels(mod: WasmModule): QUnaryKernels {
  return {
    lut(g) {
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      if (!(g.table instanceof Uint8Array)) fail('table must be a Uint8Array');
      withBuffers(
        mod,
        [g.x, g.table, g.y],
        0,
        ([px, pt, py]) => mod.fn('opq_lut')(px, g.x.length, g.x.length, pt, g.table.length, py, g.y.length, mod.variantId(g.variant)),
        [2],
      );
    },
    softmax(g) {
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      if (!(g.table instanceof Uint32Array)) fail('table must be a Uint32Array');
      const [o, a, i] = [dim(g.outer, 'outer'), dim(g.axisLen, 'axisLen'), dim(g.inner, 'inner')];
      const int = (v: unknown, what: string) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) fail(`${what} must be an int32`);
        return v;
      };
      withBuffers(
        mod,
        [g.x, g.table, g.y],
        0,
        ([px, pt, py]) =>
          mod.fn('opq_qsoftmax')(
            px,
            g.x.length,
            g.x instanceof Int8Array ? 1 : 0,
            o,
            a,
            i,
            pt,
            g.table.length,
            int(g.multiplier, 'multiplier'),
            int(g.shift, 'shift'),
            int(g.zeroPoint, 'zeroPoint'),
            int(g.min, 'min'),
            int(g.max, 'max'),
            py,
            g.y.length,
            g.y instanceof Int8Array ? 1 : 0,
            mod.variantId(g.variant),
          ),
        [2],
      );
    },
    layerNorm(g) {
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      const affine = g.gamma !== undefined || g.beta !== undefined;
      if (affine && (!(g.gamma instanceof Int32Array) || !(g.beta instanceof Int32Array))) fail('gamma and beta must be Int32Arrays');
      if (affine && g.gamma!.length !== g.beta!.length) fail('layernorm: gamma and beta must have the same length');
      const int = (v: unknown, what: string, limit = 2 ** 31 - 1) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > limit)
          fail(`${what} must be an integer in [-${limit}, ${limit}]`);
        return v;
      };
      // gamma/beta as one buffer each; an empty pair still needs non-null pointers to mean "affine".
      const gb = affine ? [g.gamma!.length ? g.gamma! : new Int32Array(1), g.beta!.length ? g.beta! : new Int32Array(1)] : [];
      withBuffers(
        mod,
        [g.x, g.y, ...gb],
        0,
        ([px, py, pg, pb]) =>
          mod.fn('opq_qlayernorm')(
            px,
            g.x.length,
            g.x instanceof Int8Array ? 1 : 0,
            int(g.xZeroPoint, 'xZeroPoint'),
            dim(g.rows, 'rows'),
            dim(g.length, 'length'),
            int(g.eps, 'eps', 2 ** 50),
            int(g.gm, 'gm'),
            int(g.gs, 'gs'),
            affine ? pg : 0,
            affine ? pb : 0,
            affine ? g.gamma!.length : 0,
            int(g.zeroPoint, 'zeroPoint'),
            int(g.min, 'min'),
            int(g.max, 'max'),
            py,
            g.y.length,
            g.y instanceof Int8Array ? 1 : 0,
            mod.variantId(g.variant),
          ),
        [1],
      );
    },
    quantizeLinear(g) {
      if (!(g.x instanceof Float32Array) || !is8(g.y)) fail('x must be a Float32Array and y a Uint8Array or Int8Array');
      const [o, a, i, b] = layout(g);
      withBuffers(
        mod,
        [g.x, g.scale, g.zeroPoint, g.y],
        0,
        ([px, ps, pz, py]) =>
          mod.fn('opq_quantize_linear')(
            px,
            g.x.length,
            o,
            a,
            i,
            ps,
            pz,
            g.scale.length,
            b,
            py,
            g.y.length,
            g.y instanceof Int8Array ? 1 : 0,
            mod.variantId(g.variant),
          ),
        [3],
      );
    },
    dequantizeLinear(g) {
      const type = g.x instanceof Uint8Array ? 0 : g.x instanceof Int8Array ? 1 : g.x instanceof Int32Array ? 2 : -1;
      if (type < 0) fail('x must be a Uint8Array, Int8Array or Int32Array');
      if (!(g.y instanceof Float32Array)) fail('y must be a Float32Array');
      const [o, a, i, b] = layout(g);
      withBuffers(
        mod,
        [g.x, g.scale, g.zeroPoint, g.y],
        0,
        ([px, ps, pz, py]) =>
          mod.fn('opq_dequantize_linear')(
            px,
            g.x.length,
            type,
            o,
            a,
            i,
            ps,
            pz,
            g.scale.length,
            b,
            py,
            g.y.length,
            mod.variantId(g.variant),
          ),
        [3],
      );
    },
  };
}
