// The quantize / inspect / validate commands end to end on mnist-8, and their failure modes:
// a failed run leaves no output file.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main as quantizeMain } from '../src/cli/commands/quantize.js';
import { main as inspectMain } from '../src/cli/commands/inspect.js';
import { main as validateMain } from '../src/cli/commands/validate.js';
import { writeNpy } from '../src/io/npy.js';
import { Tensor } from '../src/tensor.js';
import { OnnxPtqError } from '../src/errors.js';
import { loadModel } from '../src/onnx/io.js';
import { fixture } from './fixtures.js';

const model = fixture('models', 'mnist-8', 'model.onnx');
const images = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
const labels = fixture('data', 'mnist', 't10k-labels-idx1-ubyte.gz');

function capture(): { out: () => string } {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.join(' '));
  });
  return { out: () => lines.join('\n') };
}
afterEach(() => vi.restoreAllMocks());

describe.skipIf(!(model && images && labels))('quantize, inspect, validate commands', () => {
  it('quantize writes a QDQ model and a report; inspect shows it fully integer; validate scores it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-cli-'));
    const out = join(dir, 'q.onnx'),
      rep = join(dir, 'report.json'),
      cfg = join(dir, 'ptq.json');
    writeFileSync(cfg, JSON.stringify({ observer: 'percentile', observerOptions: { percentile: 99.99 } }));
    let c = capture();
    expect(await quantizeMain([model!, '-o', out, '--calib', images!, '--samples', '50', '--config', cfg, '--report', rep, '--json'])).toBe(
      0,
    );
    const summary = JSON.parse(c.out());
    expect(summary.calibrationSamples).toBe(50);
    expect(summary.layers).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(['ptq.json', 'q.onnx', 'report.json']);
    vi.restoreAllMocks();
    c = capture();
    expect(await inspectMain([out, '--json'])).toBe(0);
    const ins = JSON.parse(c.out());
    expect(ins.integer.floatNodes).toEqual([]);
    expect(ins.integer.kernels.qconv2d).toBe(2);
    // The memory plan for the declared input: shared buffers, smaller than one buffer per tensor.
    expect(ins.integer.arena).toMatchObject({ inputs: 'float32[1,1,28,28]', tensors: expect.any(Number) });
    expect(ins.integer.arena.arenaBytes).toBeLessThan(ins.integer.arena.unsharedBytes);
    expect(ins.metadata['onnx_ptq.options']).toContain('"observer":"percentile"');
    vi.restoreAllMocks();
    c = capture();
    expect(await validateMain([model!, out, '--data', images!, '--labels', labels!, '--data-limit', '500', '--json'])).toBe(0);
    const v = JSON.parse(c.out());
    expect(v.samples).toBe(500);
    expect(v.agreement).toBeGreaterThan(0.98);
    expect(v.quantAccuracy).toBeGreaterThan(0.97);
    expect(v.sqnrDb).toBeGreaterThan(25);
  });

  it('--mode dynamic needs no --calib and writes MatMulInteger (mnist-8: its Gemm-like MatMul; the convolutions stay float)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-cli-'));
    const out = join(dir, 'd.onnx');
    const c = capture();
    expect(await quantizeMain([model!, '-o', out, '--mode', 'dynamic', '--json'])).toBe(0);
    const summary = JSON.parse(c.out());
    expect(summary.calibrationSamples).toBe(0);
    vi.restoreAllMocks();
    const c2 = capture();
    expect(await inspectMain([out, '--json'])).toBe(0);
    const ins = JSON.parse(c2.out());
    expect(JSON.stringify(ins)).toContain('MatMulInteger');
    const err = await quantizeMain([model!, '-o', join(dir, 'e.onnx'), '--mode', 'sometimes']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect(String((err as Error).message)).toMatch(/mode.*static, dynamic/);
  });

  it('--weight-only --granularity per-block --weight-bits 4 --weight-format matmulnbits writes MatMulNBits (mnist-8); a bad block size names the option', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-cli-'));
    const out = join(dir, 'w4.onnx');
    const flags = ['--weight-only', '--granularity', 'per-block', '--weight-bits', '4'];
    capture();
    expect(await quantizeMain([model!, '-o', out, ...flags, '--group-size', '32', '--weight-format', 'matmulnbits', '--json'])).toBe(0);
    const q = loadModel(out);
    // Its last layer (MatMul + bias Add, folded into a Gemm) becomes MatMulNBits with the bias.
    expect(q.graph.nodes.filter((n) => n.opType === 'MatMulNBits' && n.domain === 'com.microsoft')).toHaveLength(1);
    // The convolutions keep blocked QDQ weights along their input channel.
    expect(q.graph.nodes.filter((n) => n.opType === 'DequantizeLinear' && n.attributes.get('block_size')?.value === 32)).toHaveLength(2);
    const err = await quantizeMain([model!, '-o', join(dir, 'e.onnx'), ...flags, '--group-size', '48']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxPtqError);
    expect(String((err as Error).message)).toMatch(/weightGroupSize' is 48; per-block weights need a power of two >= 16/);
  });

  it('failures are OnnxPtqError naming the option or file, and leave no output file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opq-cli-'));
    const out = join(dir, 'q.onnx');
    await expect(quantizeMain([model!, '--calib', images!])).rejects.toThrow(/missing -o/);
    await expect(quantizeMain([model!, '-o', out, '--calib', images!, '--bogus'])).rejects.toBeInstanceOf(OnnxPtqError);
    writeFileSync(join(dir, 'bad.json'), '{"weightBitz": 8}');
    await expect(quantizeMain([model!, '-o', out, '--calib', images!, '--config', join(dir, 'bad.json')])).rejects.toThrow(
      /bad\.json': option 'weightBitz' is unknown/,
    );
    const wrong = join(dir, 'wrong.npy');
    writeNpy(wrong, new Tensor('float32', new Float32Array(4 * 10), [4, 10]));
    await expect(quantizeMain([model!, '-o', out, '--calib', wrong])).rejects.toThrow(/does not fit input 'Input3'/);
    expect(existsSync(out)).toBe(false);
    const lab = join(dir, 'labels.txt');
    writeFileSync(lab, '1\n2\n');
    await expect(validateMain([model!, model!, '--data', images!, '--labels', lab, '--data-limit', '5'])).rejects.toThrow(
      /2 labels for the 10000 samples/,
    );
  });
});
