// Starting one of the package's worker scripts (session runner, calibration workers): the compiled
// .js beside the caller, or under tsx (tests, tsx scripts) the .ts through an eval worker that
// registers tsx first, since a worker's execArgv does not carry module hooks in Node 20.
import { Worker } from 'node:worker_threads';

/**
 * The parent's node options, less those a worker started from a file refuses: a parent run as
 * `node --input-type=module -e ...` made every worker fail to start.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!argv[i]!.startsWith('--input-type=')) out.push(argv[i]!);
  }
  return out;
}

function newWorker(callerUrl: string, script: string, workerData: unknown, execArgv: string[]): Worker {
  if (callerUrl.endsWith('.ts')) {
    const url = new URL(`./${script}.ts`, callerUrl).href;
    const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
    return new Worker(code, { eval: true, workerData, execArgv });
  }
  return new Worker(new URL(`./${script}.js`, callerUrl), { workerData, execArgv });
}

/**
 * Starts worker script `script` (no extension) next to the module at `callerUrl` (its
 * import.meta.url). A parent started with an option workers refuse (V8 flags such as --trace-gc or
 * --max-old-space-size) made `new Worker` throw ERR_WORKER_INVALID_EXEC_ARGV: the worker then starts
 * with no options, since it needs none of the parent's to run.
 */
export function startWorkerScript(callerUrl: string, script: string, workerData: unknown): Worker {
  try {
    return newWorker(callerUrl, script, workerData, workerExecArgv());
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    return newWorker(callerUrl, script, workerData, []);
  }
}
