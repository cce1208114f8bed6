// ONNX backend node conformance runner over ../shared/fixtures/onnx-node/test_*/ (model.onnx +
// test_data_set_0/{input,output}_*.pb). Runs every test whose ops are all implemented, compares with
// onnx's backend-test tolerances (rtol 1e-3, atol 1e-7; exact for integer, bool and string outputs)
// and reports passed/failed/skipped per op. Usable as a script:
//   node --import tsx src/conformance/runner.ts [--json] [--filter substr] [--dir path] [--backend native|wasm|js]
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxPtqError } from '../errors.js';
import { Graph, type Model } from '../ir/graph.js';
import { loadModel, loadTensorProto } from '../onnx/io.js';
import { defaultOps } from '../ops/index.js';
import { InferenceSession } from '../runtime/session.js';
import type { BackendRequest } from '../backends/types.js';
import type { Tensor } from '../tensor.js';

export const RTOL = 1e-3;
export const ATOL = 1e-7;

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  name: string;
  ops: string[];
  outcome: Outcome;
  /** Why it failed or was skipped. */
  reason?: string;
}

export interface OpStats {
  passed: number;
  failed: number;
  skipped: number;
}

export interface ConformanceReport {
  dir: string;
  /** The backend that ran the float kernels. */
  backend: string;
  results: TestResult[];
  perOp: Record<string, OpStats>;
  totals: OpStats;
}

export interface ConformanceOptions {
  /** Directory holding the test_* folders (default: $ONNX_PTQ_FIXTURES/onnx-node or ../shared/fixtures/onnx-node). */
  dir?: string;
  /** Only tests whose name contains this substring. */
  filter?: string;
  /** Backend for the float kernels (default 'auto'). */
  backend?: BackendRequest;
}

export function defaultConformanceDir(): string {
  const fixtures = process.env.ONNX_PTQ_FIXTURES ?? resolve(process.cwd(), '..', 'shared', 'fixtures');
  return join(fixtures, 'onnx-node');
}

