// The HTML report: self-contained (no external resource, no script), and it renders in headless
// Chromium (Debian's chromium, installed by .ci/run): its DOM has the plots and layer names, and a
// screenshot shows the plots painted.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze, type AnalysisReport } from '../src/analysis/analyze.js';
import { readIdx } from '../src/io/idx.js';
import { quantize } from '../src/ptq/quantize.js';
import { PALETTE, renderHtml, sqnrBars } from '../src/report/html.js';
import { sensitivity, suggestFixes } from '../src/analysis/suggest.js';
import { DEFAULT_QUANTIZE_OPTIONS } from '../src/ptq/options.js';
import { writeFileAtomic } from '../src/report/write.js';
import { Tensor } from '../src/tensor.js';
import { fixture } from './fixtures.js';

const mnistPath = fixture('models', 'mnist-8', 'model.onnx');
const imagesPath = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
// Found on PATH, as .ci/run's `command -v chromium` finds it.
const chromium = (process.env.PATH ?? '')
  .split(delimiter)
  .flatMap((d) => ['chromium', 'chromium-browser'].map((n) => join(d, n)))
  .find((p) => existsSync(p));
if (process.env.CI === 'true' && !chromium) throw new Error("chromium is missing under CI (.ci/run installs Debian's chromium)");

/**
 * Runs headless Chromium on `file` with `args` (--dump-dom, --screenshot=...); returns stdout.
 * Asynchronous: a synchronous wait blocks the vitest worker, and a block over 60 s (Chromium on a
 * loaded machine) fails the whole run with a worker RPC timeout.
 */
