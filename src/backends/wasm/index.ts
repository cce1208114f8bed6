/**
 * The WebAssembly backend: the native/ kernels built by emscripten into wasm/onnxptq.wasm.
 * One file per kernel family beside this one; this file only assembles them.
 */
import type { Backend, KernelVariant } from '../types.js';
import { WasmModule } from './module.js';
import { wasmInt8OpKernels } from './int8-ops.js';
import { qgemmWasm, requantizeRowWasm } from './qgemm.js';
import { wasmF32Kernels } from './f32.js';
import { wasmConvKernels } from './conv.js';
import { wasmConvTransposeKernels } from './convtranspose.js';
import { wasmQConv16Kernels } from './qconv16.js';
import { wasmQBinary16Kernels } from './qbinary16.js';
import { wasmQConvTranspose16Kernels } from './qconvtranspose16.js';
import { wasmQGemmI32Kernels } from './qgemm-i32.js';

export function createWasmBackend(wasmPath: string): Backend {
  const mod = new WasmModule(wasmPath);
  const variants: KernelVariant[] = [];
  for (let v = 0; v < 4; v++) if (mod.ex.opq_variant_available(v)) variants.push(mod.cString(mod.ex.opq_variant_name(v)) as KernelVariant);
  const auto = mod.cString(mod.ex.opq_variant_name(mod.ex.opq_qgemm_auto_variant())) as KernelVariant;
  return {
    ...wasmF32Kernels(mod),
    ...wasmInt8OpKernels(mod),
    ...wasmConvKernels(mod),
    ...wasmConvTransposeKernels(mod),
    ...wasmQConv16Kernels(mod),
    ...wasmQBinary16Kernels(mod),
    ...wasmQConvTranspose16Kernels(mod),
    ...wasmQGemmI32Kernels(mod),
    name: 'wasm',
    variants,
    dispatch: {
      qgemm: auto,
      requantizeRow: auto,
      qgemmI32: mod.cString(mod.ex.opq_variant_name(mod.fn('opq_qgemm_i32_auto_variant')())) as KernelVariant,
      f32: mod.cString(mod.ex.opq_variant_name(mod.fn('opq_f32_auto_variant')())) as KernelVariant,
      qconv16: mod.cString(mod.ex.opq_variant_name(mod.fn('opq_qconv16_auto_variant')())) as KernelVariant,
      qadd16: mod.cString(mod.ex.opq_variant_name(mod.fn('opq_qbinary16_auto_variant')())) as KernelVariant,
      qmul16: mod.cString(mod.ex.opq_variant_name(mod.fn('opq_qbinary16_auto_variant')())) as KernelVariant,
      qconvTranspose16: mod.cString(mod.ex.opq_variant_name(mod.fn('opq_qconvtranspose16_auto_variant')())) as KernelVariant,
    },
    qgemm: (args) => qgemmWasm(mod, args),
    requantizeRow: (acc, rq, y, variant) => requantizeRowWasm(mod, acc, rq, y, variant),
    residentArena: (bytes) => mod.arena(bytes),
  };
}
