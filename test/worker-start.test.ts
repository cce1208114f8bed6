// The node options a package worker starts with (src/runtime/worker/start.ts): the parent's, less
// --input-type (a worker started from a file refuses it) and, for a compiled worker script, less
// tsx's module hooks in every spelling the tsx command and `--import tsx` use; a script run from
// TypeScript keeps them, and so do other hooks and options.
import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../src/runtime/worker/start.js';

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
