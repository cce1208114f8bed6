/**
 * The demo a newcomer runs first (`onnx-ptq demo`): mnist-8 quantized with the recommended settings
 * (int8 per-channel symmetric weights, uint8 activations, min-max calibration on 100 images, bias
 * correction: quantize()'s defaults), validated on the 10,000 MNIST test images in the float engine,
 * in the integer-only executor on every backend that loaded (bit-identical outputs checked), and in
 * onnxruntime-node when installed; then a per-layer analysis and a self-contained HTML report.
 */
import type { QuantizeOptions } from '../ptq/options.js';
import { getRegistry } from '../backends/registry.js';
import { OnnxPtqError } from '../errors.js';
import { readIdx } from '../io/idx.js';
import { loadModel, modelToBytes } from '../onnx/io.js';
import { quantize } from '../ptq/quantize.js';
import { ortCall } from '../ptq/validate.js';
import { progress } from '../util/progress.js';
import { InferenceSession } from '../runtime/session.js';
import { IntegerSession } from '../runtime/integer/index.js';
import { Tensor } from '../tensor.js';
import { analyze, argmax, type AnalysisReport } from './analyze.js';
import { DEMO_ASSETS, locate, type Located } from './demo-assets.js';

export interface DemoRow {
  executor: string;
  accuracy: number;
  /** Top-1 agreement with the float model. */
  agreement: number;
  msPerImage: number;
  /** Outputs identical to the first integer backend's (integer rows only). */
  identical?: boolean;
}

export interface DemoResult {
  assets: Record<string, Located>;
  images: number;
  calibrationImages: number;
  quantizeSeconds: number;
  rows: DemoRow[];
  skipped: { executor: string; why: string }[];
  analysis: AnalysisReport;
  /** The options the model was quantized with (fixes already in effect are not suggested). */
  options: QuantizeOptions;
}

export interface DemoOptions {
  /** Images to validate on (default all 10,000). */
  limit?: number;
  /** Integer backends to run (default every one that loads). */
  backends?: string[];
  /** Skip onnxruntime-node. */
  noOnnxruntime?: boolean;
  offline?: boolean;
  log?: (s: string) => void;
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? (() => {});
  // The registry the sessions below use (a new one would load the addon and the wasm module again).
  const status = getRegistry().status();
  const wanted = opts.backends ?? status.map((s) => s.name);
  const unknown = wanted.filter((w) => !status.some((s) => s.name === w));
  if (unknown.length)
    throw new OnnxPtqError(
      'INVALID_OPTION',
      `demo: option 'backends' names ${unknown.map((u) => `'${u}'`).join(', ')}, not a backend (known: ${status.map((s) => s.name).join(', ')})`,
    );
  const assets = {
    model: await locate(DEMO_ASSETS.model, { offline: opts.offline, log }),
    images: await locate(DEMO_ASSETS.images, { offline: opts.offline, log }),
    labels: await locate(DEMO_ASSETS.labels, { offline: opts.offline, log }),
  };
  const pixels = readIdx(assets.images.path).data as Uint8Array;
  const labels = readIdx(assets.labels.path).data as Uint8Array;
  const total = Math.min(opts.limit ?? 10000, labels.length);
  if (!(total > 0)) throw new OnnxPtqError('INVALID_OPTION', `--limit must be at least 1, got ${opts.limit}`);
  // One Float32Array per image, shared by every executor (raw 0..255 pixels, as mnist-8 expects).
  const images = Array.from(
    { length: total },
    (_, i) => new Tensor('float32', Float32Array.from(pixels.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]),
  );
  const floatModel = loadModel(assets.model.path);
  const calibN = 100;
  log(`quantizing mnist-8 (per-channel int8 weights, uint8 activations, min-max on ${calibN} images, bias correction)`);
  const t0 = performance.now();
  const { model: q, report: qReport } = await quantize(floatModel, {
    calibration: images.slice(0, Math.min(calibN, total)).map((x) => ({ Input3: x })),
  });
  const quantizeSeconds = (performance.now() - t0) / 1000;

