// `onnx-ptq inspect model.onnx [--json]`: opsets, inputs/outputs with shapes, op counts, parameter
// count, and the nodes whose ops onnx-ptq does not implement.
import { loadModel } from '../../onnx/io.js';
import { defaultOps } from '../../ops/index.js';
import type { Dim, Model } from '../../ir/graph.js';
import { parse } from '../args.js';
import { Tensor, sizeOf } from '../../tensor.js';

const HELP = `usage: onnx-ptq inspect <model.onnx> [--json] [--quiet]

Prints the model's opsets, inputs and outputs (with symbolic dims), op counts, parameter count,
metadata and any nodes whose ops onnx-ptq does not implement. For a quantized model (QDQ or
QOperator), also how the integer executor runs it: the integer kernels, and the nodes that have no
integer form and are dequantized.

  --json       machine-readable output
  --quiet, -q  print nothing: the exit code says whether every op is supported (0) or not (3)

example:
  onnx-ptq inspect ../shared/fixtures/models/mnist-8/model.onnx --json`;

export interface InspectReport {
  file: string;
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  inputs: { name: string; dtype: string; shape: (number | string)[] | null }[];
  outputs: { name: string; dtype: string; shape: (number | string)[] | null }[];
  nodes: number;
  opCounts: Record<string, number>;
  parameters: number;
  parameterBytes: number;
  initializers: number;
  metadata: Record<string, string>;
  unsupported: { node: string; opType: string; domain: string }[];
  /** For quantized models (QDQ or QOperator): how the integer executor runs each node. */
  integer?: {
    integerNodes: number;
    fusedNodes: number;
    /** Nodes with no integer form: dequantized, run in float, requantized. */
    floatNodes: { node: string; opType: string; reason: string }[];
    kernels: Record<string, number>;
    /**
     * The run's memory plan for the declared input shapes (one run on zeros): the arena every
     * intermediate lives in, and what they would take with a buffer each. Absent for dynamic shapes.
     */
    arena?: { inputs: string; arenaBytes: number; unsharedBytes: number; tensors: number };
  };
}

const QUANT_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'QLinearConv',
  'QLinearMatMul',
  'ConvInteger',
  'MatMulInteger',
  'QLinearAdd',
]);

/** The integer executor's lowering of a quantized model, summarized. */
export async function integerLowering(model: Model): Promise<InspectReport['integer']> {
  if (!model.graph.nodes.some((n) => QUANT_OPS.has(n.opType))) return undefined;
  const { IntegerSession } = await import('../../runtime/integer/index.js');
  const s = await IntegerSession.create(model, { runInWorker: false });
  const entries = s.loweringReport();
  const kernels: Record<string, number> = {};
  for (const e of entries) if (e.execution === 'integer' && e.kernel) kernels[e.kernel] = (kernels[e.kernel] ?? 0) + 1;
  let arena: NonNullable<InspectReport['integer']>['arena'];
  const numeric = ['float32', 'uint8', 'int8'];
  if (s.inputs.every((v) => v.shape?.every((d) => typeof d === 'number') && numeric.includes(v.dtype ?? ''))) {
    const feeds = Object.fromEntries(
      s.inputs.map((v) => [
        v.name,
        new Tensor(
          v.dtype as 'float32',
          new (v.dtype === 'float32' ? Float32Array : v.dtype === 'int8' ? Int8Array : Uint8Array)(sizeOf(v.shape as number[])),
          v.shape as number[],
        ),
      ]),
    );
    s.runSync(feeds);
    const p = s.memoryPlans()[0]!;
    arena = { inputs: p.signature, arenaBytes: p.arenaBytes, unsharedBytes: p.unsharedBytes, tensors: p.tensors.length };
  }
  await s.release();
  return {
    integerNodes: entries.filter((e) => e.execution === 'integer').length,
    fusedNodes: entries.filter((e) => e.execution === 'fused').length,
    floatNodes: entries.filter((e) => e.execution === 'float').map((e) => ({ node: e.node, opType: e.opType, reason: e.reason ?? '' })),
    kernels,
    ...(arena ? { arena } : {}),
  };
}

const dimStr = (d: Dim) => (d === null ? '?' : d);
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

