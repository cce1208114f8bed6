/** Where the built artifacts live, relative to this file in src/ (tests) or dist/ (package). */
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const defaultAddonPath = fileURLToPath(new URL('../../build/Release/onnxptq.node', import.meta.url));
export const defaultWasmPath = fileURLToPath(new URL('../../wasm/onnxptq.wasm', import.meta.url));
