/**
 * The float32 kernel family on the wasm backend: each call lays its operands out in one block of
 * wasm memory, copies the inputs in, calls the C entry point (which validates every size), and
 * copies the output back.
 */
import type { F32Kernels, Pool3dParams } from '../kernels-f32.js';
import {
  activationOf,
  binaryId,
  checkFloats,
  checkHistogramTypes,
  fail,
  convFields,
  is2dPool,
  normalizeGemm,
  poolFields,
  sameBuffer,
  sumRowsFields,
  validateConvProbe,
  unaryArgs,
  validatePool,
  validateScan,
  validateSoftmax,
  validateLayerNorm,
  validateCol2Im,
  viewsOverlap,
} from '../f32-args.js';
import { jsF32Kernels } from '../js-f32.js';
import { Layout, type WasmModule } from './module.js';

export function wasmF32Kernels(mod: WasmModule): F32Kernels {
  const js = jsF32Kernels();
  const u32 = (v: number) => v >>> 0; // size_t results come back as signed i32

  const pool = (
    p: Pool3dParams,
    kind: number,
    x: Float32Array,
    y: Float32Array,
    variant: Parameters<F32Kernels['maxPoolF32']>[3],
  ): boolean => {
    if (!is2dPool(p)) {
      validatePool(p, x, y);
      return false;
    }
    const f = poolFields(p);
    checkFloats(x, 'x', 'pool2d_f32');
    checkFloats(y, 'y', 'pool2d_f32');
    const v = mod.variantId(variant);
    const ny = Math.min(y.length, p.planes * p.OH * p.OW);
    const L = new Layout();
    const oP = L.add(64),
      oX = L.add(x.byteLength),
      oY = L.add(ny * 4);
    mod.withBlock(L.size, (base) => {
      mod.put(base + oP, f);
      const ws = u32(mod.fn('opq_pool2d_f32_workspace_size')(base + oP, v));
      mod.put(base + oX, x);
      // The workspace is a second block: its size is known only once the params are in memory.
      mod.withBlock(ws, (wsp) => {
        mod.check(mod.fn('opq_pool2d_f32')(base + oP, kind, base + oX, x.length, base + oY, ny, wsp, ws, v));
      });
      mod.get(base + oY, y.subarray(0, ny));
    });
    return true;
  };

  return {
    conv2dF32(p, x, w, bias, y, variant) {
      const f = convFields(p);
      const [lo, hi] = activationOf(p.activation, 'conv2d_f32');
      checkFloats(x, 'x', 'conv2d_f32');
      checkFloats(w, 'w', 'conv2d_f32');
      if (bias != null) checkFloats(bias, 'bias', 'conv2d_f32');
      checkFloats(y, 'y', 'conv2d_f32');
      // Copies make overlap harmless here, but the other backends refuse it: so does this one.
      if (sameBuffer(y, x) || sameBuffer(y, w) || (bias != null && sameBuffer(y, bias))) fail('conv2d_f32: y overlaps x, w or bias');
      const v = mod.variantId(variant);
      // Only the n*m*oh*ow outputs the kernel writes cross the boundary (a longer y keeps its tail).
      const ny = Math.min(y.length, p.N * p.M * p.OH * p.OW);
      const L = new Layout();
      const oP = L.add(72),
        oX = L.add(x.byteLength),
        oW = L.add(w.byteLength),
        oB = L.add(bias ? bias.byteLength : 0);
      const oY = L.add(ny * 4);
      mod.withBlock(L.size, (base) => {
        mod.put(base + oP, f);
        mod.put(base + oP + 64, new Float32Array([lo, hi]));
        const ws = u32(mod.fn('opq_conv2d_f32_workspace_size')(base + oP, 1, v));
        mod.put(base + oX, x);
        mod.put(base + oW, w);
        if (bias) mod.put(base + oB, bias);
        mod.withBlock(ws, (wsp) => {
          mod.check(
            mod.fn('opq_conv2d_f32')(
              base + oP,
              base + oX,
              x.length,
              base + oW,
              w.length,
              base + oB,
              bias ? bias.length : 0,
              base + oY,
              ny,
              wsp,
              ws,
              0,
              v,
            ),
          ); // no thread pool in wasm
        });
        mod.get(base + oY, y.subarray(0, ny));
      });
    },

    gemmF32(args) {
      const g = normalizeGemm(args);
      if (sameBuffer(args.y, args.a) || sameBuffer(args.y, args.b) || (g.c && sameBuffer(args.y, g.c)))
        fail('gemm_f32: Y overlaps A, B or C');
      const [M, N, K, lda, ldb, ldy, ta, tb, sm, sn] = g.dims as unknown as number[];
      const v = mod.variantId(args.variant);
      const ws = u32(mod.fn('opq_gemm_f32_workspace_size')(M!, N!, K!, 1, v));
      const y = args.y;
      const L = new Layout();
      const oA = L.add(args.a.byteLength),
        oB = L.add(args.b.byteLength),
        oC = L.add(g.c ? g.c.byteLength : 0);
      const oY = L.add(y.byteLength),
        oWs = L.add(ws);
      mod.withBlock(L.size, (base) => {
        mod.put(base + oA, args.a);
        mod.put(base + oB, args.b);
        if (g.c) mod.put(base + oC, g.c);
        mod.put(base + oY, y); // copied back whole: the gaps of a strided Y must survive
        mod.check(
          mod.fn('opq_gemm_f32')(
            M!,
            N!,
            K!,
            base + oA,
            args.a.length,
            lda!,
            ta!,
            base + oB,
            args.b.length,
            ldb!,
            tb!,
            g.alpha,
            g.beta,
            base + oC,
            g.c ? g.c.length : 0,
            sm!,
            sn!,
            g.act[0],
            g.act[1],
            base + oY,
            y.length,
            ldy!,
            base + oWs,
            ws,
            0,
            v,
          ),
        );
        mod.get(base + oY, y);
      });
    },

    maxPoolF32(p, x, y, variant) {
      if (!pool(p, 0, x, y, variant)) js.maxPoolF32(p, x, y);
    },
    avgPoolF32(p, x, y, countIncludePad, variant) {
      if (!pool(p, countIncludePad ? 2 : 1, x, y, variant)) js.avgPoolF32(p, x, y, countIncludePad);
    },

    globalPoolF32(kind, planes, size, x, y, variant) {
      if (kind !== 'avg' && kind !== 'max') js.globalPoolF32(kind, planes, size, x, y); // throws the message
      checkFloats(x, 'x', 'global_pool_f32');
      checkFloats(y, 'y', 'global_pool_f32');
      const v = mod.variantId(variant);
      const L = new Layout();
      const oX = L.add(x.byteLength),
        oY = L.add(y.byteLength);
      mod.withBlock(L.size, (base) => {
        mod.put(base + oX, x);
        mod.check(mod.fn('opq_global_pool_f32')(planes, size, kind === 'max' ? 0 : 1, base + oX, x.length, base + oY, y.length, v));
        mod.get(base + oY, y.subarray(0, Math.min(planes, y.length)));
      });
    },

    unaryF32(op, x, y, params, variant) {
      const [id, p0, p1] = unaryArgs(op, params);
      checkFloats(x, 'x', 'unary_f32');
      checkFloats(y, 'y', 'unary_f32');
      const v = mod.variantId(variant);
      const L = new Layout();
      const oX = L.add(x.byteLength);
      mod.withBlock(L.size, (base) => {
        mod.put(base + oX, x);
        // In place in wasm memory; the C call checks y.length >= x.length before anything is written back.
        mod.check(mod.fn('opq_unary_f32')(id, p0, p1, base + oX, x.length, base + oX, y.length, v));
        mod.get(base + oX, y.subarray(0, x.length));
      });
    },

    binaryF32(op, a, b, y, inner = 1, variant) {
      const id = binaryId(op);
      checkFloats(a, 'a', 'binary_f32');
      checkFloats(b, 'b', 'binary_f32');
      checkFloats(y, 'y', 'binary_f32');
      const v = mod.variantId(variant);
      if (!Number.isInteger(inner) || inner < 0 || inner > 2 ** 31) fail('binary_f32: inner must be a non-negative integer');
      const L = new Layout();
      const oA = L.add(a.byteLength),
        oB = L.add(b.byteLength);
      mod.withBlock(L.size, (base) => {
        mod.put(base + oA, a);
        mod.put(base + oB, b);
        mod.check(mod.fn('opq_binary_f32')(id, base + oA, a.length, base + oB, b.length, inner, base + oA, y.length, v));
        mod.get(base + oA, y);
      });
    },

    // x is read in place when it already lies in wasm memory (its address is taken before any
    // allocation, which could grow the memory and detach the view); otherwise copied in.
    scanF32(x, out, variant) {
      validateScan(x, out);
      const v = mod.variantId(variant);
      const n = x.length,
        px = mod.residentPtr(x);
      const L = new Layout();
      const oOut = L.add(32),
        oX = L.add(px < 0 ? x.byteLength : 0);
      mod.withBlock(L.size, (base) => {
        if (px < 0) mod.put(base + oX, x);
        mod.check(mod.fn('opq_scan_f32')(px < 0 ? base + oX : px, n, base + oOut, 4, v));
        mod.get(base + oOut, out);
      });
    },

    histogramF32(x, inv, zero, counts, variant) {
      checkHistogramTypes(x, inv, zero, counts);
      // The C call refuses overlap, which copies would hide: refuse it here too.
      if (viewsOverlap(counts, x)) fail('histogram_f32: counts overlaps x');
      const v = mod.variantId(variant);
      const n = x.length,
        px = mod.residentPtr(x);
      const L = new Layout();
      const oC = L.add(counts.byteLength),
        oX = L.add(px < 0 ? x.byteLength : 0);
      mod.withBlock(L.size, (base) => {
        if (px < 0) mod.put(base + oX, x);
        mod.put(base + oC, counts);
        mod.check(mod.fn('opq_histogram_f32')(px < 0 ? base + oX : px, n, inv, zero, base + oC, counts.length, v));
        mod.get(base + oC, counts);
      });
    },

    // x copied in (or read in place when resident, as scanF32), dst copied out: the kernel writes all
    // of it, so nothing is copied in.
    sumRowsF32(x, p, dst, variant) {
      const f = sumRowsFields(x, p, dst);
      // The C call refuses overlap, which copies would hide: refuse it here too.
      if (viewsOverlap(dst, x)) fail('sum_rows_f32: dst overlaps x');
      const v = mod.variantId(variant);
      const n = x.length,
        px = mod.residentPtr(x);
      const L = new Layout();
      const oP = L.add(32),
        oD = L.add(dst.byteLength),
        oX = L.add(px < 0 ? x.byteLength : 0);
      mod.withBlock(L.size, (base) => {
        mod.put(base + oP, f);
        if (px < 0) mod.put(base + oX, x);
        mod.check(mod.fn('opq_sum_rows_f32')(base + oP, px < 0 ? base + oX : px, n, base + oD, dst.length, v));
        mod.get(base + oD, dst);
      });
    },

    // x and delta copied in (read in place when resident), sums copied out; the workspace lives in
    // the block. Every check made in JS first (a copy would hide an overlap).
    convProbeSumsF32(geo, x, delta, sums, variant) {
      const nw = validateConvProbe(geo, x, delta, sums);
      const v = mod.variantId(variant);
      const px = mod.residentPtr(x),
        pd = mod.residentPtr(delta);
      const L = new Layout();
      const oS = L.add(sums.byteLength),
        oW = L.add(nw * 8),
        oG = L.add(geo.byteLength),
        oX = L.add(px < 0 ? x.byteLength : 0),
        oD = L.add(pd < 0 ? delta.byteLength : 0);
      mod.withBlock(L.size, (base) => {
        mod.put(base + oG, geo);
        if (px < 0) mod.put(base + oX, x);
        if (pd < 0) mod.put(base + oD, delta);
        mod.check(
          mod.fn('opq_conv_probe_sums_f32')(
            base + oG,
            geo.length,
            px < 0 ? base + oX : px,
            x.length,
            pd < 0 ? base + oD : pd,
            delta.length,
            base + oS,
            sums.length,
            base + oW,
            nw,
            v,
          ),
        );
        mod.get(base + oS, sums);
      });
    },

    // x, scale and bias copied in (x read in place when resident), y written in place when resident
    // or copied out; every check made in JS first (a copy would hide an overlap).
    layerNormF32(x, scale, bias, y, rows, n, eps, variant) {
      validateLayerNorm(x, scale, bias, y, rows, n, eps);
      const v = mod.variantId(variant);
      const px = mod.residentPtr(x),
        py = mod.residentPtr(y);
      const L = new Layout();
      const oX = L.add(px < 0 ? x.byteLength : 0),
        oY = L.add(py < 0 ? y.byteLength : 0),
        oS = L.add(scale.byteLength),
        oB = L.add(bias ? bias.byteLength : 0);
      mod.withBlock(L.size, (base) => {
        if (px < 0) mod.put(base + oX, x);
        mod.put(base + oS, scale);
        if (bias) mod.put(base + oB, bias);
        mod.check(
          mod.fn('opq_layernorm_f32')(
            rows,
            n,
            px < 0 ? base + oX : px,
            x.length,
            base + oS,
            bias ? base + oB : 0,
            n,
            eps,
            py < 0 ? base + oY : py,
            y.length,
            v,
          ),
        );
        if (py < 0) mod.get(base + oY, y);
      });
    },

    // cols copied in (read in place when resident), y written in place when resident or copied out;
    // every check made in JS first (a copy would hide an overlap).
    col2imF32(geo, channels, cols, bias, y) {
      validateCol2Im(geo, channels, cols, bias, y);
      const pc = mod.residentPtr(cols),
        py = mod.residentPtr(y);
      const L = new Layout();
      const oG = L.add(geo.byteLength),
        oC = L.add(pc < 0 ? cols.byteLength : 0),
        oB = L.add(bias ? bias.byteLength : 0),
        oY = L.add(py < 0 ? y.byteLength : 0);
      mod.withBlock(L.size, (base) => {
        mod.put(base + oG, geo);
        if (pc < 0) mod.put(base + oC, cols);
        if (bias) mod.put(base + oB, bias);
        mod.check(
          mod.fn('opq_col2im_f32')(
            base + oG,
            18,
            channels,
            pc < 0 ? base + oC : pc,
            cols.length,
            bias ? base + oB : 0,
            bias ? bias.length : 0,
            py < 0 ? base + oY : py,
            y.length,
          ),
        );
        if (py < 0) mod.get(base + oY, y);
      });
    },

    // x and y are used in place when they lie in wasm memory (addresses taken before any allocation);
    // otherwise through a block (x copied in, y copied out; both, in place in the block). Every check
    // is made in JS first: a copy would hide an overlap.
    softmaxF32(x, y, outer, len, inner, log, variant) {
      validateSoftmax(x, y, outer, len, inner, log);
      const v = mod.variantId(variant);
      const n = x.length,
        px = mod.residentPtr(x),
        py = mod.residentPtr(y);
      const run = (from: number, to: number) => mod.check(mod.fn('opq_softmax_f32')(outer, len, inner, log ? 1 : 0, from, n, to, n, v));
      if (px >= 0 && py >= 0) {
        run(px, py);
        return;
      }
      mod.withBlock(x.byteLength, (base) => {
        if (px < 0) mod.put(base, x);
        run(px < 0 ? base : px, py < 0 ? base : py);
        if (py < 0) mod.get(base, y);
      });
    },
  };
}
