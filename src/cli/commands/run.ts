// `onnx-ptq run model.onnx --input name=file ... [--executor integer|float] [--backend b] [--output-dir d] [--json]`:
// runs a model on .npy or TensorProto .pb inputs and writes every output as <output-dir>/<name>.npy.
// A quantized model (QDQ or QOperator) runs on the integer-only executor by default, a float model on
// the float engine; the output names the executor and the backend that actually ran.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { OnnxPtqError, check } from '../../errors.js';
import { loadModel, loadTensorProto } from '../../onnx/io.js';
import { readNpy, writeNpy } from '../../io/npy.js';
import type { Model } from '../../ir/graph.js';
import { InferenceSession } from '../../runtime/session.js';
import { IntegerSession } from '../../runtime/integer/session.js';
import { quantizationInfo, type QuantizationInfo } from '../../runtime/integer/detect.js';
import type { BackendName, BackendRequest } from '../../backends/types.js';
import { REQUANT_MODES, type RequantMode } from '../../quant/requant.js';
import type { Tensor } from '../../tensor.js';
import { parse } from '../args.js';

const HELP = `usage: onnx-ptq run <model.onnx> --input [<name>=]<file> [--input ...] [--input-dir <dir>] [options]

Runs a model. A quantized model (QDQ: QuantizeLinear/DequantizeLinear; QOperator: QLinearConv,
QLinearMatMul, ConvInteger, MatMulInteger, com.microsoft QLinearAdd, ...) runs on the integer-only
executor, a float model on the float engine. Input files are .npy or serialized TensorProto (.pb);
the name may be left out for a single-input model or a .pb whose TensorProto names a model input.
Each output is written as <dir>/<output>.npy.

  --executor integer|float    default: integer for a quantized model, float otherwise
  --backend auto|native|wasm|js   default auto (ONNX_PTQ_BACKEND, else native, then wasm, then js);
                              the output names the backend that ran
  --requant-mode fixed-point|float|shift   integer executor: default the model's metadata_props
                              'onnx_ptq.requant_mode', else fixed-point; float reproduces onnxruntime
                              (and the ONNX reference outputs) bit for bit
  --strict-integer            integer executor: a node that would run in float is an error (default: it runs
                              in float, and the output lists it with the reason)
  --input-dir <dir>           every input_*.pb / .npy in <dir> (an ONNX test_data_set), in number order: by
                              the TensorProto's name, else by position
  --output-dir <dir>          default: the current directory
  --allow-non-finite          accept NaN and infinities in the inputs (default: refused)
  --json                      print the executor, backend and each output's name, dtype, shape and
                              summary statistics as JSON
  --quiet, -q                 print nothing (the .npy files are still written)

examples:
  onnx-ptq run ../shared/fixtures/models/mnist-8/model.onnx \\
    --input Input3=../shared/fixtures/models/mnist-8/test_data_set_0/input_0.pb --output-dir out --json
  onnx-ptq run ../shared/fixtures/onnx-node/test_qlinearconv/model.onnx --requant-mode float \\
    --input-dir ../shared/fixtures/onnx-node/test_qlinearconv/test_data_set_0`;

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

/** What `run --json` prints. */
export interface RunSummary {
  executor: 'integer' | 'float';
  /** The backend that ran (never 'auto'). */
  backend: BackendName;
  /** The model's quantization form. */
  quantization: QuantizationInfo['format'];
  /** Integer executor: its requantization mode. */
  requantMode?: RequantMode;
  /** Integer executor: nodes that ran in float, with the reason. */
  floatNodes?: { node: string; opType: string; reason: string }[];
  outputs: OutputSummary[];
}

interface Input {
  tensor: Tensor;
  /** The TensorProto's name (.pb), if any. */
  protoName?: string;
}

