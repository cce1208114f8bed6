// With explicit workers, calibrate() and quantize() start the worker threads before they prepare
// the model (the threads wait for it by message). A run that fails before it calibrates must stop
// them: a thread still waiting would keep the process alive forever. A child process on dist/ runs
// such failures (the model cannot be read; the data is not iterable) and must exit by itself, then
// a run that does calibrate with early workers must give the one-thread statistics.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixture } from './fixtures.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const built = existsSync(join(root, 'dist', 'index.js'));
const mnist = fixture('models', 'mnist-8', 'model.onnx');

describe('calibration workers started before the model is prepared', () => {
  it.skipIf(!built || !mnist)(
    'stop when the run fails before calibrating, and calibrate as one thread otherwise',
    () => {
      const script = `
      import { calibrate, quantize, Tensor } from ${JSON.stringify(pathToFileURL(join(root, 'dist', 'index.js')).href)};
      const model = ${JSON.stringify(mnist)};
      const samples = Array.from({ length: 5 }, (_, i) => ({
        Input3: new Tensor('float32', Float32Array.from({ length: 784 }, (_, j) => ((i * 13 + j * 5) % 251) / 251), [1, 1, 28, 28]),
      }));
      const codes = [];
      for (const run of [
        () => quantize('/nonexistent/model.onnx', { calibration: samples, workers: 2 }),
        () => quantize(model, { calibration: 42, workers: 2 }),
        () => calibrate(model, { calibration: 42, workers: 2 }),
      ]) {
        try {
          await run();
          codes.push('none');
        } catch (e) {
          codes.push(e.code);
        }
      }
      const stats = async (workers) => JSON.stringify((await calibrate(model, { calibration: samples, workers, observer: 'minmax' })).tensors);
      console.log(JSON.stringify({ codes, same: (await stats(1)) === (await stats(2)) }));
    `;
      // A thread left waiting for its model would hold the child open until this timeout.
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { codes: string[]; same: boolean };
      expect(r.codes).toEqual(['IO_ERROR', 'INVALID_DATA', 'INVALID_DATA']);
      expect(r.same).toBe(true);
    },
    90_000,
  );
});
