// mnist-8 accuracy table (issue 5's closing note): per-tensor and per-channel weights, 8 and 4 bits,
// each observer; 100 calibration images (the first 100 of the test set), all 10,000 test images,
// in our integer executor (native) and in onnxruntime-node running the exported QDQ file.
// AdaRound rows (issue 16): int4 weights (w4a8) per channel and per tensor, and int3/int2 per channel,
// minmax, nearest rounding against the adaround pass (default options, the same 100 images), with the
// seconds quantize() took. A16W8 rows (issue 16): 16-bit activations (activationBits 16) against 8-bit,
// per-channel int8 weights: accuracy in our integer executor and onnxruntime, and the output SQNR
// against float over the 10,000 images.
//   npm run bench:ptq-mnist [-- --json] [-- --adaround-only] [-- --a16w8-only]
import * as ort from 'onnxruntime-node';
import { quantize, IntegerSession, InferenceSession, modelToBytes, readIdx, Tensor, OBSERVER_KINDS } from '../src/index.js';

ort.env.logLevel = 'error';
const jsonOnly = process.argv.includes('--json');
const fx = process.env.ONNX_PTQ_FIXTURES ?? '../shared/fixtures';
const path = `${fx}/models/mnist-8/model.onnx`;
const imgs = readIdx(`${fx}/data/mnist/t10k-images-idx3-ubyte.gz`).data as Uint8Array;
const labels = readIdx(`${fx}/data/mnist/t10k-labels-idx1-ubyte.gz`).data as Uint8Array;
const N = 10000;
const x = (i: number) => Float32Array.from(imgs.subarray(i * 784, i * 784 + 784));
const argmax = (d: Float32Array) => d.reduce((b, v, j) => (v > d[b] ? j : b), 0);

async function accOurs(run: (f: Float32Array) => Promise<Float32Array> | Float32Array): Promise<number> {
  let ok = 0;
  for (let i = 0; i < N; i++) if (argmax(await run(x(i))) === labels[i]) ok++;
  return ok / N;
}

