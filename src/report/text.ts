/** Terminal tables for analysis reports (plain text, fixed-width columns). */
import type { AnalysisReport } from '../analysis/analyze.js';

export function table(header: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? c.padEnd(w[i]) : c.padStart(w[i])))
      .join('  ')
      .trimEnd();
  return [fmt(header), w.map((n) => '-'.repeat(n)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}

export function db(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  if (v === Infinity) return 'inf';
  return v.toFixed(1);
}

export function num(v: number | undefined, digits = 4): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return Number(v.toFixed(digits)).toString();
}

export function pct(v: number | undefined, digits = 2): string {
  return v === undefined || Number.isNaN(v) ? '-' : `${(100 * v).toFixed(digits)}%`;
}

/**
 * One layer's cells, shared by the terminal and HTML tables: op, alone SQNR and agreement, graph
 * SQNR, cosine, MSE, weight scale, activation scale, zero point, clip range, clipped share.
 */
export function layerCells(l: AnalysisReport['layers'][number], dense = false): string[] {
  return [
    l.op,
    db(l.layerwise?.outputSqnrDb),
    dense ? '-' : pct(l.layerwise?.agreement, 1),
    db(l.graphwise.sqnrDb),
    num(l.graphwise.cosine, 5),
    num(l.graphwise.mse),
    l.weight ? (l.weight.perChannel ? `${num(l.weight.scaleMin)}..${num(l.weight.scaleMax)}` : num(l.weight.scaleMin)) : '-',
    l.activation ? num(l.activation.scale) : '-',
    l.activation ? String(l.activation.zeroPoint) : '-',
    l.activation ? `[${num(l.activation.clipMin, 3)}, ${num(l.activation.clipMax, 3)}]` : '-',
    l.activation ? pct(l.activation.clippedShare, 3) : '-',
  ];
}

/** The analysis as a table, most sensitive layer first; `limit` rows (0: all). */
export function analysisTable(r: AnalysisReport, limit = 0): string {
  const dense = r.output.kind === 'dense';
  const rows = (limit ? r.layers.slice(0, limit) : r.layers).map((l, i) => [String(i + 1), l.name, ...layerCells(l, dense)]);
  const head = table(
    [
      '#',
      'layer',
      'op',
      'alone SQNR dB',
      'alone agree',
      'graph SQNR dB',
      'cosine',
      'MSE',
      'weight scale',
      'act scale',
      'zp',
      'clip range',
      'clipped',
    ],
    rows,
    ['r', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
  const o = r.output;
  return (
    `${head}\n\nmodel output '${o.tensor}' (everything quantized, ${r.samples} samples): SQNR ${db(o.sqnrDb)} dB, cosine ${num(o.cosine, 5)}, ${dense ? 'a dense output: judged by SQNR (top-1 agreement means nothing here)' : `top-1 agreement ${pct(o.agreement)}`}\n` +
    `"alone": only that layer quantized (its weight, input and output), the model output against the float model; "graph": the layer's own output with every layer quantized.`
  );
}
