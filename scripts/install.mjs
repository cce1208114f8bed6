// Runs on `npm install` / `npm ci`, in this repository and in a consumer's node_modules.
// Builds the native addon with cmake-js; in a git checkout with emcc on the PATH, also rebuilds
// wasm/onnxptq.wasm. It never fails the install: without a compiler the committed wasm module
// (and, last, the pure-JS backend) is used, and `onnx-ptq backends` says why.
// ONNX_PTQ_SKIP_NATIVE=1 skips the addon build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const log = (msg) => console.log(`[onnx-ptq] ${msg}`);

function buildNative() {
  if (process.env.ONNX_PTQ_SKIP_NATIVE) return log('ONNX_PTQ_SKIP_NATIVE is set: native addon not built');
  let cmakeJs;
  try {
    cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
  } catch {
    return log('cmake-js is not installed: native addon not built; the wasm backend will be used');
  }
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status === 0 && existsSync(join(root, 'build', 'Release', 'onnxptq.node'))) return log('native addon built');
  log(`native addon build failed (${r.error?.message ?? `exit ${r.status}`}): the wasm backend will be used`);
}

function buildWasm() {
  // Consumers get the committed module; only a checkout rebuilds it (when emcc is there).
  if (!existsSync(join(root, '.git'))) return;
  const r = spawnSync(process.execPath, [join(root, 'wasm', 'build-wasm.mjs'), '--if-available'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) log('wasm rebuild failed: keeping the committed wasm/onnxptq.wasm');
}

buildNative();
buildWasm();
