/** `onnx-ptq quantize model.onnx -o out.onnx --calib <data> | --stats stats-*.json [--config ptq.json] [--report report.json]` */
import { OnnxPtqError } from '../../errors.js';
import { loadModel, saveModel } from '../../onnx/io.js';
import { quantize } from '../../ptq/quantize.js';
import { resolveQuantizeOptions } from '../../ptq/options.js';
import { loadStats, mergeStats } from '../../ptq/stats.js';
import { writeFileAtomic } from '../../report/write.js';
import type { Tensor } from '../../tensor.js';
import type { Model } from '../../ir/graph.js';
import { parse, type Parsed } from '../args.js';
import { DATA_HELP, DATA_OPTIONS, num, openModelData, readJson } from '../data-args.js';
import type { Dataset } from '../../data/dataset.js';

const HELP = `usage: onnx-ptq quantize <model.onnx> -o <out.onnx> --calib <data> [options]

Calibrates the float model on <data> and writes a standard QDQ ONNX model (int8 weights, int32
biases, QuantizeLinear/DequantizeLinear on activations).

  onnx-ptq quantize <model.onnx> -o <out.onnx> --stats stats-*.json [options]

With --stats, the statistics written by \`onnx-ptq calibrate\` (one file, or the shards of a split, merged
exactly) replace the calibration pass; they must come from this model and the same options. Work that
needs the data again (bias correction after single-shift) says so and then takes --calib too.

options (a --config JSON file takes the same keys as the API's QuantizeOptions; flags override it):
  --config <ptq.json>          options file; unknown keys are errors
  --report <report.json>       write the quantization report (ranges, scales, layers)
  --stats <a.json> [b.json..]  calibration statistics from \`onnx-ptq calibrate\` (shards are merged)
  --workers N                  calibration threads: this one and N-1 workers (default: the cores, the
                               workers once calibration proves long); the result is the same for any N
  --samples N                  calibration samples to use (default: all); from a folder or file, N spread
                               evenly across it and its classes (seeded), and a stderr line says which
  --samples-seed S             the seed of that spread (default 0)
  --observer minmax|moving-average|percentile|mse|kl   activation ranges (default minmax)
  --granularity per-tensor|per-channel|per-group|per-block   weights (default per-channel)
  --group-size N               per-group bucket, or per-block block size (power of 2 >= 16; default 64)
  --weight-format qdq|matmulnbits   per-block 4-bit MatMul weights as blocked DequantizeLinear (default)
                               or onnxruntime's com.microsoft MatMulNBits
  --weight-bits N              2..8 (default 8)    --activation-bits N  2..8, or 16 (A16W8; default 8)
  --activation16 a,b           hold these activation tensors in int16, the rest at --activation-bits
                               (A16W8 per tensor; default: none); 16-bit models are written at opset 21
  --weight-only                quantize weights only (default: weights and activations)
  --mode static|dynamic        dynamic: onnxruntime's quantize_dynamic format, activations quantized per run
                               from their own range, no --calib (MatMul/Gemm; default static)
  --keep-first --keep-last     keep the first/last layer in float (default: quantized)
  --keep-float a,b             keep these nodes in float (default: none)
  --requant-mode fixed-point|float|shift   written to metadata_props for the integer executor (default fixed-point)
  --no-rounding                PTQ without rounding (debug: separates rounding from clipping error; default: rounding)
  --strict-integer             fail (no file written) if any node of the result would run in float in
                               the integer executor, naming the node and why (default: allowed, listed by inspect)
  --passes a,b                 passes, in order: smooth-quant, layer-split, equalization, bias-correction,
                               sign-map, joining-nodes, single-shift, adaround (their options: "passOptions" in --config;
                               default: none beyond BatchNormalization folding and bias correction, which are on)
  --adaround                   learn each weight's rounding (AdaRound; appended to --passes; default: nearest)
  --adaround-iters N           steps per layer (default 2000)   --adaround-batch N  rows per step (default 512)
  --adaround-seed N            seed of the row sampling (default 0)   (other options: passOptions.adaround in --config)
  --json                       print the report summary as JSON
  --quiet, -q                  print nothing (the model and --report are still written), no progress either
                               (progress: a bar on a TTY; otherwise a line every 2 s with rate and ETA, on stderr)
${DATA_HELP}

examples:
  onnx-ptq quantize ../shared/fixtures/models/mnist-8/model.onnx -o mnist-int8.onnx \\
    --calib ../shared/fixtures/data/mnist/t10k-images-idx3-ubyte.gz --samples 100
  onnx-ptq quantize model.onnx -o q.onnx --calib calib/ --config ptq.json --report report.json`;

