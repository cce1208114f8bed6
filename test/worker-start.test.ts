// The node options a package worker starts with (src/runtime/worker/start.ts): the parent's, less
// --input-type (a worker started from a file refuses it) and, for a compiled worker script, less
// tsx's module hooks in every spelling the tsx command and `--import tsx` use; a script run from
// TypeScript keeps them, and so do other hooks and options. Which file a compiled worker starts
// from: its bundle only while none of the modules it holds is newer (scripts/bundle-workers.mjs).
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
  /**
   * A folder with caller.js, w.js, dep.js and w.bundle.js holding both (its .inputs.json), the bundle
   * made at time 0 and each file at the time given (seconds; undefined: no such file).
   */
  const folder = (t: { bundle?: number; w?: number; dep?: number; list?: string[] | 'none' | 'not json' }) => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-worker-'));
    const now = Date.now() / 1000;
    writeFileSync(join(dir, 'caller.js'), '');
    const put = (f: string, at: number | undefined) => {
      if (at === undefined) return;
      writeFileSync(join(dir, f), '');
      utimesSync(join(dir, f), now + at, now + at);
    };
    put('w.js', t.w ?? -1);
    put('dep.js', t.dep ?? -1);
    put('w.bundle.js', t.bundle);
    const list = join(dir, 'w.bundle.js.inputs.json');
    if (t.list === 'not json') writeFileSync(list, '{ inputs: [');
    else if (t.list !== 'none') writeFileSync(list, JSON.stringify({ inputs: t.list ?? ['./w.js', './dep.js'] }));
    return { dir, caller: pathToFileURL(join(dir, 'caller.js')).href };
  };
  const started = (t: Parameters<typeof folder>[0]) => {
    const { dir, caller } = folder(t);
    try {
      return workerScriptUrl(caller, 'w').pathname.split('/').pop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('takes the bundle while none of its modules is newer', () => {
    expect(started({ bundle: 0 })).toBe('w.bundle.js');
    expect(started({ bundle: 0, w: 0, dep: 0 })).toBe('w.bundle.js'); // npm pack gives every file one time
  });

  it('starts the script when a module is newer (tsc since; tsc --watch rewrites one), or the bundle, its list or a listed file is missing', () => {
    expect(started({ bundle: 0, w: 5 })).toBe('w.js');
    expect(started({ bundle: 0, dep: 5 })).toBe('w.js');
    expect(started({})).toBe('w.js');
    expect(started({ bundle: 0, list: 'none' })).toBe('w.js');
    expect(started({ bundle: 0, list: ['./w.js', './gone.js'] })).toBe('w.js');
    expect(started({ bundle: 0, list: [] })).toBe('w.js');
    expect(started({ bundle: 0, list: 'not json' })).toBe('w.js');
  });

  it('ONNX_PTQ_WORKER_BUNDLE=0 starts the script', () => {
    process.env.ONNX_PTQ_WORKER_BUNDLE = '0';
    try {
      expect(started({ bundle: 0 })).toBe('w.js');
    } finally {
      delete process.env.ONNX_PTQ_WORKER_BUNDLE;
    }
  });
});
