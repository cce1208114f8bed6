// Builds the prebuilt N-API addon shipped in the package: prebuilds/<platform>-<arch>/onnxptq.node.
// Runs as `prepack` (so `npm pack` / `npm publish` always ship a binary built from the sources being
// packed, never a stale one: prebuilds/ is not in git) and `postpack` removes it again, so a checkout
// keeps loading the addon it compiles itself. Same sources and flags as `npm run build:native`
// (CMakeLists.txt via cmake-js, incremental in build/), then copied and stripped of debug symbols.
// N-API (NAPI_VERSION 8): one binary serves every Node version >= 20 on the platform; it links only
// against the C++ runtime and glibc of the build machine, so a host with an older glibc (or musl)
// fails to load it and falls back to compiling, or to wasm (`onnx-ptq backends` says why).
// Usage: node scripts/prebuild.mjs [--clean]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const platform = `${process.platform}-${process.arch}`;
const dir = join(root, 'prebuilds', platform);
const log = (msg) => console.log(`[onnx-ptq] ${msg}`);

if (process.argv.includes('--clean')) {
  rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
  process.exit(0);
}
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`[onnx-ptq] prebuild: the addon build failed (${r.error?.message ?? `exit ${r.status}`})`);
  process.exit(1);
}
mkdirSync(dir, { recursive: true });
const out = join(dir, 'onnxptq.node');
copyFileSync(join(root, 'build', 'Release', 'onnxptq.node'), out);
const strip = spawnSync('strip', ['--strip-debug', out], { stdio: 'inherit' });
if (strip.error) log('strip not found: the prebuilt keeps its symbols');
// A prebuilt that does not load here would be shipped broken: load it before packing.
const addon = createRequire(import.meta.url)(out);
if (typeof addon.info !== 'function') throw new Error(`${out} does not export info()`);
log(
  `prebuilt ${join('prebuilds', platform, 'onnxptq.node')} (${addon
    .info()
    .variants.filter((v) => v.available)
    .map((v) => v.name)
    .join(', ')})`,
);
