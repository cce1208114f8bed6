// `onnx-ptq quantize --passes a,b` and passOptions from --config, on mnist-8.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main as quantizeMain } from '../src/cli/commands/quantize.js';
import { loadModel } from '../src/onnx/io.js';
import { fixture } from './fixtures.js';
import { saveModel } from '../src/onnx/io.js';
import { writeNpy } from '../src/io/npy.js';
import { Tensor } from '../src/tensor.js';
import { rand, twoConv } from './passes-helpers.js';

const model = fixture('models', 'mnist-8', 'model.onnx');
const images = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
afterEach(() => vi.restoreAllMocks());

describe.skipIf(!(model && images))('quantize --passes', () => {
  it('runs the listed passes (options from --config) and records them; refuses a bad order, writing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-passes-'));
    const out = join(dir, 'q.onnx'),
      cfg = join(dir, 'ptq.json');
    writeFileSync(cfg, JSON.stringify({ passOptions: { equalization: { iterations: 3 } } }));
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      lines.push(a.join(' '));
    });
    expect(
      await quantizeMain([
        model!,
        '-o',
        out,
        '--calib',
        images!,
        '--samples',
        '20',
        '--config',
        cfg,
        '--passes',
        'equalization,sign-map,single-shift',
        '--json',
      ]),
    ).toBe(0);
    const q = loadModel(out);
    expect(q.metadata.get('onnx_ptq.requant_mode')).toBe('shift');
    expect(JSON.parse(q.metadata.get('onnx_ptq.passes')!)).toEqual(expect.arrayContaining(['sign-map', 'single-shift']));
    const bad = join(dir, 'bad.onnx');
    await expect(
      quantizeMain([model!, '-o', bad, '--calib', images!, '--samples', '5', '--passes', 'single-shift,equalization']),
    ).rejects.toThrow(/'equalization' cannot run after 'single-shift'/);
    await expect(quantizeMain([model!, '-o', bad, '--calib', images!, '--samples', '5', '--passes', 'equalise'])).rejects.toThrow(
      /unknown pass 'equalise'/,
    );
    expect(existsSync(bad)).toBe(false);
  });

  it('equalization with including_activation reads the calibration data twice from the CLI (re-opened from its source)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-passes-'));
    const out = join(dir, 'q.onnx'),
      cfg = join(dir, 'ptq.json'),
      rep = join(dir, 'report.json');
    writeFileSync(cfg, JSON.stringify({ passOptions: { equalization: { including_activation: true, optimize_level: 2, verbose: true } } }));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(
      await quantizeMain([
        model!,
        '-o',
        out,
        '--calib',
        images!,
        '--samples',
        '20',
        '--config',
        cfg,
        '--passes',
        'equalization',
        '--report',
        rep,
      ]),
    ).toBe(0);
    const report = JSON.parse(readFileSync(rep, 'utf8'));
    const eq = report.passes.find((p: { pass: string }) => p.pass === 'equalization');
    expect(eq.changed).toBeGreaterThan(0);
    // The second read saw the data too: calibration counted every sample after the ranges pass.
    expect(report.calibration.samples).toBe(20);
  });
});

describe('quantize --passes equalization: pairs it cannot cross', () => {
  it('are printed on the terminal and kept in the report, with why; ReLU6 is crossed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-passes-'));
    const calib = join(dir, 'calib.npy');
    writeNpy(calib, new Tensor('float32', rand(4 * 3 * 64, 2), [4, 3, 8, 8]));
    const hs = twoConv('relu6');
    const clip = hs.graph.nodes.find((n) => n.opType === 'Clip')!;
    clip.opType = 'HardSwish';
    clip.inputs = clip.inputs.slice(0, 1);
    hs.graph.initializers.delete('lo');
    hs.graph.initializers.delete('hi');
    hs.opsetImports = [{ domain: '', version: 14 }];
    for (const [name, m] of [
      ['hs', hs],
      ['r6', twoConv('relu6')],
    ] as const)
      saveModel(m, join(dir, `${name}.onnx`));
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      lines.push(a.join(' '));
    });
    const rep = join(dir, 'hs.json');
    expect(
      await quantizeMain([
        join(dir, 'hs.onnx'),
        '-o',
        join(dir, 'hs-q.onnx'),
        '--calib',
        calib,
        '--passes',
        'equalization',
        '--report',
        rep,
      ]),
    ).toBe(0);
    expect(lines.join('\n')).toMatch(
      /equalization: skipped Conv node 'conv1' -> Conv node 'conv2': not crossed at HardSwish node 'relu6': HardSwish is not positively homogeneous/,
    );
    const report = JSON.parse(readFileSync(rep, 'utf8'));
    expect(report.passes.find((p: { pass: string }) => p.pass === 'equalization').skipped).toHaveLength(1);
    lines.length = 0;
    expect(
      await quantizeMain([join(dir, 'r6.onnx'), '-o', join(dir, 'r6-q.onnx'), '--calib', calib, '--passes', 'equalization', '--json']),
    ).toBe(0);
    const summary = JSON.parse(lines.join('\n'));
    expect(summary.passes).toContain('equalization (1)');
    expect(summary.skipped).toEqual([]);
    expect(loadModel(join(dir, 'r6-q.onnx')).graph.nodes.some((n) => n.opType === 'Min')).toBe(true);
  });
});