/** Flags shared by quantize and calibrate (those that shape the options). */
export const OPTION_FLAGS = {
  config: { type: 'string' },
  samples: { type: 'string' },
  'samples-seed': { type: 'string' },
  workers: { type: 'string' },
  observer: { type: 'string' },
  granularity: { type: 'string' },
  'weight-format': { type: 'string' },
  'group-size': { type: 'string' },
  'weight-bits': { type: 'string' },
  'activation-bits': { type: 'string' },
  activation16: { type: 'string' },
  'weight-only': { type: 'boolean' },
  mode: { type: 'string' },
  'keep-first': { type: 'boolean' },
  'keep-last': { type: 'boolean' },
  'keep-float': { type: 'string' },
  'requant-mode': { type: 'string' },
  'no-rounding': { type: 'boolean' },
  'strict-integer': { type: 'boolean' },
  passes: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  ...DATA_OPTIONS,
} as const;

/** The options of a command line: the --config file, then the flags over it. */
export function optionsFromFlags(values: Parsed['values']): Record<string, unknown> {
  const config = values.config ? readJson(values.config as string, 'config file') : {};
  // Check the file on its own first, so an error names the file rather than the merged options.
  if (values.config) resolveQuantizeOptions(config, `config file '${values.config}'`);
  const flags: Record<string, unknown> = {
    calibrationSamples: num(values.samples, 'samples', true),
    observer: values.observer,
    weightGranularity: values.granularity,
    weightGroupSize: num(values['group-size'], 'group-size', true),
    weightFormat: values['weight-format'],
    weightBits: num(values['weight-bits'], 'weight-bits', true),
    activationBits: num(values['activation-bits'], 'activation-bits', true),
    activation16: values.activation16
      ? String(values.activation16)
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : undefined,
    weightOnly: values['weight-only'],
    mode: values.mode,
    keepFirstLayerFloat: values['keep-first'],
    keepLastLayerFloat: values['keep-last'],
    keepFloat: values['keep-float'] ? String(values['keep-float']).split(',') : undefined,
    requantMode: values['requant-mode'],
    noRounding: values['no-rounding'],
    strictInteger: values['strict-integer'],
    passes:
      values.passes !== undefined
        ? String(values.passes)
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean)
        : undefined,
  };
  const merged = { ...config, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
  // Checked before any data is opened, so a bad value is the error reported (not a missing --calib).
  resolveQuantizeOptions(merged, 'the command line');
  return merged;
}

export function workersFlag(values: Parsed['values']): number | undefined {
  const w = num(values.workers, 'workers', true);
  if (w !== undefined && (w < 1 || w > 256)) throw new OnnxPtqError('INVALID_OPTION', `--workers must be in [1, 256], got ${w}`);
  return w;
}

/**
 * Opens --calib as a re-iterable (smooth-quant, equalization's including_activation and single-shift's
 * bias correction read the data twice; each pass re-opens it from its source), --samples N spread evenly.
 */
