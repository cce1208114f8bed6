/** `onnx-ptq demo`: the first command to run (see src/analysis/demo.ts). */
import { runDemo } from '../../analysis/demo.js';
import { renderHtml } from '../../report/html.js';
import { sensitivity, suggestFixes } from '../../analysis/suggest.js';
import { analysisTable, pct, table } from '../../report/text.js';
import { toJson, writeFileAtomic } from '../../report/write.js';
import { parse } from '../args.js';
import { num } from '../data-args.js';

const HELP = `usage: onnx-ptq demo [options]

Quantizes mnist-8 to int8 with the recommended settings, validates it on the 10,000 MNIST test
images in the float engine, in the integer-only executor on every backend (native, wasm, js) and in
onnxruntime-node when installed, prints accuracy and latency, and writes an HTML report.
mnist-8 and MNIST come from ONNX_PTQ_FIXTURES, ../shared/fixtures or the cache (ONNX_PTQ_CACHE,
default ~/.cache/onnx-ptq); elsewhere they are downloaded from their public homes (sha256 checked).

options:
  --html <file>        the report (default build/onnx-ptq-demo.html)
  --limit N            validate on the first N images only (default 10000)
  --backends a,b       integer backends to run (default: every one that loads)
  --no-onnxruntime     skip onnxruntime-node
  --offline            never download
  --json               print the results as JSON
  --quiet, -q          print nothing but errors

examples:
  npx onnx-ptq demo
  npx onnx-ptq demo --limit 1000 --backends native --html /tmp/demo.html`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      html: { type: 'string' },
      limit: { type: 'string' },
      backends: { type: 'string' },
      'no-onnxruntime': { type: 'boolean' },
      offline: { type: 'boolean' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
    false,
  );
  void positionals;
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const quiet = !!values.quiet || !!values.json;
  const say = (s: string) => {
    if (!quiet) console.log(s);
  };
  const r = await runDemo({
    limit: num(values.limit, 'limit', true),
    backends: values.backends ? String(values.backends).split(',') : undefined,
    noOnnxruntime: !!values['no-onnxruntime'],
    offline: !!values.offline,
    log: quiet ? undefined : (s) => console.error(s),
  });
  const header = ['executor', 'accuracy', 'agreement with float', 'ms / image', 'same bits as first int8 backend'];
  const rows = r.rows.map((x) => [
    x.executor,
    pct(x.accuracy),
    pct(x.agreement),
    x.msPerImage.toFixed(3),
    x.identical === undefined ? '-' : x.identical ? 'yes' : 'NO',
  ]);
  const html = (values.html as string | undefined) ?? 'build/onnx-ptq-demo.html';
  const floatRow = r.rows[0],
    int8 = r.rows.filter((x) => x.executor.startsWith('int8 integer'));
  writeFileAtomic(
    html,
    renderHtml({
      title: 'onnx-ptq demo: mnist-8 to int8',
      summary: [
        `model ${r.assets.model.path} (${r.assets.model.source}); ${r.images} MNIST test images; calibration on the first ${r.calibrationImages} (quantized in ${r.quantizeSeconds.toFixed(2)} s)`,
        'settings: int8 per-channel symmetric weights, uint8 asymmetric activations, min-max calibration, bias correction, fixed-point requantization',
      ],
      tables: [{ caption: 'Accuracy and latency per executor', header, rows }],
      analysis: r.analysis,
      suggestions: suggestFixes(r.analysis, { top: 3, current: r.options }),
      sensitivity: sensitivity(r.analysis),
    }),
  );
  if (values.json) console.log(toJson({ ...r, html }));
  say('');
  say(table(header, rows, ['l', 'r', 'r', 'r', 'r']));
  for (const s of r.skipped) say(`skipped ${s.executor}: ${s.why}`);
  say(`\nmost sensitive layers (of ${r.analysis.layers.length}):`);
  say(analysisTable(r.analysis, 3));
  say(sensitivity(r.analysis).why);
  say(`\nwrote ${html} (open it in a browser; no network needed)`);
  const bad =
    int8.some((x) => x.identical === false) || int8.length === 0 || int8.some((x) => floatRow.accuracy - x.accuracy > 0.002 + 1e-9);
  if (bad && !quiet) console.error('demo: FAILED (an int8 backend lost more than 0.2 points or backends disagree)');
  return bad ? 1 : 0;
}
