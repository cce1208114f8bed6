// Chains of byte-to-byte steps (a unary LUT, Add/Mul by a one-element constant) become one table:
// PP-OCRv4 det's MobileOne blocks run HardSwish -> Mul(scalar) -> Add(scalar) on 320x320 maps, three
// full passes over memory where one does. Composition is exact: each step's output is the 8-bit value
// the next step reads, so table2[table1[x]] is what the two steps compute in sequence.
import { nodeLabel, type Node } from '../../../ir/graph.js';
import type { LowerContext, LoweringEntry, Step } from './context.js';
import { lutRun } from './unary-lut.js';

/**
 * Replaces every step whose table input is the output of another table step, read by nothing else
 * and not a graph output, with one step applying the composed table to the first step's input.
 * Fused producers are reported as `fused` into the consumer's node.
 */
export function fuseTables(lc: LowerContext, steps: Step[]): void {
  const readers = new Map<string, number>();
  for (const s of steps) for (const x of s.inputs) readers.set(x, (readers.get(x) ?? 0) + 1);
  const producer = new Map<string, number>();
  steps.forEach((s, i) => {
    for (const o of s.outputs) if (o) producer.set(o, i);
  });
  const dropped = new Set<number>();
  const chains = new Map<number, Node[]>();
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const t = s.table;
    if (!t) continue;
    const pi = producer.get(t.src);
    if (pi === undefined || dropped.has(pi)) continue;
    const p = steps[pi]!;
    const pt = p.table;
    if (!pt || p.outputs.length !== 1 || readers.get(t.src) !== 1 || lc.graphOutputs.has(t.src)) continue;
    const table = new Uint8Array(256);
    for (let b = 0; b < 256; b++) table[b] = t.table[pt.table[b]!]!;
    const pd = pt.dims,
      sd = t.dims;
    const dims = (x: readonly number[]) => sd(pd(x));
    const yName = s.outputs[0]!;
    const fused: Step = {
      node: s.node,
      inputs: [pt.src],
      outputs: s.outputs,
      run: lutRun(lc, pt.src, yName, t.signed, table, dims),
      table: { src: pt.src, table, signed: t.signed, dims },
      pure: true,
    };
    steps[i] = fused;
    dropped.add(pi);
    chains.set(i, [...(chains.get(pi) ?? [p.node]), s.node]);
    chains.delete(pi);
  }
  for (const [i, nodes] of chains) {
    const last = nodes[nodes.length - 1]!;
    for (const n of nodes.slice(0, -1))
      lc.record(n, { execution: 'fused', kernel: last.name || nodeLabel(last), reason: 'composed into one 256-entry table' });
    const e: LoweringEntry | undefined = lc.report.get(steps[i]!.node);
    lc.record(steps[i]!.node, {
      execution: 'integer',
      kernel: 'lut',
      reason: `one table for ${nodes.map((n) => n.opType).join(' -> ')}${e?.reason ? `; ${e.reason}` : ''}`,
    });
  }
  if (dropped.size === 0) return;
  const kept = steps.filter((_, i) => !dropped.has(i));
  steps.length = 0;
  steps.push(...kept);
}
