// Conventions every CLI command keeps: --help with examples, --json and --quiet, and --quiet
// printing nothing while the exit code still tells success from failure.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commands } from '../src/cli/commands.js';
import { saveModel } from '../src/onnx-api.js';
import { Graph, makeNode } from '../src/tools.js';
import { fixture } from './fixtures.js';

function capture(): { out: () => string } {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    lines.push(String(s));
    return true;
  });
  return { out: () => lines.join('\n') };
}
afterEach(() => vi.restoreAllMocks());

const mnist = fixture('models', 'mnist-8', 'model.onnx');
const mnistInput = fixture('models', 'mnist-8', 'test_data_set_0', 'input_0.pb');

describe('every command', () => {
  for (const [name, cmd] of Object.entries(commands)) {
    it(`${name} --help shows usage, an example, --json and --quiet, and exits 0`, async () => {
      const c = capture();
      expect(await (await cmd.load()).main(['--help'])).toBe(0);
      const help = c.out();
      expect(help).toMatch(new RegExp(`^usage: onnx-ptq ${name}`));
      expect(help).toMatch(/\bexamples?:\n\s+(ONNX_PTQ_\w+=\w+ |npx )?onnx-ptq /);
      expect(help).toContain('--json');
      expect(help).toContain('--quiet');
    });
  }
});

describe('--quiet prints nothing and keeps the exit code', () => {
  it.skipIf(!mnist)('inspect: 0 on a supported model', async () => {
    const c = capture();
    expect(await (await commands.inspect.load()).main([mnist!, '--quiet'])).toBe(0);
    expect(c.out()).toBe('');
  });

  it('inspect: 3 when an op is unsupported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-quiet-'));
    const path = join(dir, 'm.onnx');
    const graph = new Graph({
      name: 'g',
      inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [makeNode('Einsum', ['x'], ['y'], {}, 'e')],
    });
    saveModel(
      {
        irVersion: 8,
        opsetImports: [{ domain: '', version: 13 }],
        producerName: '',
        producerVersion: '',
        domain: '',
        modelVersion: 0,
        docString: '',
        metadata: new Map(),
        graph,
      },
      path,
    );
    const c = capture();
    expect(await (await commands.inspect.load()).main([path, '-q'])).toBe(3);
    expect(c.out()).toBe('');
  });

  it('backends: 0 when a backend loads; 1 when the forced one is unknown', async () => {
    const c = capture();
    expect(await (await commands.backends.load()).main(['--quiet'])).toBe(0);
    vi.stubEnv('ONNX_PTQ_BACKEND', 'no-such-backend');
    try {
      expect(await (await commands.backends.load()).main(['--quiet'])).toBe(1);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(c.out()).toBe('');
  });

  it.skipIf(!mnist || !mnistInput)('run: writes the outputs, prints nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-quiet-'));
    const c = capture();
    expect(await (await commands.run.load()).main([mnist!, '--input', mnistInput!, '--output-dir', dir, '--quiet'])).toBe(0);
    expect(c.out()).toBe('');
    expect(readdirSync(dir)).toEqual(['Plus214_Output_0.npy']);
  });
});