function readInput(file: string): Input {
  const ext = extname(file).toLowerCase();
  if (ext === '.npy') return { tensor: readNpy(file) };
  if (ext === '.pb') {
    const p = loadTensorProto(file);
    return { tensor: p.tensor, protoName: p.name || undefined };
  }
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

/** input_0.pb, input_1.pb, ... (or .npy) of a test data set, in number order. */
function inputDirFiles(dir: string): string[] {
  let names: string[];
  try {
    check(statSync(dir).isDirectory(), 'INVALID_OPTION', `--input-dir '${dir}' is not a directory`);
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof OnnxPtqError) throw e;
    throw new OnnxPtqError('IO_ERROR', `cannot read --input-dir '${dir}': ${(e as Error).message}`);
  }
  const files = names.filter((f) => /^input_\d+\.(pb|npy)$/i.test(f)).sort((a, b) => parseInt(a.slice(6), 10) - parseInt(b.slice(6), 10));
  check(files.length > 0, 'INVALID_OPTION', `--input-dir '${dir}' holds no input_<n>.pb or input_<n>.npy files`);
  return files.map((f) => join(dir, f));
}

/** Feeds from --input specs and --input-dir files, checked against the model's inputs by name. */
function readFeeds(inputNames: readonly string[], specs: readonly string[], dirFiles: readonly string[]): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  const put = (name: string, t: Tensor, from: string) => {
    check(!(name in feeds), 'INVALID_OPTION', `input '${name}' given twice (again by ${from})`);
    feeds[name] = t;
  };
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    // name=file, unless the '=' belongs to the path (no such input name).
    if (eq > 0 && !/[\\/]/.test(spec.slice(0, eq))) {
      put(spec.slice(0, eq), readInput(spec.slice(eq + 1)).tensor, `--input ${spec}`);
      continue;
    }
    const x = readInput(spec);
    if (x.protoName && inputNames.includes(x.protoName)) put(x.protoName, x.tensor, `--input ${spec}`);
    else {
      check(
        inputNames.length === 1,
        'INVALID_OPTION',
        `--input '${spec}' needs a name (name=file): the model has inputs ${inputNames.join(', ')}${x.protoName ? ` and the TensorProto is named '${x.protoName}'` : ''}`,
      );
      put(inputNames[0]!, x.tensor, `--input ${spec}`);
    }
  }
  dirFiles.forEach((file, i) => {
    const x = readInput(file);
    if (x.protoName && inputNames.includes(x.protoName)) put(x.protoName, x.tensor, file);
    else {
      check(
        i < inputNames.length,
        'INVALID_OPTION',
        `'${file}' is input #${i}, but the model has ${inputNames.length} inputs (${inputNames.join(', ')})`,
      );
      put(inputNames[i]!, x.tensor, file);
    }
  });
  return feeds;
}

const OWN_ERRORS = new Set(['INVALID_INPUT', 'INVALID_OPTION', 'IO_ERROR']);

/**
 * The integer executor's failure as the user should read it: the node and the reason (from the
 * lowering), and `--executor float` when the float engine runs the model on these feeds.
 */
