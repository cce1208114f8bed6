/**
 * Integer convolution on the wasm backend. Packed weights live in wasm memory (allocated once by
 * qconv2dPack, freed when the PackedQConv2d is garbage-collected); each run copies X in and Y out.
 */
import { OnnxPtqError } from '../../errors.js';
import { packedQGemmKernels, type PackedQGemmKernels } from '../qgemm-packed.js';
import type { ConvKernels, PackedQConv2d, QConv2dArgs, QConv2dPackArgs, ThreadKernels } from '../kernels-conv.js';
import type { KernelVariant } from '../types.js';
import { convGeom, runFields, shapeFields } from '../conv-args.js';
import { checkRequantShape } from '../qgemm-args.js';
import { checkPackedFor } from '../js/conv.js';
import { Layout, WasmModule } from './module.js';

interface WasmPacked {
  ptr: number;
  size: number;
}

function typeError(msg: string): never {
  throw new OnnxPtqError('KERNEL_ARGUMENT', msg);
}

export function wasmConvKernels(mod: WasmModule): ConvKernels & ThreadKernels {
  const auto = mod.cString(mod.ex.opq_variant_name(mod.fn('opq_qconv2d_auto_variant')())) as KernelVariant;
  const k: Omit<ConvKernels, keyof PackedQGemmKernels> & ThreadKernels = {
    qconv2dPack(args: QConv2dPackArgs): PackedQConv2d {
      const fields = shapeFields(args.shape);
      if (!(args.w instanceof Int8Array)) typeError('w must be an Int8Array');
      if (!(args.wZeroPoint instanceof Int32Array)) typeError('wZeroPoint must be an Int32Array');
      if (args.bias != null && !(args.bias instanceof Int32Array)) typeError('bias must be an Int32Array');
      const v = mod.variantId(args.variant);
      const L = new Layout();
      const oShape = L.add(64),
        oW = L.add(args.w.byteLength),
        oZp = L.add(args.wZeroPoint.byteLength);
      const oBias = L.add(args.bias ? args.bias.byteLength : 0);
      const handle = mod.withBlock(L.size, (base): WasmPacked => {
        mod.put(base + oShape, fields);
        const size = mod.fn('opq_qconv2d_packed_size')(base + oShape, v) >>> 0;
        mod.put(base + oW, args.w);
        mod.put(base + oZp, args.wZeroPoint);
        if (args.bias) mod.put(base + oBias, args.bias);
        // size 0 (bad geometry or variant): the call names the argument.
        return mod.packedBlock(size, (ptr) =>
          mod.check(
            mod.fn('opq_qconv2d_pack')(
              base + oShape,
              base + oW,
              args.w.length,
              base + oZp,
              args.wZeroPoint.length,
              base + oBias,
              args.bias ? args.bias.length : 0,
              v,
              ptr,
              size,
            ),
          ),
        );
      });
      const g = convGeom(fields);
      const variant = args.variant === undefined || args.variant === 'auto' ? auto : args.variant;
      return { backend: 'wasm', variant, fields, outHeight: g.oh, outWidth: g.ow, handle };
    },
    qconv2d(packed: PackedQConv2d, args: QConv2dArgs): void {
      checkPackedFor('wasm', packed);
      const h = packed.handle as WasmPacked;
      const fields = runFields(packed.fields, args.batch);
      if (!(args.x instanceof Uint8Array || args.x instanceof Int8Array)) typeError('x must be a Uint8Array or Int8Array');
      if (!(args.y instanceof Uint8Array || args.y instanceof Int8Array)) typeError('y must be a Uint8Array or Int8Array');
      checkRequantShape(args.requant, 'qconv2d');
      const wsSize = mod.fn('opq_qconv2d_workspace_size')(h.ptr, h.size, 1) >>> 0;
      // X and Y in a resident arena are used in place (addresses taken before any allocation).
      const rx = mod.residentPtr(args.x),
        ry = mod.residentPtr(args.y);
      const L = new Layout();
      const oShape = L.add(64),
        oX = L.add(rx >= 0 ? 0 : args.x.byteLength),
        oY = L.add(ry >= 0 ? 0 : args.y.byteLength);
      const oRq = L.add(WasmModule.requantBytes(args.requant)),
        oWs = L.add(wsSize);
      const xLen = args.x.length,
        yLen = args.y.length;
      mod.withBlock(L.size, (base) => {
        mod.put(base + oShape, fields);
        if (rx < 0) mod.put(base + oX, args.x);
        mod.putRequant(base + oRq, args.requant);
        mod.check(
          mod.fn('opq_qconv2d_run')(
            base + oShape,
            h.ptr,
            h.size,
            rx >= 0 ? rx : base + oX,
            xLen,
            args.x instanceof Int8Array ? 1 : 0,
            args.xZeroPoint,
            base + oRq,
            ry >= 0 ? ry : base + oY,
            yLen,
            args.y instanceof Int8Array ? 1 : 0,
            base + oWs,
            wsSize,
            0,
          ),
        );
        if (ry >= 0) return;
        const g = convGeom(fields);
        const n = Math.min(yLen, g.n * g.cout * g.oh * g.ow);
        mod.get(base + oY, args.y.subarray(0, n));
      });
    },
    setThreads(n: number): void {
      if (!Number.isInteger(n) || n < 1 || n > 256) typeError('setThreads: threads must be an integer in [1, 256]');
    },
    getThreads: () => 1,
  };
  return { ...k, ...packedQGemmKernels(k) };
}
