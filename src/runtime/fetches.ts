/**
 * The onnxruntime-shaped arguments of `run()`, shared by both sessions:
 *
 *   run(feeds)                     every graph output
 *   run(feeds, options)            the same (RunOptions)
 *   run(feeds, ['y', 'z'], options?)   these outputs (an array of names)
 *   run(feeds, { y: null, z: t }, options?)   these outputs; a Tensor value is pre-allocated: the
 *                                  result is copied into it and it is returned (dtype and dims must match)
 *   run(feeds, { outputs: ['y'] }) the form before onnxruntime's shape (still accepted: `outputs` as
 *                                  a RunOptions key)
 *
 * As in onnxruntime-common, an object is fetches when one of its keys is an output name whose value is
 * null or a Tensor; otherwise it is options.
 */
import { OnnxPtqError, check } from '../errors.js';
import { Tensor } from '../tensor.js';

/** Output names, or an object whose keys are output names (values null, or a pre-allocated Tensor). */
export type FetchesType = readonly string[] | Record<string, Tensor | null>;

/** onnxruntime's RunOptions: accepted (tag, log levels, terminate, extra have no effect here). */
export interface RunOptions {
  /** Outputs to return (the form before onnxruntime-shaped fetches; prefer `run(feeds, names)`). */
  outputs?: readonly string[];
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  logVerbosityLevel?: number;
  terminate?: boolean;
  tag?: string;
  extra?: Record<string, unknown>;
}

export interface ResolvedFetches {
  /** Names to return; undefined: every graph output. */
  names: string[] | undefined;
  /** Pre-allocated outputs by name. */
  preallocated: Map<string, Tensor>;
}

/**
 * Sorts `run(feeds, arg1, arg2)` into fetch names and pre-allocated outputs. `known(name)` says
 * whether a name can be fetched; `outputNames` are the graph outputs (for the fetches-or-options rule
 * and for messages).
 */
export function resolveFetches(
  arg1: unknown,
  arg2: unknown,
  outputNames: readonly string[],
  known: (name: string) => boolean,
): ResolvedFetches {
  const preallocated = new Map<string, Tensor>();
  const checkName = (n: unknown): string => {
    check(typeof n === 'string' && known(n), 'INVALID_INPUT', () => `unknown output '${String(n)}'; outputs are ${outputNames.join(', ')}`);
    return n as string;
  };
  const checkOptions = (o: unknown): RunOptions => {
    check(
      o === undefined || (typeof o === 'object' && o !== null && !Array.isArray(o)),
      'INVALID_ARGUMENT',
      "run(): 'options' must be an object",
    );
    return (o ?? {}) as RunOptions;
  };
  if (arg1 === undefined || arg1 === null) {
    checkOptions(arg2);
    return { names: undefined, preallocated };
  }
  if (Array.isArray(arg1)) {
    checkOptions(arg2);
    const names = arg1.map(checkName);
    check(new Set(names).size === names.length, 'INVALID_INPUT', () => `fetches name an output twice: ${names.join(', ')}`);
    return { names, preallocated };
  }
  check(
    typeof arg1 === 'object',
    'INVALID_ARGUMENT',
    'run(): the second argument must be an array of output names, a fetches object or options',
  );
  const obj = arg1 as Record<string, unknown>;
  const keys = Object.keys(obj);
  const isFetches = keys.some((k) => known(k) && (obj[k] === null || obj[k] instanceof Tensor));
  if (isFetches) {
    checkOptions(arg2);
    for (const k of keys) {
      const v = obj[k];
      checkName(k);
      check(v === null || v instanceof Tensor, 'INVALID_INPUT', () => `fetches['${k}'] must be null or a pre-allocated Tensor`);
      if (v instanceof Tensor) preallocated.set(k, v);
    }
    return { names: keys, preallocated };
  }
  check(
    arg2 === undefined,
    'INVALID_ARGUMENT',
    'run(feeds, options, ...): options must be the last argument (fetches are an array of names or an object of output names)',
  );
  const opts = checkOptions(arg1);
  if (opts.outputs === undefined) return { names: undefined, preallocated };
  check(Array.isArray(opts.outputs), 'INVALID_ARGUMENT', 'run(): options.outputs must be an array of output names');
  return { names: opts.outputs.map(checkName), preallocated };
}

/** Copies each result into its pre-allocated tensor (same dtype and dims) and returns that tensor in its place. */
export function fillPreallocated(results: Record<string, Tensor>, preallocated: ReadonlyMap<string, Tensor>): Record<string, Tensor> {
  if (preallocated.size === 0) return results;
  const out = { ...results };
  for (const [name, dst] of preallocated) {
    const src = results[name];
    if (!src) throw new OnnxPtqError('INTERNAL', `output '${name}' was not computed`);
    check(
      dst.dtype === src.dtype && dst.dims.length === src.dims.length && dst.dims.every((d, i) => d === src.dims[i]),
      'INVALID_INPUT',
      () => `pre-allocated output '${name}' is ${dst.dtype}[${dst.dims.join(', ')}]; the output is ${src.dtype}[${src.dims.join(', ')}]`,
    );
    if (Array.isArray(dst.data)) (dst.data as string[]).splice(0, dst.data.length, ...(src.data as string[]));
    else (dst.data as Uint8Array).set(src.data as Uint8Array);
    out[name] = dst;
  }
  return out;
}
