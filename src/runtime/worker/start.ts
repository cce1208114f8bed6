// Starting one of the package's worker scripts (session runner, calibration workers): the compiled
// .js beside the caller (or its one-file bundle, see workerScriptUrl), or under tsx (tests, tsx
// scripts) the .ts through an eval worker that registers tsx first, since a worker's execArgv does
// not carry module hooks in Node 20.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Options that take a value: a module hook to load, or the input type. */
const WITH_VALUE = new Set(['--input-type', '--import', '--require', '-r', '--loader', '--experimental-loader']);

/** tsx's hooks (`--import tsx`, or its preflight and loader files, as the tsx command passes them). */
const isTsxHook = (v: string) => v === 'tsx' || /[\\/]tsx[\\/]dist[\\/]/.test(v);

/**
 * The parent's node options, less those a worker started from a file refuses (a parent run as
 * `node --input-type=module -e ...` made every worker fail to start), and for a compiled script
 * less tsx's hooks, which only transpile TypeScript and cost a calibration worker ~0.15 s of
 * start-up (a worker importing the calibration modules: 0.20 s to its first line without them,
 * 0.34-0.36 s with `--import tsx`). @internal (exported for tests)
 */
export function workerExecArgv(argv: readonly string[], compiled: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = WITH_VALUE.has(a) ? argv[i + 1] : undefined;
    const eq = next === undefined ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = next ?? (eq > 0 ? a.slice(eq + 1) : '');
    const drop = flag === '--input-type' || (compiled && WITH_VALUE.has(flag) && isTsxHook(value));
    if (!drop) out.push(a, ...(next !== undefined ? [next] : []));
    if (next !== undefined) i++;
  }
  return out;
}

function newWorker(callerUrl: string, script: string, workerData: unknown, execArgv: string[]): Worker {
  if (callerUrl.endsWith('.ts')) {
    const url = new URL(`./${script}.ts`, callerUrl).href;
    const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
    return new Worker(code, { eval: true, workerData, execArgv });
  }
  return new Worker(workerScriptUrl(callerUrl, script), { workerData, execArgv });
}

const chosen = new Map<string, URL>();

/**
 * The compiled worker script `script` beside `callerUrl`, or its bundle `<script>.bundle.js` beside
 * it when the build made one (scripts/bundle-workers.mjs) and none of the modules it holds
 * (its `.inputs.json`) is newer than it: one module for the worker to load instead of the package's
 * ~150, which on two busy cores took a calibration worker 0.14-0.19 s instead of 0.08-0.12 s. A
 * module rewritten since (tsc, or tsc --watch rewriting one) means the bundle would run old code:
 * the script then starts as it is, as it does without a bundle or its list. ONNX_PTQ_WORKER_BUNDLE=0
 * turns bundles off. Decided once per script (~150 file stats).
 * @internal (exported for tests)
 */
export function workerScriptUrl(callerUrl: string, script: string): URL {
  const module = new URL(`./${script}.js`, callerUrl);
  if (process.env.ONNX_PTQ_WORKER_BUNDLE === '0') return module;
  let url = chosen.get(module.href);
  if (!url) {
    const b = new URL(`./${script}.bundle.js`, callerUrl);
    url = bundleIsFresh(b) ? b : module;
    chosen.set(module.href, url);
  }
  return url;
}

/**
 * Whether bundle `b` exists with its list of inputs, each present and not newer than it. Anything
 * unreadable (a missing or foreign list, a file it cannot stat) means no: the script starts as it is.
 */
function bundleIsFresh(b: URL): boolean {
  try {
    const mtime = (u: URL) => statSync(fileURLToPath(u), { throwIfNoEntry: false })?.mtimeMs;
    const bt = mtime(b);
    if (bt === undefined) return false;
    const inputs = (JSON.parse(readFileSync(fileURLToPath(new URL(`${b.href}.inputs.json`)), 'utf8')) as { inputs?: unknown }).inputs;
    if (!Array.isArray(inputs) || inputs.length === 0) return false;
    return inputs.every((f) => {
      const t = typeof f === 'string' ? mtime(new URL(f, b)) : undefined;
      return t !== undefined && t <= bt;
    });
  } catch {
    return false;
  }
}

/**
 * Starts worker script `script` (no extension) next to the module at `callerUrl` (its
 * import.meta.url), or its bundle (workerScriptUrl). A parent started with an option workers
 * refuse (V8 flags such as --trace-gc or --max-old-space-size) made `new Worker` throw
 * ERR_WORKER_INVALID_EXEC_ARGV: the worker then starts with no options, since it needs none of the
 * parent's to run.
 */
export function startWorkerScript(callerUrl: string, script: string, workerData: unknown): Worker {
  try {
    return newWorker(callerUrl, script, workerData, workerExecArgv(process.execArgv, !callerUrl.endsWith('.ts')));
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    return newWorker(callerUrl, script, workerData, []);
  }
}