export function openCalibration(
  model: Model,
  values: Parsed['values'],
  samples: number | undefined,
  shard?: { index: number; count: number },
): { calibration: Iterable<Record<string, Tensor>>; ds: Dataset } {
  const seed = num(values['samples-seed'], 'samples-seed', true) ?? 0;
  const ds = openModelData(model, values.calib as string, values, { ...(samples ? { pick: { count: samples, seed } } : {}), shard });
  // Said on stderr, so that --json stays the report alone.
  if (ds.selection && !values.quiet) process.stderr.write(`calibration data: ${ds.source}: ${ds.selection}\n`);
  return { calibration: { [Symbol.iterator]: () => ds.samples()[Symbol.iterator]() }, ds };
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' },
    calib: { type: 'string' },
    report: { type: 'string' },
    stats: { type: 'string', multiple: true },
    adaround: { type: 'boolean' },
    'adaround-iters': { type: 'string' },
    'adaround-batch': { type: 'string' },
    'adaround-seed': { type: 'string' },
    ...OPTION_FLAGS,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  // A shell glob (--stats stats-*.json) puts the second and later files after the model.
  const statsFiles = values.stats ? [...(values.stats as string[]), ...positionals.slice(1)] : [];
  const [modelPath] = positionals;
  if (!modelPath || (positionals.length !== 1 && !values.stats))
    throw new OnnxPtqError('INVALID_OPTION', 'expected exactly one model file (see --help)');
  const out = values.output as string | undefined;
  if (!out) throw new OnnxPtqError('INVALID_OPTION', 'missing -o <out.onnx>');
  const options = optionsFromFlags(values);
  // --adaround appends the pass (after any --passes or config list); its flags go over passOptions.adaround.
  const ada = {
    iterations: num(values['adaround-iters'], 'adaround-iters', true),
    batch_size: num(values['adaround-batch'], 'adaround-batch', true),
    seed: num(values['adaround-seed'], 'adaround-seed', true),
  };
  const adaFlags = Object.fromEntries(Object.entries(ada).filter(([, v]) => v !== undefined));
  if (values.adaround || Object.keys(adaFlags).length) {
    const list = Array.isArray(options.passes) ? (options.passes as string[]) : [];
    if (!values.adaround && !list.includes('adaround'))
      throw new OnnxPtqError(
        'INVALID_OPTION',
        '--adaround-iters, --adaround-batch and --adaround-seed need --adaround (or adaround in --passes)',
      );
    if (!list.includes('adaround')) options.passes = [...list, 'adaround'];
    const po = (options.passOptions ?? {}) as Record<string, Record<string, unknown>>;
    options.passOptions = { ...po, adaround: { ...(po.adaround ?? {}), ...adaFlags } };
  }
  const workers = workersFlag(values);
  const stats = statsFiles.length ? mergeStats(statsFiles.map(loadStats), statsFiles) : undefined;
  const model = loadModel(modelPath);
  let calibration: Iterable<Record<string, Tensor>> | undefined;
  let total: number | undefined;
  const noData = options.weightOnly || options.mode === 'dynamic';
  // A dynamic model still takes data for smooth-quant's ranges when given.
  if ((!noData && (values.calib || !stats)) || (options.mode === 'dynamic' && values.calib)) {
    if (!values.calib)
      throw new OnnxPtqError('INVALID_OPTION', 'missing --calib <data> or --stats <files> (or use --weight-only or --mode dynamic)');
    const samples = (options.calibrationSamples as number | undefined) || undefined;
    const c = openCalibration(model, values, samples);
    calibration = c.calibration;
    total = c.ds.size;
  }
  // The statistics are of the model file's bytes: hash the file, not a re-encoding of what was loaded.
  const { model: q, report } = await quantize(stats ? modelPath : model, {
    ...options,
    calibration,
    calibrationTotal: total,
    workers,
    stats,
  });
  saveModel(q, out);
  if (values.report) writeFileAtomic(values.report as string, JSON.stringify(report, null, 2));
  const summary = {
    output: out,
    layers: report.layers.length,
    activations: report.activations.length,
    calibrationSamples: report.calibration.samples,
    calibrationSeconds: +report.calibration.seconds.toFixed(3),
    keptFloat: report.keptFloat,
    passes: report.passes.filter((p) => p.changed).map((p) => `${p.pass} (${p.changed})`),
    warnings: report.warnings,
    skipped: report.passes.flatMap((p) => (p.skipped ?? []).map((k) => `${p.pass}: ${k}`)),
    size: report.size,
  };
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else if (!values.quiet) {
    console.log(
      `wrote ${out}: ${summary.layers} layers with int${report.options.weightBits} weights (${report.options.weightGranularity}), ${summary.activations} activations ${stats ? `from the statistics of ${summary.calibrationSamples} samples in ${statsFiles.length} file${statsFiles.length > 1 ? 's' : ''}` : `calibrated on ${summary.calibrationSamples} samples`} (${report.options.observer}) in ${summary.calibrationSeconds}s`,
    );
    const { floatBytes, quantizedBytes } = report.size;
    console.log(
      `size: ${floatBytes.toLocaleString('en-US')} bytes float -> ${quantizedBytes.toLocaleString('en-US')} bytes quantized (${(quantizedBytes / floatBytes).toFixed(2)}x)`,
    );
    if (summary.passes.length) console.log(`passes: ${summary.passes.join(', ')}`);
    for (const w of report.warnings) console.log(`warning: ${w}`);
    for (const p of report.passes) for (const k of p.skipped ?? []) console.log(`${p.pass}: skipped ${k}`);
    if (summary.keptFloat.length) console.log(`kept in float: ${summary.keptFloat.map((k) => `${k.node} (${k.why})`).join(', ')}`);
  }
  return 0;
}
