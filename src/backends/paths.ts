/** Where the built artifacts live, relative to this file in src/ (tests) or dist/ (package). */
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The addon compiled on this machine (`npm run build:native`, or the install script when no prebuilt loads). */
export const defaultAddonPath = fileURLToPath(new URL('../../build/Release/onnxptq.node', import.meta.url));
/** The platform's directory name under prebuilds/ (node-gyp-build's convention): e.g. linux-x64. */
export const prebuildPlatform = `${process.platform}-${process.arch}`;
/** The prebuilt addon shipped in the package for this platform (built by scripts/prebuild.mjs at pack time). */
export const prebuiltAddonPath = fileURLToPath(new URL(`../../prebuilds/${prebuildPlatform}/onnxptq.node`, import.meta.url));
export const defaultWasmPath = fileURLToPath(new URL('../../wasm/onnxptq.wasm', import.meta.url));
