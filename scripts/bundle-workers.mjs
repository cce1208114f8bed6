// Bundles each worker thread's entry module (dist/, after tsc) into one file beside it, so that a
// worker loads one module instead of the package's ~150. Beside each bundle, `<bundle>.inputs.json`
// lists the modules it holds (relative to its folder): src/runtime/worker/start.ts workerScriptUrl
// takes a bundle only while none of them is newer (a tsc run since, or tsc --watch rewriting one
// module, would leave it running old code). Packages stay external (they resolve from dist/ as
// before). Every module keeps its own import.meta.url: each `import.meta.url`
// becomes the URL of the module it was written in, relative to the bundle's, so that paths computed
// from it (the addon, the wasm module, package.json, a worker's own worker) resolve as unbundled.
// Without esbuild (an install without devDependencies) this says so and leaves the modules as they
// are: workers then load them.
//   node scripts/bundle-workers.mjs
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORKERS = ['dist/ptq/calibrate-worker', 'dist/runtime/worker/session-worker'];

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('bundle-workers: esbuild is not installed; worker threads will load the modules of dist/ one by one');
  process.exit(0);
}

for (const w of WORKERS) {
  const out = resolve(root, `${w}.bundle.js`);
  const outDir = dirname(out);
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (args) => {
        const src = await readFile(args.path, 'utf8');
        const rel = relative(outDir, args.path).split('\\').join('/');
        const url = `new URL(${JSON.stringify(rel.startsWith('.') ? rel : `./${rel}`)}, import.meta.url).href`;
        return { contents: src.replace(/\bimport\.meta\.url\b/g, url), loader: 'js' };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [resolve(root, `${w}.js`)],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    plugins: [ownUrl],
    logLevel: 'warning',
    metafile: true,
    absWorkingDir: root,
  });
  const inputs = Object.keys(result.metafile.inputs).map((f) => relative(outDir, resolve(root, f)).split('\\').join('/'));
  await writeFile(`${out}.inputs.json`, `${JSON.stringify({ inputs }, null, 1)}\n`);
}
