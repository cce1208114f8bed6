/** `onnx-ptq calibrate model.onnx --calib <data> [--shard k/n] -o stats.json`: statistics for `quantize --stats`. */
import { OnnxPtqError } from '../../errors.js';
import { loadModel } from '../../onnx/io.js';
import { calibrate } from '../../ptq/quantize.js';
import { saveStats } from '../../ptq/stats.js';
import { parse } from '../args.js';
import { DATA_HELP } from '../data-args.js';
import { OPTION_FLAGS, openCalibration, optionsFromFlags, workersFlag } from './quantize.js';

const HELP = `usage: onnx-ptq calibrate <model.onnx> --calib <data> -o <stats.json> [--shard k/n] [options]

Runs calibration only and writes its statistics (observer states: min/max or histograms on a fixed
power-of-two grid; bias-correction sums) to a JSON file carrying the model's sha256, the options that
shape them and the sample count (docs/calibration.md). Statistics merge exactly: run shard k of n
anywhere (GNU parallel, a Kubernetes indexed Job, a Slurm array), then
  onnx-ptq quantize <model.onnx> --stats stats-*.json -o out.onnx [the same options]
writes the bytes one \`quantize --calib\` over all the data would have.

options: those of \`onnx-ptq quantize\` (--config, --samples, --observer, --granularity, --passes, ...):
the ones that shape the statistics are recorded, and quantize refuses statistics made with others.
  --shard k/n                  this run's part of the samples: sample i (after --samples) when i mod n = k,
                               k in [0, n-1] (default 0/1: all)
  --workers N                  calibration threads: this one and N-1 workers (default: the cores, the workers
                               once calibration proves long)
  --json                       print a summary as JSON
  --quiet, -q                  print nothing
${DATA_HELP}

examples:
  onnx-ptq calibrate ../shared/fixtures/models/mnist-8/model.onnx --calib ../shared/fixtures/data/mnist/t10k-images-idx3-ubyte.gz \\
    --samples 1000 --shard 0/4 -o stats-0.json`;

/** "k/n" with 0 <= k < n. */
export function parseShard(v: string | undefined): { index: number; count: number } {
  if (v === undefined) return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) throw new OnnxPtqError('INVALID_OPTION', `--shard must be k/n (e.g. 0/4), got '${v}'`);
  const index = Number(m[1]),
    count = Number(m[2]);
  if (count < 1 || index >= count)
    throw new OnnxPtqError(
      'INVALID_OPTION',
      `--shard ${v} is out of range: with n = ${count} shards, k must be in [0, ${Math.max(0, count - 1)}]`,
    );
  return { index, count };
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' },
    calib: { type: 'string' },
    shard: { type: 'string' },
    ...OPTION_FLAGS,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [modelPath] = positionals;
  if (!modelPath || positionals.length !== 1) throw new OnnxPtqError('INVALID_OPTION', 'expected exactly one model file (see --help)');
  const out = values.output as string | undefined;
  if (!out) throw new OnnxPtqError('INVALID_OPTION', 'missing -o <stats.json>');
  if (!values.calib) throw new OnnxPtqError('INVALID_OPTION', 'missing --calib <data>');
  const shard = parseShard(values.shard as string | undefined);
  const options = optionsFromFlags(values);
  const workers = workersFlag(values);
  const model = loadModel(modelPath);
  const samples = (options.calibrationSamples as number | undefined) || undefined;
  // The data set takes the shard itself (no decoding of other shards' samples).
  const { calibration, ds } = openCalibration(model, values, samples, shard);
  const t0 = performance.now();
  const stats = await calibrate(modelPath, {
    ...options,
    calibration,
    calibrationTotal: ds.size,
    shard,
    preSharded: true,
    listLength: ds.listLength ?? ds.size,
    workers,
  });
  saveStats(stats, out);
  const summary = {
    output: out,
    shard: `${shard.index}/${shard.count}`,
    samples: stats.samples,
    tensors: Object.keys(stats.tensors).length,
    biasProbes: Object.keys(stats.biasProbes).length,
    seconds: +((performance.now() - t0) / 1000).toFixed(3),
    model: { sha256: stats.model.sha256 },
    needsData: stats.needsData,
  };
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else if (!values.quiet) {
    console.log(
      `wrote ${out}: shard ${summary.shard}, ${summary.samples} samples, ${summary.tensors} tensors, ${summary.biasProbes} bias probes in ${summary.seconds}s`,
    );
    for (const n of stats.needsData) console.log(`note: quantize will need --calib too: ${n}`);
  }
  return 0;
}