export function inspectModel(model: Model, file: string): InspectReport {
  const g = model.graph;
  const opCounts: Record<string, number> = {};
  for (const n of g.nodes) {
    const k = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
    opCounts[k] = (opCounts[k] ?? 0) + 1;
  }
  let parameters = 0;
  let parameterBytes = 0;
  // Exporters such as paddle2onnx keep weights in Constant nodes rather than initializers: count both.
  const constants = g.nodes.flatMap((n) => {
    const v = n.opType === 'Constant' ? n.attributes.get('value') : undefined;
    return v?.type === 'tensor' ? [v.value] : [];
  });
  for (const t of [...g.initializers.values(), ...constants]) {
    parameters += t.size;
    parameterBytes += Array.isArray(t.data) ? 0 : (t.data as ArrayBufferView).byteLength;
  }
  const io = (v: { name: string; dtype?: string; shape?: Dim[] }) => ({
    name: v.name,
    dtype: v.dtype ?? '?',
    shape: v.shape ? v.shape.map(dimStr) : null,
  });
  return {
    file,
    irVersion: model.irVersion,
    producer: `${model.producerName} ${model.producerVersion}`.trim(),
    opsets: model.opsetImports.map((o) => ({ domain: o.domain || 'ai.onnx', version: o.version })),
    inputs: g.runtimeInputs.map(io),
    outputs: g.outputs.map(io),
    nodes: g.nodes.length,
    opCounts: Object.fromEntries(Object.entries(opCounts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    parameters,
    parameterBytes,
    initializers: g.initializers.size,
    metadata: Object.fromEntries(model.metadata),
    unsupported: g.nodes
      .filter((n) => !defaultOps.has(n.opType, n.domain))
      .map((n) => ({ node: n.name || n.outputs[0] || '?', opType: n.opType, domain: n.domain })),
  };
}

function text(r: InspectReport): string {
  const shape = (s: (number | string)[] | null) => (s ? `[${s.join(', ')}]` : '(unknown rank)');
  const lines = [
    `model      ${r.file}`,
    `ir         ${r.irVersion}${r.producer ? `  (producer: ${r.producer})` : ''}`,
    `opsets     ${r.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
    'inputs',
    ...r.inputs.map((v) => `  ${v.name}: ${v.dtype} ${shape(v.shape)}`),
    'outputs',
    ...r.outputs.map((v) => `  ${v.name}: ${v.dtype} ${shape(v.shape)}`),
    `nodes      ${r.nodes}`,
    ...Object.entries(r.opCounts).map(([op, c]) => `  ${op.padEnd(24)} ${c}`),
    `parameters ${r.parameters.toLocaleString('en-US')} (${(r.parameterBytes / 1024).toFixed(1)} KiB; ${r.initializers} initializers plus Constant nodes)`,
  ];
  if (Object.keys(r.metadata).length) lines.push('metadata', ...Object.entries(r.metadata).map(([k, v]) => `  ${k} = ${v}`));
  if (r.unsupported.length)
    lines.push('unsupported ops', ...r.unsupported.map((u) => `  ${u.domain ? `${u.domain}::` : ''}${u.opType} (node '${u.node}')`));
  else lines.push('unsupported ops: none');
  if (r.integer) {
    lines.push(
      `integer executor: ${r.integer.integerNodes} nodes integer (${Object.entries(r.integer.kernels)
        .map(([k, c]) => `${k} ${c}`)
        .join(', ')}), ${r.integer.fusedNodes} fused`,
    );
    if (r.integer.floatNodes.length)
      lines.push('  dequantized (no integer form):', ...r.integer.floatNodes.map((f) => `    ${f.opType} '${f.node}': ${f.reason}`));
    else lines.push('  dequantized (no integer form): none');
    const a = r.integer.arena;
    if (a)
      lines.push(
        `  arena: ${kib(a.arenaBytes)} for ${a.tensors} intermediates of ${a.inputs} (${kib(a.unsharedBytes)} with a buffer each)`,
      );
    else lines.push('  arena: planned at the first run of each input shape (the inputs have dynamic dimensions)');
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(HELP);
    return 2;
  }
  const file = positionals[0]!;
  const model = loadModel(file);
  const report = inspectModel(model, file);
  const integer = await integerLowering(model);
  if (integer) report.integer = integer;
  if (!values.quiet) console.log(values.json ? JSON.stringify(report, null, 2) : text(report));
  return report.unsupported.length ? 3 : 0;
}