  const rows: DemoRow[] = [];
  const skipped: { executor: string; why: string }[] = [];
  const measure = async (
    name: string,
    run: (x: Tensor) => Promise<Float32Array> | Float32Array,
    ref?: number[],
  ): Promise<{ row: DemoRow; preds: number[]; outs: Float32Array[] }> => {
    const bar = progress(name.padEnd(22));
    const preds: number[] = [],
      outs: Float32Array[] = [];
    let ok = 0,
      agree = 0;
    const t = performance.now();
    for (let i = 0; i < total; i++) {
      const o = await run(images[i]);
      outs.push(o);
      const p = argmax(o);
      preds.push(p);
      if (p === labels[i]) ok++;
      if (ref && p === ref[i]) agree++;
      bar.tick(i + 1, total);
    }
    const ms = (performance.now() - t) / total;
    bar.end();
    return { row: { executor: name, accuracy: ok / total, agreement: ref ? agree / total : 1, msPerImage: ms }, preds, outs };
  };

  const fs = await InferenceSession.create(floatModel);
  const f = await measure(`float (${fs.backendName})`, (x) => fs.runSync({ Input3: x })[fs.outputNames[0]].data as Float32Array);
  rows.push(f.row);
  log(`float: ${(100 * f.row.accuracy).toFixed(2)}%`);

  let first: Float32Array[] | undefined;
  for (const s of status) {
    if (!wanted.includes(s.name)) continue;
    if (!s.loaded) {
      skipped.push({ executor: `int8 ${s.name}`, why: s.error ?? 'did not load' });
      continue;
    }
    // A batch loop timed per image: on the calling thread (a worker adds a message round trip per run).
    const is = await IntegerSession.create(q, { backend: s.name as 'native', runInWorker: false });
    const out = is.outputNames[0];
    const r = await measure(`int8 integer ${s.name}`, async (x) => (await is.run({ Input3: x }))[out].data as Float32Array, f.preds);
    if (first) r.row.identical = r.outs.every((o, i) => o.length === first![i].length && o.every((v, k) => Object.is(v, first![i][k])));
    else {
      first = r.outs;
      r.row.identical = true;
    }
    rows.push(r.row);
    log(`int8 on ${s.name}: ${(100 * r.row.accuracy).toFixed(2)}%`);
  }
  if (!opts.noOnnxruntime) {
    let ort: typeof import('onnxruntime-node') | undefined;
    try {
      ort = await import('onnxruntime-node');
      ort.env.logLevel = 'error';
    } catch (e) {
      skipped.push({
        executor: 'int8 onnxruntime',
        why: `onnxruntime-node is not available (${(e as Error).message.split('\n')[0]}): npm install onnxruntime-node to compare with it`,
      });
    }
    if (ort) {
      // Only a missing package is a skip: onnxruntime failing on our model is an error worth seeing.
      const o = ort;
      const sess = await ortCall('INVALID_MODEL', 'the quantized mnist-8', () =>
        o.InferenceSession.create(modelToBytes(q), { intraOpNumThreads: 1 }),
      );
      const out = sess.outputNames[0];
      const r = await measure(
        'int8 onnxruntime (QDQ)',
        async (x) =>
          (
            await ortCall('INVALID_INPUT', 'the quantized mnist-8', () =>
              sess.run({ Input3: new o.Tensor('float32', x.data as Float32Array, [1, 1, 28, 28]) }),
            )
          )[out].data as Float32Array,
        f.preds,
      );
      rows.push(r.row);
    }
  }
  log('analyzing the quantization error per layer (64 images)');
  const analysis = await analyze(
    floatModel,
    q,
    images.slice(0, 64).map((x) => ({ Input3: x })),
  );
  return {
    assets,
    images: total,
    calibrationImages: Math.min(calibN, total),
    quantizeSeconds,
    rows,
    skipped,
    analysis,
    options: qReport.options,
  };
}
