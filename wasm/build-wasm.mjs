// Builds the kernels of native/sources.txt into a standalone WebAssembly module with SIMD128:
// wasm/onnxptq.wasm. No emscripten JS glue (its ES-module glue is broken under Node): the module
// is instantiated by src/backends/wasm.ts. Usage: node wasm/build-wasm.mjs [--if-available]
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { kernelSources } from '../scripts/sources.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ifAvailable = process.argv.includes('--if-available');

const probe = spawnSync('emcc', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) {
  const msg = 'emcc not found: keeping the committed wasm/onnxptq.wasm';
  if (ifAvailable) {
    console.log(`[onnx-ptq] ${msg}`);
    process.exit(0);
  }
  console.error(`[onnx-ptq] ${msg}; install emscripten (apt-get install -y emscripten) to rebuild`);
  process.exit(1);
}

// Every function declared OPQ_API in native/include/*.h is exported, plus the allocator.
const includeDir = join(root, 'native', 'include');
const exported = ['malloc', 'free'];
for (const f of readdirSync(includeDir)
  .filter((n) => n.endsWith('.h'))
  .sort()) {
  for (const m of readFileSync(join(includeDir, f), 'utf8').matchAll(/OPQ_API[^;(]*?\b(opq_\w+)\s*\(/g)) exported.push(m[1]);
}
mkdirSync(join(root, 'wasm', 'build'), { recursive: true });
const tmp = join(root, 'wasm', 'build', 'onnxptq.wasm');
const args = [
  ...kernelSources(),
  '-std=c++17',
  '-O3',
  '-msimd128',
  '-fno-exceptions',
  '-fno-rtti',
  // Warnings never change the module's bytes; OPQ_WERROR=1 (set by .ci/run) makes them errors.
  '-Wall',
  '-Wextra',
  ...(process.env.OPQ_WERROR === '1' ? ['-Werror'] : []),
  '-Inative',
  '-Inative/include',
  '--no-entry',
  '-sSTANDALONE_WASM',
  '-sALLOW_MEMORY_GROWTH=1',
  '-sINITIAL_MEMORY=16MB',
  '-sMAXIMUM_MEMORY=4GB',
  '-sTOTAL_STACK=1MB',
  `-sEXPORTED_FUNCTIONS=${exported.map((e) => `_${e}`).join(',')}`,
  '-o',
  tmp,
];
execFileSync('emcc', args, { cwd: root, stdio: 'inherit' });
// Rename only a complete build over the committed module.
renameSync(tmp, join(root, 'wasm', 'onnxptq.wasm'));
console.log('[onnx-ptq] built wasm/onnxptq.wasm');
