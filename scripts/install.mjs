// Runs on `npm install` / `npm ci`, in this repository and in a consumer's node_modules.
// When the package ships a prebuilt addon for this platform (prebuilds/<platform>-<arch>/onnxptq.node,
// see scripts/prebuild.mjs) and it loads, nothing is compiled. Otherwise builds the native addon with
// cmake-js (CMakeLists.txt) into build/Release; in a git checkout with emcc on the PATH, also rebuilds
// wasm/onnxptq.wasm. It never fails the install: without a compiler the committed wasm module (and,
// last, the pure-JS backend) is used, and `onnx-ptq backends` says why.
// ONNX_PTQ_SKIP_NATIVE=1 skips the addon build; ONNX_PTQ_BUILD_FROM_SOURCE=1 compiles even when a
// prebuilt loads (the compiled build is then still second to the prebuilt: remove prebuilds/ or set
// ONNX_PTQ_ADDON_PATH to use it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const log = (msg) => console.log(`[onnx-ptq] ${msg}`);
const require = createRequire(import.meta.url);

/** True when the shipped prebuilt loads here; logs why not when it is present but does not. */
function prebuiltLoads() {
  const rel = join('prebuilds', `${process.platform}-${process.arch}`, 'onnxptq.node');
  const file = join(root, rel);
  if (!existsSync(file)) return false;
  try {
    const addon = require(file);
    if (typeof addon.info !== 'function') throw new Error('no info() export');
    addon.info();
    log(`using the prebuilt native addon ${rel}: nothing to compile`);
    return true;
  } catch (e) {
    log(`the prebuilt native addon ${rel} does not load here (${String(e.message ?? e).split('\n')[0]}): compiling it`);
    return false;
  }
}

function buildNative() {
  if (process.env.ONNX_PTQ_SKIP_NATIVE) return log('ONNX_PTQ_SKIP_NATIVE is set: native addon not built');
  if (!process.env.ONNX_PTQ_BUILD_FROM_SOURCE && prebuiltLoads()) return;
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
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
