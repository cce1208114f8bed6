/** `onnx-ptq validate float.onnx quantized.onnx --data <data> [--labels <labels>] [--json]` */
import { OnnxPtqError } from '../../errors.js';
import { loadModel } from '../../onnx/io.js';
import { readLabels } from '../../data/dataset.js';
import { crossCheckOnnxRuntime, validate, type QuantExecutor } from '../../ptq/validate.js';
import { table } from '../../report/text.js';
import { toJson } from '../../report/write.js';
import type { BackendRequest } from '../../backends/types.js';
import type { RequantMode } from '../../quant/requant.js';
import { parse } from '../args.js';
import { DATA_HELP, DATA_OPTIONS, openModelData } from '../data-args.js';

const HELP = `usage: onnx-ptq validate <float.onnx> <quantized.onnx> --data <data> [--labels <labels>] [options]

Runs both models on the same data: top-1 agreement, accuracy of each (with --labels), output SQNR (dB).

  --labels <file>              .npy, IDX, or a text file with one integer per line (image folders give their own);
                               exactly one label per sample of --data (before --data-offset/--data-limit)
  --executor integer|float|onnxruntime   how the quantized model runs (default integer: our integer-only executor)
  --backend auto|native|wasm|js          backend of the integer executor (default auto: native, then wasm, then js)
  --requant-mode fixed-point|float|shift (default: the model's metadata_props 'onnx_ptq.requant_mode', else fixed-point)
  --against onnxruntime        run the QDQ model in onnxruntime-node next to our integer executor (float requant mode
                               unless --requant-mode says otherwise): bit-exactness per output and per layer, the largest
                               difference in LSBs, and the cause where known (<float.onnx> may then be omitted)
  --json                       print the result as JSON
  --quiet, -q                  print nothing (exit code only: 1 when --against finds differences)
${DATA_HELP}

example:
  onnx-ptq validate ../shared/fixtures/models/mnist-8/model.onnx mnist-int8.onnx \\
    --data ../shared/fixtures/data/mnist/t10k-images-idx3-ubyte.gz \\
    --labels ../shared/fixtures/data/mnist/t10k-labels-idx1-ubyte.gz
  onnx-ptq validate mnist-int8.onnx --against onnxruntime --data ../shared/fixtures/data/mnist/t10k-images-idx3-ubyte.gz`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: 'string' },
    labels: { type: 'string' },
    executor: { type: 'string' },
    backend: { type: 'string' },
    'requant-mode': { type: 'string' },
    against: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    ...DATA_OPTIONS,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.against !== undefined) {
    if (values.against !== 'onnxruntime')
      throw new OnnxPtqError('INVALID_OPTION', `--against takes 'onnxruntime', got '${String(values.against)}'`);
    if (positionals.length < 1 || positionals.length > 2)
      throw new OnnxPtqError('INVALID_OPTION', 'expected [<float.onnx>] <quantized.onnx> (see --help)');
    if (!values.data) throw new OnnxPtqError('INVALID_OPTION', 'missing --data <data>');
    const qModel = loadModel(positionals[positionals.length - 1]);
    const ds = openModelData(qModel, values.data as string, values);
    const r = await crossCheckOnnxRuntime(qModel, ds.samples(), {
      backend: values.backend as BackendRequest | undefined,
      requantMode: values['requant-mode'] as RequantMode | undefined,
      total: ds.size,
    });
    if (values.json) console.log(toJson(r));
    else if (!values.quiet) {
      console.log(
        `onnx-ptq integer executor (${r.backend}, ${r.requantMode} requantization) vs onnxruntime-node on ${r.samples} samples: ${r.bitExact ? 'BIT-EXACT' : 'DIFFERENCES'}`,
      );
      const row = (kind: string) => (e: (typeof r.outputs)[number]) => [
        kind,
        e.name,
        e.tensor,
        e.bitExact ? 'yes' : 'no',
        Number.isNaN(e.maxLsb) ? '-' : String(e.maxLsb),
        `${e.differing}/${e.elements}`,
        e.cause ?? '',
      ];
      console.log(
        table(
          ['', 'name', 'tensor', 'bit-exact', 'max LSB', 'differing', 'cause'],
          [...r.outputs.map(row('output')), ...r.layers.map(row('layer'))],
          ['l', 'l', 'l', 'r', 'r', 'r', 'l'],
        ),
      );
    }
    return r.bitExact ? 0 : 1;
  }
  if (positionals.length !== 2) throw new OnnxPtqError('INVALID_OPTION', 'expected <float.onnx> <quantized.onnx> (see --help)');
  if (!values.data) throw new OnnxPtqError('INVALID_OPTION', 'missing --data <data>');
  const floatModel = loadModel(positionals[0]);
  const ds = openModelData(floatModel, values.data as string, values);
  let labels = values.labels ? readLabels(values.labels as string) : ds.folderLabels;
  if (labels && values.labels) {
    // One label per sample of the whole source, neither fewer nor more (a longer file is another data
    // set's labels); --data-offset/--data-limit then take the same window of both.
    if (labels.length !== ds.total)
      throw new OnnxPtqError(
        'INVALID_DATA',
        `labels '${values.labels}' give ${labels.length} labels for the ${ds.total} samples of '${values.data}': they must match one to one`,
      );
    const off = Number(values['data-offset'] ?? 0);
    labels = labels.subarray(off, off + ds.size);
  }
  const r = await validate(floatModel, positionals[1], ds.samples(), {
    executor: values.executor as QuantExecutor | undefined,
    backend: values.backend as BackendRequest | undefined,
    requantMode: values['requant-mode'] as RequantMode | undefined,
    labels,
    total: ds.size,
  });
  if (values.json) console.log(JSON.stringify(r, null, 2));
  else if (!values.quiet) {
    const pct = (v?: number) => (v === undefined ? 'n/a' : `${(100 * v).toFixed(2)}%`);
    console.log(`samples ${r.samples}  executor ${r.executor}${r.backend ? ` on the ${r.backend} backend` : ''}`);
    console.log(
      `top-1 agreement ${pct(r.agreement)}  float accuracy ${pct(r.floatAccuracy)}  quantized accuracy ${pct(r.quantAccuracy)}  output SQNR ${r.sqnrDb.toFixed(2)} dB`,
    );
    console.log(`latency per sample: float ${r.floatMs.toFixed(3)} ms, quantized ${r.quantMs.toFixed(3)} ms`);
  }
  return 0;
}
