/** wasm marshalling of Concat and Resize (nearest, linear). */
import type { QLayoutKernels } from '../kernels-qlayout.js';
import { Layout, WasmModule } from './module.js';
import { checkRequant, dim, fail, is8, withBuffers } from './int8-common.js';

export function wasmQLayoutKernels(mod: WasmModule): QLayoutKernels {
  return {
    concat(g) {
      const k = g.inputs.length;
      if (!Array.isArray(g.inputs) || g.axisDims.length !== k || g.zeroPoints.length !== k || g.requant.length !== k) {
        fail('concat: inputs, axisDims, zeroPoints and requant must have the same length');
      }
      if (k === 0 || k > 65536) fail('concat: num_inputs must be in [1, 65536]');
      if (!is8(g.y)) fail('y must be a Uint8Array or Int8Array');
      g.inputs.forEach((x) => {
        if (!is8(x) || x.constructor !== g.y.constructor) fail('concat: inputs[i] and y must have the same 8-bit type');
      });
      g.requant.forEach((rq) => {
        if (rq) checkRequant(rq, 'concat');
      });
      const outer = dim(g.outer, 'outer'),
        inner = dim(g.inner, 'inner');
      const L = new Layout();
      const oIn = g.inputs.map((x) => L.add(x.byteLength));
      const oY = L.add(g.y.byteLength);
      const oPtrs = L.add(4 * k),
        oSizes = L.add(4 * k),
        oDims = L.add(4 * k),
        oZps = L.add(4 * k),
        oFlags = L.add(4 * k);
      const oStructs = L.add(32 * k);
      const oArrays = g.requant.map((rq) => L.add(rq ? 3 * 4 * rq.shift.length : 0));
      mod.withBlock(L.size, (base) => {
        g.inputs.forEach((x, i) => mod.put(base + oIn[i], x));
        mod.put(base + oY, g.y);
        mod.put(
          base + oPtrs,
          Uint32Array.from(oIn, (o) => base + o),
        );
        mod.put(
          base + oSizes,
          Uint32Array.from(g.inputs, (x) => x.length),
        );
        mod.put(
          base + oDims,
          Uint32Array.from(g.axisDims, (d) => dim(d, 'axisDims entry')),
        );
        mod.put(base + oZps, Int32Array.from(g.zeroPoints));
        mod.put(
          base + oFlags,
          Int32Array.from(g.requant, (rq) => (rq ? 1 : 0)),
        );
        g.requant.forEach((rq, i) => {
          if (!rq) return;
          const n = rq.shift.length,
            a = base + oArrays[i];
          mod.put(a, rq.multiplier);
          mod.put(a + 4 * n, rq.shift);
          mod.put(a + 8 * n, rq.scale);
          mod.put(base + oStructs + 32 * i, Int32Array.from([rq.mode, n, a, a + 4 * n, a + 8 * n, rq.zeroPoint, rq.min, rq.max]));
        });
        mod.check(
          mod.fn('opq_qconcat')(
            k,
            base + oPtrs,
            base + oSizes,
            base + oDims,
            base + oZps,
            base + oFlags,
            base + oStructs,
            outer,
            inner,
            g.y instanceof Int8Array ? 1 : 0,
            base + oY,
            g.y.length,
            mod.variantId(g.variant),
          ),
        );
        mod.get(base + oY, g.y);
      });
    },
    transpose8(g) {
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      if (!Array.isArray(g.dims) || !Array.isArray(g.perm) || g.dims.length !== g.perm.length || g.dims.length > 8)
        fail('transpose: dims and perm must be arrays of the same length, at most 8');
      const dims = Uint32Array.from(g.dims, (d) => dim(d, 'dims entry'));
      const perm = Uint32Array.from(g.perm, (d) => dim(d, 'perm entry'));
      withBuffers(
        mod,
        [g.x, dims, perm, g.y],
        0,
        ([px, pd, pp, py]) => mod.fn('opq_transpose8')(px, g.x.length, dims.length, pd, pp, py, g.y.length, mod.variantId(g.variant)),
        [3],
      );
    },
    resizeNearest(g) {
      if (!is8(g.x) || !is8(g.y)) fail('x and y must be Uint8Array or Int8Array');
      if (!(g.yIndex instanceof Int32Array) || !(g.xIndex instanceof Int32Array)) fail('yIndex and xIndex must be Int32Arrays');
      const d = [dim(g.nc, 'nc'), dim(g.inH, 'inH'), dim(g.inW, 'inW'), dim(g.outH, 'outH'), dim(g.outW, 'outW')];
      withBuffers(
        mod,
        [g.yIndex, g.xIndex, g.x, g.y],
        0,
        ([pyi, pxi, px, py]) =>
          mod.fn('opq_qresize_nearest')(
            ...d,
            pyi,
            g.yIndex.length,
            pxi,
            g.xIndex.length,
            px,
            g.x.length,
            py,
            g.y.length,
            mod.variantId(g.variant),
          ),
        [3],
      );
    },
    resizeLinear(g) {
      if (!is8(g.x) || !is8(g.y) || g.x.constructor !== g.y.constructor) fail('resize_linear: x and y must have the same 8-bit type');
      if (!(g.yTaps instanceof Int32Array) || !(g.xTaps instanceof Int32Array)) fail('resize_linear: yTaps and xTaps must be Int32Arrays');
      const d = [dim(g.nc, 'nc'), dim(g.inH, 'inH'), dim(g.inW, 'inW'), dim(g.outH, 'outH'), dim(g.outW, 'outW')];
      checkRequant(g.requant, 'resize_linear');
      const s = g.x instanceof Int8Array ? 1 : 0;
      withBuffers(
        mod,
        [g.yTaps, g.xTaps, g.x, g.y],
        WasmModule.requantBytes(g.requant),
        ([pyt, pxt, px, py], prq) => {
          mod.putRequant(prq, g.requant);
          return mod.fn('opq_qresize_linear')(
            ...d,
            pyt,
            g.yTaps.length,
            pxt,
            g.xTaps.length,
            px,
            g.x.length,
            s,
            g.xZeroPoint,
            prq,
            py,
            g.y.length,
            mod.variantId(g.variant),
          );
        },
        [3],
      );
    },
  };
}
