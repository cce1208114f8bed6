// The built package's worker threads start from their one-file bundles (scripts/bundle-workers.mjs,
// made by `npm run build`) and compute what the modules compute: a calibration whose every sample a
// worker observes gives the statistics of one thread, and a session's worker run gives runSync's
// bits. Run in a child process on dist/, as users run it (under vitest the workers load the
// TypeScript sources instead). Bundled modules keep their own import.meta.url, so the worker finds
// the native addon (paths.ts) and the session worker finds its own worker script.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture } from './fixtures.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const bundles = ['dist/ptq/calibrate-worker.bundle.js', 'dist/runtime/worker/session-worker.bundle.js'];
const built = bundles.every((b) => existsSync(join(root, b)));
const mnist = fixture('models', 'mnist-8', 'model.onnx');

describe('worker bundles', () => {
  // Elsewhere dist/ may not be built: the tests below then skip.
  it.skipIf(process.env.CI !== 'true')('is built by npm run build (CI builds it in npm ci)', () => {
    expect(built, 'run npm run build').toBe(true);
  });

  it.skipIf(!built)('keep each module its own import.meta.url: every use names a module file of dist/', () => {
    for (const b of bundles) {
      const text = readFileSync(join(root, b), 'utf8');
      const uses = text.match(/import\.meta\.url/g) ?? [];
      const own = [...text.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)].map((m) => m[1]!);
      expect(own.length, b).toBeGreaterThan(0);
      expect(own.length, `${b}: a bare import.meta.url would be the bundle's`).toBe(uses.length);
      for (const rel of own) expect(existsSync(resolve(dirname(join(root, b)), rel)), `${b}: ${rel}`).toBe(true);
    }
  });

  it.skipIf(!built || !mnist)(
    'start the workers of dist/ and give the modules results',
    () => {
      const url = (p: string) => pathToFileURL(join(root, p)).href;
      const script = `
      import { calibrate, InferenceSession, Tensor } from ${JSON.stringify(url('dist/index.js'))};
      import { workerScriptUrl } from ${JSON.stringify(url('dist/runtime/worker/start.js'))};
      const model = ${JSON.stringify(mnist)};
      const samples = Array.from({ length: 6 }, (_, i) => ({
        Input3: new Tensor('float32', Float32Array.from({ length: 784 }, (_, j) => ((i * 31 + j * 7) % 255) / 255), [1, 1, 28, 28]),
      }));
      const stats = async (workers) => {
        const s = await calibrate(model, { calibration: samples, workers, observer: 'minmax' });
        return JSON.stringify([s.samples, s.tensors, s.biasProbes]);
      };
      const one = await stats(1);
      process.env.ONNX_PTQ_TEST_CALIBRATION_WORKERS_ONLY = '1';
      const two = await stats(2);
      const session = await InferenceSession.create(model);
      const inWorker = await session.run(samples[1]);
      const here = session.runSync(samples[1]);
      await session.release();
      const name = Object.keys(here)[0];
      const bits = (t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('hex');
      const started = [
        workerScriptUrl(${JSON.stringify(url('dist/ptq/calibrate-workers.js'))}, 'calibrate-worker'),
        workerScriptUrl(${JSON.stringify(url('dist/runtime/worker/session-runner.js'))}, 'session-worker'),
      ].map((u) => u.pathname.split('/').pop());
      console.log(JSON.stringify({ sameStats: one === two, samples: JSON.parse(two)[0], sameRun: bits(inWorker[name]) === bits(here[name]), started }));
    `;
      const env = { ...process.env };
      delete env.ONNX_PTQ_WORKER_BUNDLE;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env, encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { sameStats: boolean; samples: number; sameRun: boolean; started: string[] };
      expect(r.started).toEqual(['calibrate-worker.bundle.js', 'session-worker.bundle.js']);
      expect(r.samples).toBe(6);
      expect(r.sameStats).toBe(true);
      expect(r.sameRun).toBe(true);
    },
    60_000,
  );
});