const floatS = await InferenceSession.create(path, { backend: 'native' });
const floatAcc = await accOurs(
  (d) => floatS.runSync({ Input3: new Tensor('float32', d, [1, 1, 28, 28]) })[floatS.outputNames[0]].data as Float32Array,
);
const rows: Record<string, unknown>[] = [];
const adaroundOnly = process.argv.includes('--adaround-only');
const a16Only = process.argv.includes('--a16w8-only');
for (const granularity of adaroundOnly || a16Only ? [] : (['per-channel', 'per-tensor'] as const)) {
  for (const bits of [8, 4]) {
    for (const observer of OBSERVER_KINDS) {
      const calib = (function* () {
        for (let i = 0; i < 100; i++) yield { Input3: new Tensor('float32', x(i), [1, 1, 28, 28]) };
      })();
      const { model } = await quantize(path, { calibration: calib, weightGranularity: granularity, weightBits: bits, observer });
      const s = await IntegerSession.create(model, { backend: 'native' });
      const ours = await accOurs(
        async (d) => (await s.run({ Input3: new Tensor('float32', d, [1, 1, 28, 28]) }))[s.outputNames[0]].data as Float32Array,
      );
      const o = await ort.InferenceSession.create(modelToBytes(model), { intraOpNumThreads: 1 });
      const theirs = await accOurs(
        async (d) => (await o.run({ Input3: new ort.Tensor('float32', d, [1, 1, 28, 28]) }))[o.outputNames[0]].data as Float32Array,
      );
      rows.push({
        granularity,
        weightBits: bits,
        observer,
        integerExecutor: +(100 * ours).toFixed(2),
        onnxruntime: +(100 * theirs).toFixed(2),
      });
      if (!jsonOnly)
        console.log(
          `${granularity.padEnd(12)} int${bits}  ${observer.padEnd(15)} integer ${(100 * ours).toFixed(2)}%  onnxruntime ${(100 * theirs).toFixed(2)}%`,
        );
    }
  }
}
// AdaRound needs the data twice (calibration, then each layer's inputs): an array, not a generator.
const calibArray = Array.from({ length: 100 }, (_, i) => ({ Input3: new Tensor('float32', x(i), [1, 1, 28, 28]) }));
const adaround: Record<string, unknown>[] = [];
for (const [granularity, bits] of a16Only
  ? []
  : ([
      ['per-channel', 4],
      ['per-tensor', 4],
      ['per-channel', 3],
      ['per-channel', 2],
    ] as const)) {
  for (const passes of [[], ['adaround']]) {
    const t0 = performance.now();
    const { model } = await quantize(path, { calibration: calibArray, weightGranularity: granularity, weightBits: bits, passes });
    const seconds = (performance.now() - t0) / 1000;
    const s = await IntegerSession.create(model, { backend: 'native' });
    const ours = await accOurs(
      async (d) => (await s.run({ Input3: new Tensor('float32', d, [1, 1, 28, 28]) }))[s.outputNames[0]].data as Float32Array,
    );
    await s.release();
    const rounding = passes.length ? 'adaround' : 'nearest';
    adaround.push({
      granularity,
      weightBits: bits,
      activationBits: 8,
      rounding,
      integerExecutor: +(100 * ours).toFixed(2),
      gapToFloat: +(100 * (floatAcc - ours)).toFixed(2),
      seconds: +seconds.toFixed(1),
    });
    if (!jsonOnly)
      console.log(
        `${granularity.padEnd(12)} w${bits}a8  ${rounding.padEnd(9)} integer ${(100 * ours).toFixed(2)}%  (float - ${(100 * (floatAcc - ours)).toFixed(2)})  quantize ${seconds.toFixed(1)}s`,
      );
  }
}
const a16w8: Record<string, unknown>[] = [];
if (!adaroundOnly) {
  const floatOut: Float32Array[] = [];
  for (let i = 0; i < N; i++)
    floatOut.push(floatS.runSync({ Input3: new Tensor('float32', x(i), [1, 1, 28, 28]) })[floatS.outputNames[0]].data as Float32Array);
  for (const activationBits of [8, 16]) {
    const { model } = await quantize(path, { calibration: calibArray, activationBits });
    const s = await IntegerSession.create(model, { backend: 'native', strictInteger: true });
    let sig = 0,
      err = 0,
      i = 0;
    const ours = await accOurs((d) => {
      const y = s.runSync({ Input3: new Tensor('float32', d, [1, 1, 28, 28]) })[s.outputNames[0]].data as Float32Array;
      const f = floatOut[i++]!;
      for (let j = 0; j < y.length; j++) {
        sig += f[j]! ** 2;
        err += (f[j]! - y[j]!) ** 2;
      }
      return y;
    });
    await s.release();
    const o = await ort.InferenceSession.create(modelToBytes(model), { intraOpNumThreads: 1 });
    const theirs = await accOurs(
      async (d) => (await o.run({ Input3: new ort.Tensor('float32', d, [1, 1, 28, 28]) }))[o.outputNames[0]].data as Float32Array,
    );
    const sqnrDb = 10 * Math.log10(sig / err);
    a16w8.push({
      activationBits,
      weightBits: 8,
      granularity: 'per-channel',
      integerExecutor: +(100 * ours).toFixed(2),
      onnxruntime: +(100 * theirs).toFixed(2),
      outputSqnrDb: +sqnrDb.toFixed(2),
    });
    if (!jsonOnly)
      console.log(
        `per-channel  w8a${activationBits}`.padEnd(24) +
          ` integer ${(100 * ours).toFixed(2)}%  onnxruntime ${(100 * theirs).toFixed(2)}%  output SQNR vs float ${sqnrDb.toFixed(2)} dB`,
      );
  }
}
if (!jsonOnly) console.log(`float (our engine): ${(100 * floatAcc).toFixed(2)}%\n`);
console.log(
  JSON.stringify(
    { bench: 'ptq-mnist', images: N, calibrationImages: 100, floatAccuracy: +(100 * floatAcc).toFixed(2), results: rows, adaround, a16w8 },
    null,
    jsonOnly ? 2 : 0,
  ),
);
