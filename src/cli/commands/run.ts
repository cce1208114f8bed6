// `onnx-ptq run model.onnx --input name=file ... [--backend b] [--output-dir d] [--json]`: runs the
// float model on .npy or TensorProto .pb inputs and writes every output as <output-dir>/<name>.npy.
import { mkdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { OnnxPtqError, check } from '../../errors.js';
import { loadTensorProto } from '../../onnx/io.js';
import { readNpy, writeNpy } from '../../io/npy.js';
import { InferenceSession } from '../../runtime/session.js';
import type { BackendRequest } from '../../backends/types.js';
import type { Tensor } from '../../tensor.js';
import { parse } from '../args.js';

const HELP = `usage: onnx-ptq run <model.onnx> --input <name>=<file> [--input ...] [--backend auto|native|wasm|js]
                    [--output-dir <dir>] [--allow-non-finite] [--json] [--quiet]

Runs the float model. Input files are .npy or serialized TensorProto (.pb); with a single-input
model the name may be left out (--input file.npy). Each output is written as <dir>/<output>.npy
(default dir: the current directory).

  --allow-non-finite  accept NaN and infinities in the inputs (refused by default)
  --json       print each output's name, dtype, shape and summary statistics as JSON
  --quiet, -q  print nothing (the .npy files are still written)

example:
  onnx-ptq run ../shared/fixtures/models/mnist-8/model.onnx \\
    --input Input3=../shared/fixtures/models/mnist-8/test_data_set_0/input_0.pb --output-dir out --json`;

export interface OutputSummary {
  name: string;
  dtype: string;
  shape: number[];
  file: string;
  min: number;
  max: number;
  mean: number;
  std: number;
}

function readInput(file: string): Tensor {
  const ext = extname(file).toLowerCase();
  if (ext === '.npy') return readNpy(file);
  if (ext === '.pb') return loadTensorProto(file).tensor;
  throw new OnnxPtqError('INVALID_OPTION', `input file '${file}' must be .npy or .pb (serialized TensorProto)`);
}

function stats(t: Tensor): { min: number; max: number; mean: number; std: number } {
  if (Array.isArray(t.data) || t.size === 0) return { min: NaN, max: NaN, mean: NaN, std: NaN };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  const d = t.data as ArrayLike<number | bigint>;
  for (let i = 0; i < d.length; i++) {
    const v = Number(d[i]);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
  }
  const mean = sum / t.size;
  return { min, max, mean, std: Math.sqrt(Math.max(0, sq / t.size - mean * mean)) };
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    input: { type: 'string', multiple: true },
    backend: { type: 'string' },
    'output-dir': { type: 'string' },
    'allow-non-finite': { type: 'boolean' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(HELP);
    return 2;
  }
  const session = await InferenceSession.create(positionals[0]!, {
    backend: (values.backend as BackendRequest | undefined) ?? 'auto',
    allowNonFinite: values['allow-non-finite'] === true,
  });
  const feeds: Record<string, Tensor> = {};
  for (const spec of (values.input as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=');
    let name: string;
    let file: string;
    if (eq > 0) {
      name = spec.slice(0, eq);
      file = spec.slice(eq + 1);
    } else {
      check(session.inputNames.length === 1, 'INVALID_OPTION', `--input '${spec}' needs a name (name=file): the model has inputs ${session.inputNames.join(', ')}`);
      name = session.inputNames[0]!;
      file = spec;
    }
    check(!(name in feeds), 'INVALID_OPTION', `input '${name}' given twice`);
    feeds[name] = readInput(file);
  }
  const outputs = await session.run(feeds);
  const dir = (values['output-dir'] as string | undefined) ?? '.';
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new OnnxPtqError('IO_ERROR', `cannot create output directory '${dir}': ${(e as Error).message}`);
  }
  const summaries: OutputSummary[] = [];
  for (const [name, t] of Object.entries(outputs)) {
    const file = join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`);
    writeNpy(file, t);
    summaries.push({ name, dtype: t.dtype, shape: [...t.dims], file, ...stats(t) });
  }
  if (values.quiet) return 0;
  if (values.json) console.log(JSON.stringify({ backend: session.backend, outputs: summaries }, null, 2));
  else
    for (const s of summaries)
      console.log(`${s.name}: ${s.dtype}[${s.shape.join(', ')}] -> ${s.file}  min ${s.min.toPrecision(6)} max ${s.max.toPrecision(6)} mean ${s.mean.toPrecision(6)} std ${s.std.toPrecision(6)}`);
  return 0;
}
