/** The wasm backend's elementwise, pooling and layout kernel families, assembled. */
import type { QBinaryKernels } from '../kernels-qbinary.js';
import type { QUnaryKernels } from '../kernels-qunary.js';
import type { QPoolKernels } from '../kernels-qpool.js';
import type { QLayoutKernels } from '../kernels-qlayout.js';
import type { WasmModule } from './module.js';
import { wasmQBinaryKernels } from './qbinary.js';
import { wasmQUnaryKernels } from './qunary.js';
import { wasmQPoolKernels } from './qpool.js';
import { wasmQLayoutKernels } from './qlayout.js';
import { wasmQReduceKernels } from './qreduce.js';
import type { QReduceKernels } from '../kernels-qreduce.js';

export function wasmInt8OpKernels(mod: WasmModule): QBinaryKernels & QUnaryKernels & QPoolKernels & QLayoutKernels & QReduceKernels {
  return {
    ...wasmQBinaryKernels(mod),
    ...wasmQUnaryKernels(mod),
    ...wasmQPoolKernels(mod),
    ...wasmQLayoutKernels(mod),
    ...wasmQReduceKernels(mod),
  };
}
