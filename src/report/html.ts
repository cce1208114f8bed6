/**
 * One self-contained HTML report: inline CSS and inline SVG plots, no script, no external resource,
 * so that it opens anywhere without network access. Plots: per-layer SQNR bars (layerwise and
 * graphwise), per-channel weight ranges (before and after equalization when given), activation
 * histograms with the chosen clip range marked.
 */
import type { AnalysisReport, Histogram, LayerAnalysis } from '../analysis/analyze.js';
import type { FixTrial, Sensitivity, Suggestion } from '../analysis/suggest.js';
import { db, layerCells, num, pct } from './text.js';

export interface HtmlReportInput {
  title: string;
  /** Free lines under the title (model paths, settings). */
  summary?: string[];
  /** Small tables shown first (e.g. the demo's accuracy and latency tables). */
  tables?: { caption: string; header: string[]; rows: (string | number)[][] }[];
  analysis?: AnalysisReport;
  /** Per-channel weight ranges before equalization, by layer name (after: the analysis' weights). */
  weightsBefore?: Map<string, { channelMin: number[]; channelMax: number[] }>;
  /** Histograms to draw (default: the 6 most sensitive layers that have one). */
  histogramLayers?: number;
  /** Causes and fixes for the most sensitive layers (suggestFixes), and the fixes measured (tryFixes). */
  suggestions?: Suggestion[];
  /** The sensitivity rule's verdict (suggest.ts), shown above the suggestions: why none, when none. */
  sensitivity?: Sensitivity;
  trials?: FixTrial[];
  mixedPrecision?: {
    keepFloat: string[];
    layers: number;
    keepFloatActivations?: string[];
    activations?: number;
    met: boolean;
    target: string;
    baseline: { agreement: number; sqnrDb: number };
    final: { agreement: number; sqnrDb: number };
  };
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fin = (v: number, cap: number) => (Number.isFinite(v) ? v : v > 0 ? cap : -cap);

/**
 * Okabe-Ito colours (Okabe and Ito 2008, "Color Universal Design"): distinguishable with every
 * common colour-vision deficiency. Blue for the layer quantized alone (and the weights after
 * equalization, and the histogram bars), orange for graphwise.
 */
export const PALETTE = { alone: '#0072b2', graphwise: '#e69f00', before: '#bbbbbb', clip: '#d55e00', clipZone: '#fbeecb' } as const;

/**
 * Horizontal bars: two per layer, SQNR with the layer quantized alone (model output) and graphwise
 * (the layer's output, everything quantized), each with its value. The axis starts at the lowest
 * value when some SQNR is negative (quantization noise above the signal): those bars go left of 0.
 */
export function sqnrBars(layers: LayerAnalysis[]): string {
  const rowH = 22,
    left = 170,
    width = 720,
    top = 34,
    right = 70;
  const vals = layers.flatMap((l) => [l.graphwise.sqnrDb, l.layerwise?.outputSqnrDb ?? NaN]).filter((v) => Number.isFinite(v));
  const max = Math.max(10, ...vals) * 1.05;
  const lowest = Math.min(0, ...vals);
  const min = lowest < 0 ? Math.floor((lowest * 1.05) / 10) * 10 : 0;
  const x = (v: number) => left + ((Math.min(max, Math.max(min, fin(v, max))) - min) / (max - min)) * (width - left - right);
  const h = top + rowH * layers.length + 24;
  const parts = [
    `<svg class="plot sqnr" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="per-layer SQNR">`,
    `<rect class="bar-alone legend" x="${left}" y="4" width="12" height="10"/><text x="${left + 16}" y="13" class="axis">alone: layer quantized alone (model output)</text>`,
    `<rect class="bar-graph legend" x="${left + 270}" y="4" width="12" height="10"/><text x="${left + 286}" y="13" class="axis">graphwise: all quantized (layer output)</text>`,
    `<text x="${width - right + 12}" y="${h - 6}" class="axis">SQNR dB</text>`,
  ];
  const grid: string[] = [];
  const step = max - min > 60 ? 20 : 10;
  grid.push(`<line x1="${x(0)}" x2="${x(0)}" y1="${top - 4}" y2="${h - 20}" class="zero"/>`);
  for (let t = Math.ceil(min / step) * step; t <= max; t += step)
    grid.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${top - 4}" y2="${h - 20}" class="grid"/><text x="${x(t)}" y="${h - 6}" text-anchor="middle" class="axis">${t}</text>`,
    );
  parts.push(...grid);
  const bar = (cls: string, v: number, y: number, bh: number, what: string, name: string): string => {
    if (Number.isNaN(v)) return `<text x="${x(0) + 4}" y="${y + bh - 1}" class="value">- (${what} not measured)</text>`;
    const x0 = Math.min(x(0), x(v)),
      w = Math.max(1, Math.abs(x(v) - x(0)));
    // A negative value's number goes right of the zero line, clear of the layer names on the left.
    const label = `<text x="${(v < 0 ? x(0) + 4 : x0 + w + 4).toFixed(1)}" y="${y + bh - 1}" class="value">${db(v)}</text>`;
    return `<rect class="${cls}" x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${bh}"><title>${esc(name)} ${what} ${db(v)} dB</title></rect>${label}`;
  };
  layers.forEach((l, i) => {
    const y = top + i * rowH,
      bh = (rowH - 4) / 2;
    parts.push(
      `<text x="${left - 6}" y="${y + rowH / 2 + 2}" text-anchor="end" class="label">${esc(l.name)}<title>${esc(l.name)}</title></text>`,
    );
    const a = l.layerwise?.outputSqnrDb;
    parts.push(bar('bar-alone', a ?? NaN, y + 1, bh, 'alone', l.name));
    parts.push(bar('bar-graph', l.graphwise.sqnrDb, y + 1 + bh, bh, 'graphwise', l.name));
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Per-channel [min, max] bars, x the output channel, y the weight value; `before` drawn behind in grey when given. */
export function weightRanges(
  name: string,
  after: { channelMin: number[]; channelMax: number[] },
  before?: { channelMin: number[]; channelMax: number[] },
): string {
  const n = after.channelMin.length,
    width = 720,
    height = 190,
    left = 64,
    pad = 14,
    bottom = 34;
  const all = [...after.channelMin, ...after.channelMax, ...(before ? [...before.channelMin, ...before.channelMax] : [])].filter(
    Number.isFinite,
  );
  const lo = Math.min(0, ...all),
    hi = Math.max(0, ...all);
  const y = (v: number) => pad + ((hi - v) / (hi - lo || 1)) * (height - pad - bottom);
  const bw = (width - left - 10) / Math.max(1, n);
  const parts = [
    `<svg class="plot weights" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="weight ranges of ${esc(name)}">`,
    `<line x1="${left}" x2="${width - 10}" y1="${y(0)}" y2="${y(0)}" class="grid"/><line x1="${left}" x2="${left}" y1="${pad}" y2="${height - bottom}" class="grid"/>`,
    `<text x="${left - 4}" y="${y(hi) + 4}" text-anchor="end" class="axis">${num(hi, 2)}</text><text x="${left - 4}" y="${y(0) + 4}" text-anchor="end" class="axis">0</text><text x="${left - 4}" y="${y(lo)}" text-anchor="end" class="axis">${num(lo, 2)}</text>`,
    `<text x="14" y="${(pad + height - bottom) / 2}" transform="rotate(-90 14 ${(pad + height - bottom) / 2})" text-anchor="middle" class="axis">weight value</text>`,
    `<text x="${left}" y="${height - bottom + 14}" class="axis">0</text><text x="${width - 10}" y="${height - bottom + 14}" text-anchor="end" class="axis">${n - 1}</text>`,
    `<text x="${(left + width - 10) / 2}" y="${height - 6}" text-anchor="middle" class="axis">output channel (${n}): bar = [min, max] of its weights</text>`,
  ];
  for (let c = 0; c < n; c++) {
    const x0 = left + c * bw;
    if (before)
      parts.push(
        `<rect class="w-before" x="${x0.toFixed(1)}" y="${y(before.channelMax[c]).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${Math.max(0.5, y(before.channelMin[c]) - y(before.channelMax[c])).toFixed(1)}"/>`,
      );
    parts.push(
      `<rect class="w-after" x="${(x0 + bw * 0.2).toFixed(1)}" y="${y(after.channelMax[c]).toFixed(1)}" width="${Math.max(1, bw * 0.6 - 1).toFixed(1)}" height="${Math.max(0.5, y(after.channelMin[c]) - y(after.channelMax[c])).toFixed(1)}"><title>channel ${c}: [${num(after.channelMin[c])}, ${num(after.channelMax[c])}]</title></rect>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Histogram (log counts) with the clip range [clipMin, clipMax] shaded and its edges marked, in a
 * figure whose caption (HTML, so it wraps) holds the full tensor name.
 */
export function histogramPlot(name: string, h: Histogram, clipMin: number, clipMax: number): string {
  const width = 340,
    height = 150,
    pad = 18,
    bottom = 30;
  const n = h.counts.length,
    bw = (width - 2 * pad) / n;
  const maxLog = Math.log10(1 + Math.max(1, ...h.counts));
  const x = (v: number) => pad + ((v - h.min) / (h.max - h.min || 1)) * (width - 2 * pad);
  const parts = [
    `<figure class="hist"><figcaption>${esc(name)}</figcaption>`,
    `<svg class="plot hist" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="histogram of ${esc(name)}">`,
    `<rect class="clip-zone" x="${x(clipMin).toFixed(1)}" y="${pad}" width="${Math.max(1, x(clipMax) - x(clipMin)).toFixed(1)}" height="${height - pad - bottom}"/>`,
  ];
  h.counts.forEach((c, i) => {
    const bh = (Math.log10(1 + c) / maxLog) * (height - pad - bottom);
    if (c > 0)
      parts.push(
        `<rect class="hbar" x="${(pad + i * bw).toFixed(1)}" y="${(height - bottom - bh).toFixed(1)}" width="${Math.max(0.5, bw - 0.3).toFixed(1)}" height="${bh.toFixed(1)}"/>`,
      );
  });
  parts.push(
    `<line class="clip" x1="${x(clipMin)}" x2="${x(clipMin)}" y1="${pad - 4}" y2="${height - bottom}"/><line class="clip" x1="${x(clipMax)}" x2="${x(clipMax)}" y1="${pad - 4}" y2="${height - bottom}"/>`,
    `<text x="${pad}" y="${height - bottom + 12}" class="axis">${num(h.min, 3)}</text><text x="${width - pad}" y="${height - bottom + 12}" text-anchor="end" class="axis">${num(h.max, 3)}</text>`,
    `<text x="${width / 2}" y="${height - 4}" text-anchor="middle" class="axis">activation value</text>`,
    `<text x="${pad}" y="12" class="axis">count (log scale); shaded: clip range</text></svg></figure>`,
  );
  return parts.join('');
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h1,h2,h3,p,code{overflow-wrap:anywhere}
.table-wrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:8px 0;font-size:12.5px;max-width:100%}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
td:first-child,th:first-child,td.l{text-align:left;overflow-wrap:anywhere}caption{text-align:left;font-weight:600;padding:4px 0}
@media (max-width:900px){table{font-size:11px}td,th{padding:2px 3px}}
.plot{display:block;margin:6px 0;background:#fff;max-width:100%;height:auto}.label,.value,.axis{font-size:11px;fill:#333}.grid{stroke:#e4e4e4}.zero{stroke:#888}
.bar-graph{fill:${PALETTE.graphwise}}.bar-alone{fill:${PALETTE.alone}}.w-before{fill:${PALETTE.before}}.w-after{fill:${PALETTE.alone}}
.clip-zone{fill:${PALETTE.clipZone}}.clip{stroke:${PALETTE.clip};stroke-width:1.5}.hbar{fill:${PALETTE.alone}}
.hists{display:flex;flex-wrap:wrap;gap:12px}figure.hist{margin:0;max-width:340px}figure.hist figcaption{font-size:12px;overflow-wrap:anywhere}.note{color:#555}`;

function htmlTable(caption: string, header: string[], rows: (string | number)[][]): string {
  return `<div class="table-wrap"><table><caption>${esc(caption)}</caption><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

export function renderHtml(input: HtmlReportInput): string {
  const out: string[] = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(input.title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(input.title)}</h1>`,
  ];
  for (const s of input.summary ?? []) out.push(`<p class="note">${esc(s)}</p>`);
  for (const t of input.tables ?? []) out.push(htmlTable(t.caption, t.header, t.rows));
  const mp = input.mixedPrecision;
  if (mp) {
    out.push(
      '<h2 id="mixed-precision">Mixed precision</h2>',
      `<p>Target ${esc(mp.target)}: ${mp.met ? 'met' : 'not met'} keeping ${mp.keepFloat.length} of ${mp.layers} layers in float (${pct(mp.keepFloat.length / Math.max(1, mp.layers), 1)}). ` +
        `Top-1 agreement ${pct(mp.baseline.agreement)} → ${pct(mp.final.agreement)}, output SQNR ${db(mp.baseline.sqnrDb)} → ${db(mp.final.sqnrDb)} dB.</p>`,
      `<p>Kept in float: ${mp.keepFloat.map((n) => `<code>${esc(n)}</code>`).join(', ') || 'none'}</p>`,
    );
    if (mp.keepFloatActivations?.length) {
      out.push(
        `<p>Every layer in float was not enough: also ${mp.keepFloatActivations.length} of ${mp.activations ?? '?'} activations outside layers in float: ` +
          `${mp.keepFloatActivations.map((n) => `<code>${esc(n)}</code>`).join(', ')}</p>`,
      );
    }
  }
  const a = input.analysis;
  const dense = a?.output.kind === 'dense';
  if (a) {
    out.push(
      '<h2 id="sensitivity">Per-layer SQNR</h2>',
      `<p>Model output <code>${esc(a.output.tensor)}</code> with everything quantized (${a.samples} samples): SQNR ${db(a.output.sqnrDb)} dB, cosine ${num(a.output.cosine, 5)}, ${dense ? 'a dense output, judged by SQNR (top-1 agreement means nothing here)' : `top-1 agreement ${pct(a.output.agreement)}`}. Layers sorted by their output SQNR when quantized alone, lowest first.</p>`,
      sqnrBars(a.layers),
    );
    if (input.suggestions) {
      out.push('<h2 id="fixes">Suggested fixes</h2>');
      if (input.sensitivity) out.push(`<p class="note">${esc(input.sensitivity.why)}</p>`);
      if (input.suggestions.length) {
        out.push(
          htmlTable(
            'Sensitive layers: cause and fix',
            ['layer', 'share of output error', 'cause', 'evidence', 'fixes', 'not suggested (in effect)'],
            input.suggestions.map((s) => [
              s.layer,
              pct(s.errorShare, 0),
              s.cause,
              s.evidence,
              s.fixes.join(', '),
              s.skipped.map((k) => `${k.fix}: ${k.why}`).join('; ') || '-',
            ]),
          ),
        );
      }
    }
    if (input.trials?.length) {
      const b = input.trials[0];
      out.push(
        htmlTable(
          'Fixes tried (held-out data)',
          ['fix', 'change', dense ? '-' : 'top-1 agreement', 'output SQNR dB', 'vs baseline dB'],
          input.trials.map((t) =>
            t.skipped
              ? [t.fix, t.change, '-', '-', `skipped: ${t.skipped}`]
              : [
                  t.fix,
                  t.change,
                  dense ? '-' : pct(t.agreement),
                  db(t.sqnrDb),
                  t === b ? '' : `${t.sqnrDb >= b.sqnrDb ? '+' : ''}${db(t.sqnrDb - b.sqnrDb)}`,
                ],
          ),
        ),
      );
    }
    out.push(
      htmlTable(
        'Layers (most sensitive first)',
        [
          'layer',
          'op',
          'alone SQNR dB',
          'alone agreement',
          'graph SQNR dB',
          'cosine',
          'MSE',
          'weight scale',
          'act scale',
          'zero point',
          'clip range',
          'clipped',
        ],
        a.layers.map((l) => [l.name, ...layerCells(l, dense)]),
      ),
    );
    const withW = a.layers.filter((l) => l.weight).slice(0, 6);
    if (withW.length) {
      out.push(
        '<h2 id="weights">Per-channel weight ranges</h2>',
        `<p class="note">${input.weightsBefore ? 'Grey: before equalization; blue: after (as quantized).' : 'Blue: per output channel [min, max] of the quantized weight (no equalization ran).'}</p>`,
      );
      for (const l of withW) out.push(`<h3>${esc(l.name)}</h3>`, weightRanges(l.name, l.weight!, input.weightsBefore?.get(l.name)));
    }
    const withH = a.layers.filter((l) => l.activation).slice(0, input.histogramLayers ?? 6);
    if (withH.length) {
      out.push('<h2 id="histograms">Activation histograms and clip ranges</h2><div class="hists">');
      for (const l of withH)
        out.push(
          histogramPlot(`${l.name}: ${l.activation!.tensor}`, l.activation!.histogram, l.activation!.clipMin, l.activation!.clipMax),
        );
      out.push('</div>');
    }
  }
  out.push('</body></html>');
  return out.join('\n');
}
