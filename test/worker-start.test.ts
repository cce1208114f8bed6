// The node options a package worker starts with (src/runtime/worker/start.ts): the parent's, less
// --input-type (a worker started from a file refuses it) and, for a compiled worker script, less
// tsx's module hooks in every spelling the tsx command and `--import tsx` use; a script run from
// TypeScript keeps them, and so do other hooks and options. Which file a compiled worker starts
// from: its bundle only when that is not older than the script (scripts/bundle-workers.mjs).
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workerExecArgv, workerScriptUrl } from '../src/runtime/worker/start.js';

const preflight = '/p/node_modules/tsx/dist/preflight.cjs';
const loader = 'file:///p/node_modules/tsx/dist/loader.mjs';

describe('workerExecArgv', () => {
  it('drops tsx hooks for a compiled script, in every spelling', () => {
    const argv = ['--require', preflight, '--import', loader, `--import=tsx`, '-r', preflight, '--loader', 'tsx', '--trace-gc'];
    expect(workerExecArgv(argv, true)).toEqual(['--trace-gc']);
    expect(workerExecArgv(['--import', 'tsx', '--max-old-space-size=512'], true)).toEqual(['--max-old-space-size=512']);
  });

  it('keeps them for a TypeScript script, and keeps other hooks and options', () => {
    const argv = ['--require', preflight, '--import', loader, '--import', './otel.mjs', '--require=./pnp.cjs', '--enable-source-maps'];
    expect(workerExecArgv(argv, false)).toEqual(argv);
    expect(workerExecArgv(argv, true)).toEqual(['--import', './otel.mjs', '--require=./pnp.cjs', '--enable-source-maps']);
  });

  it('drops --input-type in both spellings, with or without tsx', () => {
    expect(workerExecArgv(['--input-type', 'module', '--trace-gc', '--input-type=commonjs'], false)).toEqual(['--trace-gc']);
    expect(workerExecArgv(['--input-type=module', '--import', 'tsx'], false)).toEqual(['--import', 'tsx']);
  });
});

describe('workerScriptUrl', () => {
  /** A folder with caller.js, w.js and (unless bundleAge is undefined) w.bundle.js, the bundle bundleAge s older than w.js. */
  const folder = (bundleAge: number | undefined) => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-worker-'));
    for (const f of ['caller.js', 'w.js']) writeFileSync(join(dir, f), '');
    const t = Date.now() / 1000;
    utimesSync(join(dir, 'w.js'), t, t);
    if (bundleAge !== undefined) {
      writeFileSync(join(dir, 'w.bundle.js'), '');
      utimesSync(join(dir, 'w.bundle.js'), t - bundleAge, t - bundleAge);
    }
    return { dir, caller: pathToFileURL(join(dir, 'caller.js')).href };
  };
  const file = (u: URL) => u.pathname.split('/').pop();

  it('takes a bundle as new as the script, and the script when the bundle is older, missing or not asked for', () => {
    const cases: [number | undefined, string | undefined, string][] = [
      [0, './w.bundle.js', 'w.bundle.js'],
      [-5, './w.bundle.js', 'w.bundle.js'],
      [5, './w.bundle.js', 'w.js'], // tsc ran after the bundle was made: it would run old code
      [undefined, './w.bundle.js', 'w.js'],
      [0, undefined, 'w.js'],
    ];
    for (const [age, bundle, want] of cases) {
      const { dir, caller } = folder(age);
      try {
        expect(file(workerScriptUrl(caller, 'w', bundle)), `bundle age ${age}`).toBe(want);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('ONNX_PTQ_WORKER_BUNDLE=0 starts the script', () => {
    const { dir, caller } = folder(0);
    process.env.ONNX_PTQ_WORKER_BUNDLE = '0';
    try {
      expect(file(workerScriptUrl(caller, 'w', './w.bundle.js'))).toBe('w.js');
    } finally {
      delete process.env.ONNX_PTQ_WORKER_BUNDLE;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
