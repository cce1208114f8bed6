// Prints the kernel sources of native/sources.txt, one per line, relative to the package root.
// wasm/build-wasm.mjs reads the list through this script; CMakeLists.txt (the addon) reads the file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function kernelSources() {
  const text = readFileSync(fileURLToPath(new URL('../native/sources.txt', import.meta.url)), 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${kernelSources().join('\n')}\n`);
}