/** Compares one output; returns undefined when it matches, else what differs. */
export function compareTensors(got: Tensor, want: Tensor, rtol = RTOL, atol = ATOL): string | undefined {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, expected ${want.dtype}`;
  if (got.dims.length !== want.dims.length || got.dims.some((d, i) => d !== want.dims[i]))
    return `dims [${got.dims.join(', ')}], expected [${want.dims.join(', ')}]`;
  const g = got.data as ArrayLike<unknown>;
  const w = want.data as ArrayLike<unknown>;
  const exact = !(want.dtype === 'float32' || want.dtype === 'float64' || want.dtype === 'float16');
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < w.length; i++) {
    if (exact) {
      if (g[i] !== w[i]) return `element ${i} is ${String(g[i])}, expected ${String(w[i])}`;
      continue;
    }
    const a = Number(g[i]);
    const b = Number(w[i]);
    if (Number.isNaN(b)) {
      if (!Number.isNaN(a)) return `element ${i} is ${a}, expected NaN`;
      continue;
    }
    if (a === b) continue;
    const err = Math.abs(a - b);
    const excess = err - (atol + rtol * Math.abs(b));
    if (!(excess <= 0)) {
      if (!(excess < worst)) {
        worst = excess;
        worstAt = i;
      }
      if (Number.isNaN(excess)) return `element ${i} is ${a}, expected ${b}`;
    }
  }
  if (worstAt >= 0)
    return `element ${worstAt} is ${Number(g[worstAt])}, expected ${Number(w[worstAt])} (beyond rtol ${rtol}, atol ${atol})`;
  return undefined;
}

function listPb(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
    .map((f) => join(dir, f));
}

export async function runOne(testDir: string, name: string, backend: BackendRequest = 'auto'): Promise<TestResult> {
  let ops: string[] = [];
  try {
    const model = loadModel(join(testDir, 'model.onnx'));
    ops = [...new Set(model.graph.nodes.map((n) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType)))].sort();
    const missing = model.graph.nodes.filter((n) => !defaultOps.has(n.opType, n.domain));
    if (missing.length)
      return { name, ops, outcome: 'skipped', reason: `unsupported op ${[...new Set(missing.map((n) => n.opType))].join(', ')}` };
    const nonTensor = [...model.graph.inputs, ...model.graph.outputs].filter((v) => v.dtype === undefined);
    if (nonTensor.length)
      return {
        name,
        ops,
        outcome: 'skipped',
        reason: `non-tensor or unsupported element type for '${nonTensor[0]!.name}' (sequence/optional/low-precision types are not supported)`,
      };
    const data = join(testDir, 'test_data_set_0');
    const inputs = listPb(data, 'input_').map((p) => loadTensorProto(p));
    const outputs = listPb(data, 'output_').map((p) => loadTensorProto(p));
    // The ONNX test data feed NaN and infinities on purpose (Cast, IsNaN, attention masks).
    const session = await InferenceSession.create(model, { backend, allowNonFinite: true });
    const feeds: Record<string, Tensor> = {};
    inputs.forEach((t, i) => {
      feeds[t.name || session.inputNames[i]!] = t.tensor;
    });
    const got = session.runSync(feeds);
    for (let i = 0; i < outputs.length; i++) {
      const name_ = outputs[i]!.name || session.outputNames[i]!;
      const g = got[name_];
      if (!g) return { name, ops, outcome: 'failed', reason: `output '${name_}' missing` };
      const diff = compareTensors(g, outputs[i]!.tensor);
      if (diff) return { name, ops, outcome: 'failed', reason: `output '${name_}': ${diff}` };
    }
    return { name, ops, outcome: 'passed' };
  } catch (e) {
    // Types or op forms the project does not implement are skips (listed with the reason); anything else fails.
    if (e instanceof OnnxPtqError && e.code === 'UNSUPPORTED_OP') return { name, ops, outcome: 'skipped', reason: e.message };
    return { name, ops, outcome: 'failed', reason: e instanceof Error ? `${(e as OnnxPtqError).code ?? e.name}: ${e.message}` : String(e) };
  }
}

export async function runConformance(opts: ConformanceOptions = {}): Promise<ConformanceReport> {
  const dir = opts.dir ?? defaultConformanceDir();
  if (!existsSync(dir)) throw new OnnxPtqError('IO_ERROR', `conformance directory '${dir}' does not exist`);
  const names = readdirSync(dir)
    .filter((n) => n.startsWith('test_') && (!opts.filter || n.includes(opts.filter)))
    .sort();
  const results: TestResult[] = [];
  const backend = opts.backend ?? 'auto';
  for (const n of names) results.push(await runOne(join(dir, n), n, backend));
  const perOp: Record<string, OpStats> = {};
  const totals: OpStats = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) {
    totals[r.outcome]++;
    for (const op of r.ops) (perOp[op] ??= { passed: 0, failed: 0, skipped: 0 })[r.outcome]++;
  }
  return { dir, backend: (await InferenceSession.create(emptyModel(), { backend })).backendName, results, perOp, totals };
}

function emptyModel(): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph: new Graph(),
  };
}

export function formatReport(rep: ConformanceReport): string {
  const lines = [
    `ONNX node conformance (${rep.dir}), backend ${rep.backend}`,
    '',
    'op'.padEnd(28) + 'passed'.padStart(8) + 'failed'.padStart(8) + 'skipped'.padStart(9),
  ];
  for (const [op, s] of Object.entries(rep.perOp).sort()) {
    if (!defaultOps.has(op.includes('::') ? op.split('::')[1]! : op, op.includes('::') ? op.split('::')[0]! : '')) continue;
    lines.push(op.padEnd(28) + String(s.passed).padStart(8) + String(s.failed).padStart(8) + String(s.skipped).padStart(9));
  }
  lines.push(
    '',
    `total tests: ${rep.results.length}; passed ${rep.totals.passed}, failed ${rep.totals.failed}, skipped ${rep.totals.skipped}`,
  );
  const failed = rep.results.filter((r) => r.outcome === 'failed');
  if (failed.length) lines.push('', 'failed:', ...failed.map((r) => `  ${r.name}: ${r.reason}`));
  const skippedSupported = rep.results.filter((r) => r.outcome === 'skipped' && !r.reason?.startsWith('unsupported op'));
  if (skippedSupported.length)
    lines.push('', 'skipped (unsupported type or form):', ...skippedSupported.map((r) => `  ${r.name}: ${r.reason}`));
  return lines.join('\n');
}

async function cli(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const fi = argv.indexOf('--filter');
  const di = argv.indexOf('--dir');
  const bi = argv.indexOf('--backend');
  const rep = await runConformance({
    filter: fi >= 0 ? argv[fi + 1] : undefined,
    dir: di >= 0 ? argv[di + 1] : undefined,
    backend: bi >= 0 ? (argv[bi + 1] as BackendRequest) : undefined,
  });
  if (json)
    console.log(
      JSON.stringify({ dir: rep.dir, backend: rep.backend, totals: rep.totals, perOp: rep.perOp, results: rep.results }, null, 1),
    );
  else console.log(formatReport(rep));
  return rep.totals.failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then((c) => process.exit(c));
}