function integerFailure(
  e: OnnxPtqError,
  model: Model,
  feeds: Record<string, Tensor>,
  backend: BackendRequest,
  allowNonFinite: boolean,
): OnnxPtqError {
  let floatRuns = false;
  let floatWhy = '';
  try {
    // Created and run on the calling thread, on the same feeds: the suggestion is only made when it works.
    const s = InferenceSession.createSync(model, { backend, allowNonFinite, runInWorker: false });
    s.runSync(feeds);
    floatRuns = true;
  } catch (f) {
    // The same failure in the float engine (a shape these inputs cannot take): not the integer executor's, as it was.
    if (f instanceof OnnxPtqError && f.code === e.code && (f.code === 'SHAPE_MISMATCH' || f.code === 'INVALID_INPUT')) return e;
    floatWhy = f instanceof OnnxPtqError ? f.message : String(f);
  }
  const hint = floatRuns
    ? '; the float engine runs this model: use --executor float'
    : `; the float engine cannot run it either (${floatWhy})`;
  return new OnnxPtqError(e.code, `the integer executor cannot run this quantized model: ${e.message}${hint}`, { cause: e });
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    input: { type: 'string', multiple: true },
    'input-dir': { type: 'string' },
    executor: { type: 'string' },
    backend: { type: 'string' },
    'requant-mode': { type: 'string' },
    'strict-integer': { type: 'boolean' },
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
  const backend = ((values.backend as string | undefined) ?? 'auto') as BackendRequest;
  check(
    ['auto', 'native', 'wasm', 'js'].includes(backend),
    'INVALID_OPTION',
    `--backend must be auto, native, wasm or js; got '${backend}'`,
  );
  const executorOpt = values.executor as string | undefined;
  check(
    executorOpt === undefined || executorOpt === 'integer' || executorOpt === 'float',
    'INVALID_OPTION',
    `--executor must be integer or float; got '${String(executorOpt)}'`,
  );
  const requantMode = values['requant-mode'] as RequantMode | undefined;
  check(
    requantMode === undefined || REQUANT_MODES.includes(requantMode),
    'INVALID_OPTION',
    `--requant-mode must be one of ${REQUANT_MODES.join(', ')}; got '${String(requantMode)}'`,
  );
  const allowNonFinite = values['allow-non-finite'] === true;
  const strict = values['strict-integer'] === true;

  const model = loadModel(positionals[0]!);
  const quant = quantizationInfo(model);
  const executor = (executorOpt ?? (quant.format === 'float' ? 'float' : 'integer')) as 'integer' | 'float';
  check(
    executor === 'integer' || (requantMode === undefined && !strict),
    'INVALID_OPTION',
    '--requant-mode and --strict-integer apply to the integer executor (--executor integer)',
  );
  const inputNames = model.graph.runtimeInputs.map((v) => v.name);
  const feeds = readFeeds(
    inputNames,
    (values.input as string[] | undefined) ?? [],
    values['input-dir'] ? inputDirFiles(values['input-dir'] as string) : [],
  );

  let outputs: Record<string, Tensor>;
  let summary: Omit<RunSummary, 'outputs'>;
  if (executor === 'float') {
    const session = InferenceSession.createSync(model, { backend, allowNonFinite, runInWorker: false });
    outputs = session.runSync(feeds);
    summary = { executor, backend: session.backendName, quantization: quant.format };
  } else {
    let session: IntegerSession;
    try {
      session = IntegerSession.createSync(model, { backend, requantMode, allowNonFinite, strictInteger: strict, runInWorker: false });
      outputs = session.runSync(feeds);
    } catch (e) {
      if (e instanceof OnnxPtqError && !OWN_ERRORS.has(e.code)) throw integerFailure(e, model, feeds, backend, allowNonFinite);
      throw e;
    }
    const floatNodes = session
      .loweringReport()
      .filter((r) => r.execution === 'float')
      .map((r) => ({ node: r.node, opType: r.opType, reason: r.reason ?? 'no reason given' }));
    summary = { executor, backend: session.backendName, quantization: quant.format, requantMode: session.requantMode, floatNodes };
  }

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
  const result: RunSummary = { ...summary, outputs: summaries };
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  const how =
    result.executor === 'integer'
      ? `integer executor on the ${result.backend} backend (${result.requantMode} requantization; ${result.quantization} model)`
      : `float engine on the ${result.backend} backend${result.quantization !== 'float' ? ` (${result.quantization} model)` : ''}`;
  console.log(`ran ${positionals[0]} on the ${how}`);
  if (result.floatNodes?.length) {
    console.log(`${result.floatNodes.length} node(s) ran in float (--strict-integer refuses this):`);
    for (const f of result.floatNodes.slice(0, 20)) console.log(`  ${f.opType} '${f.node}': ${f.reason}`);
    if (result.floatNodes.length > 20) console.log(`  ... and ${result.floatNodes.length - 20} more`);
  }
  for (const s of summaries)
    console.log(
      `${s.name}: ${s.dtype}[${s.shape.join(', ')}] -> ${s.file}  min ${s.min.toPrecision(6)} max ${s.max.toPrecision(6)} mean ${s.mean.toPrecision(6)} std ${s.std.toPrecision(6)}`,
    );
  return 0;
}
