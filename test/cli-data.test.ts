// Data sources of the CLI: synthetic-text with a size (text lines, or pages for detection models),
// the error of a dynamic-shape model fed a size it cannot divide, labels that must match the samples
// one to one, and the defaults --help states.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DATA_HELP, openModelData } from '../src/cli/data-args.js';
import { main as validateMain } from '../src/cli/commands/validate.js';
import { main as quantizeMain } from '../src/cli/commands/quantize.js';
import { InferenceSession, Tensor, writeNpy, type Model } from '../src/onnx-api.js';
import { IntegerSession } from '../src/runtime/integer/index.js';
import { Graph, makeNode } from '../src/tools.js';
import { fixture } from './fixtures.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const fontsOk = existsSync(join(process.env.ONNX_PTQ_FONTS || '/usr/share/fonts/truetype/dejavu', 'DejaVuSans.ttf'));
const mnist = fixture('models', 'mnist-8', 'model.onnx');
const det = join(root, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_det_infer.onnx');

afterEach(() => vi.restoreAllMocks());

/** x [N, C, H, W] -> MaxPool 2x2 /2 (twice) -> Resize x4 (nearest) -> Add(x, .) : H and W must be multiples of 4. */
function unet(shape: (number | string)[]): Model {
  const graph = new Graph({
    name: 'mini-unet',
    inputs: [{ name: 'x', dtype: 'float32', shape }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: new Map([['scales', Tensor.float32([1, 1, 4, 4])]]),
    nodes: [
      makeNode(
        'MaxPool',
        ['x'],
        ['p1'],
        { kernel_shape: { type: 'ints', value: [2, 2] }, strides: { type: 'ints', value: [2, 2] } },
        'pool1',
      ),
      makeNode(
        'MaxPool',
        ['p1'],
        ['p2'],
        { kernel_shape: { type: 'ints', value: [2, 2] }, strides: { type: 'ints', value: [2, 2] } },
        'pool2',
      ),
      makeNode('Resize', ['p2', '', 'scales'], ['up'], { mode: { type: 'string', value: 'nearest' } }, 'up'),
      makeNode('Add', ['x', 'up'], ['y'], {}, 'skip_add'),
    ],
  });
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    metadata: new Map(),
    graph,
  };
}

describe('synthetic-text:N:SEED:HxW', () => {
  it.skipIf(!fontsOk)(
    'pages at the given size for a model with dynamic height and width, normalized as PP-OCR det',
    () => {
      const ds = openModelData(unet([1, 3, 'H', 'W']), 'synthetic-text:3:7:128x160', {});
      expect(ds.size).toBe(3);
      expect(ds.total).toBe(3);
      expect(ds.source).toMatch(/pages, 128x160/);
      const samples = [...ds.samples()];
      expect(samples).toHaveLength(3);
      const x = samples[0]!.x!;
      expect(x.dims).toEqual([1, 3, 128, 160]);
      const d = x.data as Float32Array,
        hw = 128 * 160;
      // Paper is light: most pixels near the top of the range; ink makes some dark ones (text is there).
      const ch0 = d.subarray(0, hw);
      const paper = ch0.filter((v) => v > 0.5).length,
        ink = ch0.filter((v) => v < -0.5).length;
      expect(paper / hw).toBeGreaterThan(0.6);
      expect(ink).toBeGreaterThan(50);
      // ImageNet mean/std per channel: a gray pixel g gives (g/255 - mean_c)/std_c in channel c.
      const g = (ch0[0]! * 0.229 + 0.485) * 255;
      expect(d[hw]).toBeCloseTo((g / 255 - 0.456) / 0.224, 4);
      // Deterministic: the same seed gives the same page.
      expect([...openModelData(unet([1, 3, 'H', 'W']), 'synthetic-text:1:7:128x160', {}).samples()][0]!.x!.data).toEqual(x.data);
    },
    30_000,
  );

  it.skipIf(!fontsOk)("text lines below 96 rows; the model's fixed dims are the default size and must not be contradicted", () => {
    const cls = unet([1, 3, 48, 'W']);
    const lines = openModelData(cls, 'synthetic-text:2:0', {});
    expect(lines.source).toMatch(/text lines, 48x192/);
    expect([...lines.samples()][0]!.x!.dims).toEqual([1, 3, 48, 192]);
    expect([...openModelData(cls, 'synthetic-text:1:0:48x320', {}).samples()][0]!.x!.dims).toEqual([1, 3, 48, 320]);
    expect(() => openModelData(cls, 'synthetic-text:1:0:64x320', {})).toThrow(/64x320 image does not fit its fixed dims/);
    expect(() => openModelData(cls, 'synthetic-text:1:0:48', {})).toThrow(/synthetic-text:COUNT:SEED, optionally with :HxW/);
    expect(() => openModelData(cls, 'synthetic-text:1:0:upright:48x320', {})).toThrow(/then :upright/);
    // :upright: the odd line is not turned (what a recognizer reads), the even one is the same.
    const up = openModelData(cls, 'synthetic-text:2:0:48x192:upright', {});
    expect(up.source).toMatch(/upright text lines, 48x192/);
    const [u0, u1] = [...up.samples()],
      [l0, l1] = [...lines.samples()];
    expect(u0!.x!.data).toEqual(l0!.x!.data);
    expect(u1!.x!.data).not.toEqual(l1!.x!.data);
    expect(() => openModelData(unet([1, 1, 'H', 'W']), 'synthetic-text:1:0', {})).toThrow(/3-channel/);
    // Both dims dynamic and no size: pages at 640x640 (not generated here).
    expect(openModelData(unet([1, 3, 'H', 'W']), 'synthetic-text:2:0', { 'data-limit': '1' })).toMatchObject({
      size: 1,
      total: 2,
      source: expect.stringMatching(/pages, 640x640/),
    });
  });
});

describe('a size the model cannot divide', () => {
  it('names the input, its dims and the multiple the dynamic dims need', async () => {
    const s = await InferenceSession.create(unet([1, 1, 'H', 'W']), { runInWorker: false });
    expect(s.runSync({ x: Tensor.zeros('float32', [1, 1, 8, 12]) }).y!.dims).toEqual([1, 1, 8, 12]);
    let err: unknown;
    try {
      s.runSync({ x: Tensor.zeros('float32', [1, 1, 10, 12]) });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SHAPE_MISMATCH' });
    const msg = (err as Error).message;
    expect(msg).toMatch(/skip_add/);
    expect(msg).toMatch(
      /input 'x' is \[1, 1, 10, 12\] \(dynamic axes 2, 3\); this model needs its dynamic dims \('x' axes 2, 3\) to be multiples of 4/,
    );
    expect(msg).toMatch(/axis 2 of 'x' is 10: use 8 or 12/);
    expect(msg).not.toMatch(/axis 3/);
    // the session still runs good sizes afterwards
    expect(s.runSync({ x: Tensor.zeros('float32', [1, 1, 4, 4]) }).y!.dims).toEqual([1, 1, 4, 4]);
  });

  it('the integer executor says the same', async () => {
    const s = await IntegerSession.create(unet([1, 1, 'H', 'W']), { runInWorker: false, backend: 'js' });
    expect(() => s.runSync({ x: Tensor.zeros('float32', [1, 1, 10, 12]) })).toThrow(
      /input 'x' is \[1, 1, 10, 12\].*multiples of 4.*axis 2 of 'x' is 10: use 8 or 12$/,
    );
    expect(s.runSync({ x: Tensor.zeros('float32', [1, 1, 8, 12]) }).y!.dims).toEqual([1, 1, 8, 12]);
  });

  it('every dim that does not divide is named; a static model gets the plain error (nothing to divide)', async () => {
    const s = await InferenceSession.create(unet([1, 1, 'H', 'W']), { runInWorker: false });
    expect(() => s.runSync({ x: Tensor.zeros('float32', [1, 1, 6, 6]) })).toThrow(
      /multiples of 4.*axis 2 of 'x' is 6: use 4 or 8; axis 3 of 'x' is 6: use 4 or 8/,
    );
    let msg = '';
    try {
      (await InferenceSession.create(unet([1, 1, 6, 6]), { runInWorker: false })).runSync({ x: Tensor.zeros('float32', [1, 1, 6, 6]) });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/skip_add|broadcast/);
    expect(msg).not.toMatch(/multiples|dynamic/);
  });

  it.skipIf(!existsSync(det))(
    'PP-OCRv4 det at 48x192: multiples of 32, through the worker too',
    async () => {
      const s = await InferenceSession.create(det);
      try {
        await expect(s.run({ x: Tensor.zeros('float32', [1, 3, 48, 192]) })).rejects.toMatchObject({
          code: 'SHAPE_MISMATCH',
          message: expect.stringMatching(
            /p2o\.Add\.248.*input 'x' is \[1, 3, 48, 192\].*multiples of 32.*axis 2 of 'x' is 48: use 32 or 64$/,
          ),
        });
      } finally {
        await s.release();
      }
    },
    120_000,
  );
});

describe('labels match the samples one to one', () => {
  it.skipIf(!mnist)(
    'more labels than samples and fewer are both refused; a window of an exact file is fine',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'onnx-ptq-labels-'));
      const data = join(dir, 'x.npy');
      writeNpy(data, Tensor.zeros('float32', [6, 1, 1, 28, 28]));
      const labels = (n: number) => {
        const p = join(dir, `l${n}.txt`);
        writeFileSync(p, `${Array.from({ length: n }, (_, i) => String(i % 10)).join('\n')}\n`);
        return p;
      };
      const v = (l: string, ...more: string[]) =>
        validateMain([mnist!, mnist!, '--data', data, '--labels', l, '--executor', 'float', '--quiet', ...more]);
      await expect(v(labels(7))).rejects.toMatchObject({
        code: 'INVALID_DATA',
        message: expect.stringMatching(/7 labels for the 6 samples/),
      });
      await expect(v(labels(5))).rejects.toMatchObject({
        code: 'INVALID_DATA',
        message: expect.stringMatching(/5 labels for the 6 samples/),
      });
      expect(await v(labels(6))).toBe(0);
      const lines: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
      expect(
        await validateMain([mnist!, mnist!, '--data', data, '--labels', labels(6), '--executor', 'float', '--backend', 'js', '--json']),
      ).toBe(0);
      expect(JSON.parse(lines.join('\n'))).toMatchObject({
        samples: 6,
        executor: 'float',
        backend: expect.stringMatching(/^(native|wasm|js)$/),
      });
      vi.restoreAllMocks();
      expect(await v(labels(6), '--data-offset', '2', '--data-limit', '3')).toBe(0);
      await expect(v(labels(7), '--data-limit', '6')).rejects.toMatchObject({ code: 'INVALID_DATA' });
    },
    60_000,
  );
});

describe('--help states the defaults', () => {
  it('data options', () => {
    expect(DATA_HELP).toMatch(/--image-scale S .*default 1\/255/);
    for (const opt of ['--data-offset', '--data-limit', '--idx-scale', '--image-mean', '--image-std', '--image-order', '--image-layout'])
      expect(
        DATA_HELP.split('\n').find((l) => l.includes(opt)),
        opt,
      ).toMatch(/default/);
    expect(DATA_HELP).toMatch(/synthetic-text:COUNT:SEED\[:HxW\]\[:upright\]/);
  });

  it('quantize options with a value', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    expect(await quantizeMain(['--help'])).toBe(0);
    const help = lines.join('\n');
    for (const opt of ['--observer', '--granularity', '--weight-bits', '--requant-mode', '--samples'])
      expect(
        help.split('\n').find((l) => l.trimStart().startsWith(opt)),
        opt,
      ).toMatch(/default/);
  });
});
