// Prints the kernel sources of native/sources.txt, one per line, relative to the package root.
// binding.gyp and wasm/build-wasm.mjs read the list through this script; CMakeLists.txt reads the file.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function kernelSources() {
  const text = readFileSync(fileURLToPath(new URL('../native/sources.txt', import.meta.url)), 'utf8');
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** The N-API glue sources (native/napi/*.cc): the addon builds only. */
export function napiSources() {
  const dir = fileURLToPath(new URL('../native/napi/', import.meta.url));
  return readdirSync(dir).filter((f) => f.endsWith('.cc')).sort().map((f) => `native/napi/${f}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const list = process.argv.includes('--napi') ? napiSources() : kernelSources();
  process.stdout.write(list.join('\n') + '\n');
}