async function chromiumOn(file: string, args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'onnx-ptq-chromium-'));
  try {
    const { stdout } = await promisify(execFile)(
      chromium!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        ...args,
        pathToFileURL(file).href,
      ],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

describe.skipIf(!(mnistPath && imagesPath))('HTML report', () => {
  let report: AnalysisReport, html: string;
  beforeAll(async () => {
    const px = readIdx(imagesPath!).data as Uint8Array;
    const samples = Array.from({ length: 24 }, (_, i) => ({
      Input3: new Tensor('float32', Float32Array.from(px.subarray(i * 784, i * 784 + 784)), [1, 1, 28, 28]),
    }));
    const q = (await quantize(mnistPath!, { calibration: samples.slice(0, 16) })).model;
    report = await analyze(mnistPath!, q, samples.slice(16));
    html = renderHtml({
      title: 'report <test>',
      analysis: report,
      tables: [{ caption: 'accuracy', header: ['executor', 'accuracy'], rows: [['float', '98.91%']] }],
      weightsBefore: new Map([
        [
          report.layers[0].name,
          {
            channelMin: report.layers[0].weight!.channelMin.map((v) => v * 2),
            channelMax: report.layers[0].weight!.channelMax.map((v) => v * 2),
          },
        ],
      ]),
      mixedPrecision: {
        keepFloat: ['Times212'],
        layers: 3,
        keepFloatActivations: ['Plus30_Output_0'],
        activations: 4,
        met: true,
        target: 'agreement >= 99%',
        baseline: { agreement: 0.98, sqnrDb: 30 },
        final: { agreement: 1, sqnrDb: 40 },
      },
      suggestions: suggestFixes(report, { current: DEFAULT_QUANTIZE_OPTIONS }),
      sensitivity: sensitivity(report),
      trials: [
        { fix: 'baseline', change: 'as given', agreement: 0.98, sqnrDb: 30 },
        { fix: 'per-channel', change: 'weightGranularity: per-channel', agreement: 1, sqnrDb: 33.5 },
        { fix: 'observer-minmax', change: '-', agreement: NaN, sqnrDb: NaN, skipped: 'already calibrated with minmax' },
      ],
    });
  });

  it("mnist-8 at int8 (the demo's settings): no layer is called sensitive, and the report says why", () => {
    expect(suggestFixes(report, { current: DEFAULT_QUANTIZE_OPTIONS }), sensitivity(report).why).toEqual([]);
    expect(html, html.slice(html.indexOf('id="fixes"'), html.indexOf('id="fixes"') + 300)).toMatch(
      /<h2 id="fixes">Suggested fixes<\/h2>\s*<p class="note">no layer is sensitive: quantization costs nothing measurable here \(model output SQNR \d+\.\d dB/,
    );
    expect(html).not.toContain('Sensitive layers: cause and fix');
    expect(html).not.toMatch(/keep-float/);
    // A skipped fix is listed with its reason, not measured.
    expect(html).toMatch(/<td>observer-minmax<\/td><td>-<\/td><td>-<\/td><td>-<\/td><td>skipped: already calibrated with minmax<\/td>/);
  });

  it('is self-contained: no script, no external URL, names escaped', () => {
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
    expect(html).toContain('report &lt;test&gt;');
    expect(html.match(/<svg class="plot sqnr"/g)).toHaveLength(1);
    expect(html.match(/<svg class="plot hist"/g)?.length).toBe(3);
    expect(html.match(/<svg class="plot weights"/g)?.length).toBe(3);
    expect(html).toContain('w-before');
  });

  it.skipIf(!chromium)(
    'renders in headless Chromium with its plots and layer names',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-report-'));
      const file = join(dir, 'report.html');
      writeFileAtomic(file, html);
      const dom = await chromiumOn(file, ['--dump-dom']);
      for (const id of ['sensitivity', 'fixes', 'weights', 'histograms', 'mixed-precision']) expect(dom).toContain(`id="${id}"`);
      expect(dom).toContain('Plus30_Output_0'); // an activation kept in float
      expect(dom).toMatch(/<td>per-channel<\/td><td>weightGranularity: per-channel<\/td><td>100.00%<\/td><td>33.5<\/td><td>\+3.5<\/td>/);
      expect(dom.match(/<svg[^>]*class="plot /g)?.length).toBe(7);
      expect(dom.match(/<rect class="bar-alone"/g)?.length).toBe(3);
      for (const l of report.layers) expect(dom).toContain(l.name);
      expect(dom).toContain('98.91%');
      // Painted, not only parsed: the screenshot holds the Okabe-Ito blue (#0072b2: the "alone" bars,
      // the weights after equalization and the histograms) over a sizeable area, and the orange of the
      // graphwise bars (#e69f00), a colour distinct from it for every common colour-vision deficiency.
      const png = join(dir, 'shot.png');
      await chromiumOn(file, [`--screenshot=${png}`, '--window-size=1100,2600', '--hide-scrollbars']);
      const img = PNG.sync.read(readFileSync(png));
      const count = (hex: string) => {
        const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
        let n = 0;
        for (let i = 0; i < img.data.length; i += 4) if (img.data[i] === r && img.data[i + 1] === g && img.data[i + 2] === b) n++;
        return n;
      };
      const blue = count(PALETTE.alone),
        orange = count(PALETTE.graphwise);
      console.log(`report screenshot ${img.width}x${img.height}: ${blue} pixels of the blue, ${orange} of the orange`);
      expect(blue).toBeGreaterThan(20_000);
      expect(orange).toBeGreaterThan(500);
      rmSync(dir, { recursive: true, force: true });
    },
    90_000,
  );

  it('plots: distinct alone/graphwise colours, full histogram titles, labelled weight axes', () => {
    expect(PALETTE.alone).not.toBe(PALETTE.graphwise);
    expect(html).toContain(`.bar-alone{fill:${PALETTE.alone}}`);
    expect(html).toContain(`.bar-graph{fill:${PALETTE.graphwise}}`);
    for (const l of report.layers.filter((x) => x.activation).slice(0, 6)) {
      expect(html).toContain(`<figcaption>${l.name}: ${l.activation!.tensor}</figcaption>`);
    }
    expect(html.match(/>weight value</g)?.length).toBe(3);
    expect(html.match(/>output channel \(\d+\)/g)?.length).toBe(3);
  });

  it('negative SQNR gets a bar left of zero and its number; a layer without a measurement says so', () => {
    const layer = (name: string, graph: number, alone?: number) => ({
      name,
      op: 'Conv',
      output: name,
      graphwise: { sqnrDb: graph },
      ...(alone === undefined ? {} : { layerwise: { outputSqnrDb: alone, agreement: 1 } }),
    });
    const svg = sqnrBars([layer('neg', -7.25, -3.5), layer('pos', 25, 40), layer('none', 12)] as unknown as Parameters<typeof sqnrBars>[0]);
    const rects = [
      ...svg.matchAll(/<rect class="(bar-alone|bar-graph)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*><title>(\w+) (\w+) ([-\d.]+) dB/g),
    ].map((m) => ({ cls: m[1], x: +m[2], w: +m[3], name: m[4], value: +m[6] }));
    const zero = Number(/<line x1="([\d.]+)"[^>]*class="zero"/.exec(svg)![1]);
    const neg = rects.filter((r) => r.name === 'neg');
    expect(neg.map((r) => r.value)).toEqual([-3.5, -7.3]);
    for (const r of neg) {
      expect(r.w).toBeGreaterThan(5);
      expect(r.x + r.w).toBeCloseTo(zero, 0); // drawn leftwards from 0
    }
    expect(svg).toContain('>-3.5</text>');
    expect(svg).toContain('>-7.3</text>');
    const pos = rects.filter((r) => r.name === 'pos');
    for (const r of pos) expect(r.x).toBeCloseTo(zero, 0);
    expect(svg).toContain('- (alone not measured)');
  });

  it.skipIf(!chromium)(
    'fits an 800 px window: no element wider than the page',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-report-'));
      const file = join(dir, 'report-800.html');
      // A copy with a probe script (the report itself has none): lists what sticks out on the right.
      const probe = `<script>addEventListener('load',()=>{const w=document.documentElement.clientWidth;const out=[...document.body.querySelectorAll('*')]
      .filter((e)=>e.getBoundingClientRect().right>w+0.5).map((e)=>e.tagName+'.'+(e.getAttribute('class')||'')).slice(0,10);
      const p=document.createElement('pre');p.id='overflow';p.textContent=JSON.stringify({w,scroll:document.documentElement.scrollWidth,out});document.body.append(p);});</script>`;
      writeFileAtomic(file, html.replace('</body>', `${probe}</body>`));
      const dom = await chromiumOn(file, ['--dump-dom', '--window-size=800,1200', '--virtual-time-budget=5000']);
      const m = /<pre id="overflow">([^<]*)<\/pre>/.exec(dom);
      expect(m, 'the probe did not run').toBeTruthy();
      const r = JSON.parse(m![1].replace(/&quot;/g, '"')) as { w: number; scroll: number; out: string[] };
      console.log(`report at 800 px: client width ${r.w}, scroll width ${r.scroll}`);
      expect(r.out).toEqual([]);
      expect(r.scroll).toBeLessThanOrEqual(r.w);
      rmSync(dir, { recursive: true, force: true });
    },
    90_000,
  );
});
