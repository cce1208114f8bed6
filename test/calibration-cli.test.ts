// `onnx-ptq calibrate --shard k/n` + `quantize --stats`: the bytes of one `quantize --calib` run;
// bad statistics files are refused naming the file, with no output written; progress lines on a
// non-TTY stderr, none with --quiet; --samples spreads over the data and says so.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { main as quantizeMain } from '../src/cli/commands/quantize.js';
import { main as calibrateMain } from '../src/cli/commands/calibrate.js';
import { OnnxPtqError } from '../src/errors.js';
import { openDataset } from '../src/data/dataset.js';
import { fixture } from './fixtures.js';

const model = fixture('models', 'mnist-8', 'model.onnx');
const images = fixture('data', 'mnist', 't10k-images-idx3-ubyte.gz');
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

function quiet(): void {
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
}
afterEach(() => vi.restoreAllMocks());

async function rejects(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(OnnxPtqError);
  expect((e as OnnxPtqError).code).toBe(code);
  expect((e as Error).message).toMatch(text);
}

describe.skipIf(!(model && images))('calibrate --shard, quantize --stats (mnist-8)', () => {
  const common = ['--calib', images!, '--samples', '31', '--observer', 'percentile', '--workers', '1', '-q'];

  it('shards merged by quantize --stats give the bytes of quantize --calib; bad files are refused by name', async () => {
    quiet();
    const dir = mkdtempSync(join(tmpdir(), 'opq-stats-'));
    const ref = join(dir, 'ref.onnx');
    expect(await quantizeMain([model!, '-o', ref, ...common])).toBe(0);
    const files: string[] = [];
    for (let k = 0; k < 3; k++) {
      files.push(join(dir, `stats-${k}.json`));
      expect(await calibrateMain([model!, ...common, '--shard', `${k}/3`, '-o', files[k]!])).toBe(0);
    }
    const s = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(s.map((x) => x.samples)).toEqual([11, 10, 10]);
    expect(s[0]).toMatchObject({ format: 'onnx-ptq-calibration-stats', version: 1, shards: [{ index: 0, count: 3 }] });
    // The glob form: the second and later files come after the model.
    const out = join(dir, 'out.onnx');
    // The same options (--samples too: the model's metadata records them).
    expect(
      await quantizeMain([
        model!,
        '--stats',
        files[2]!,
        files[0]!,
        files[1]!,
        '-o',
        out,
        '--observer',
        'percentile',
        '--samples',
        '31',
        '-q',
      ]),
    ).toBe(0);
    expect(readFileSync(out).equals(readFileSync(ref))).toBe(true);

    const before = readdirSync(dir).sort();
    const bad = join(dir, 'bad.onnx');
    const trunc = join(dir, 'trunc.json');
    writeFileSync(trunc, readFileSync(files[1]!, 'utf8').slice(0, 200));
    await rejects(
      quantizeMain([model!, '--stats', files[0]!, trunc, files[2]!, '-o', bad, '-q', '--observer', 'percentile']),
      'INVALID_STATS',
      /trunc\.json.*not valid JSON/,
    );
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ name: 'something else' }));
    await rejects(
      quantizeMain([model!, '--stats', foreign, '-o', bad, '-q']),
      'INVALID_STATS',
      /foreign\.json.*not an onnx-ptq calibration statistics file/,
    );
    await rejects(
      quantizeMain([model!, '--stats', ...files, '-o', bad, '-q', '--observer', 'percentile', '--samples', '31', '--weight-bits', '4']),
      'STATS_MISMATCH',
      /weightBits/,
    );
    const binsFile = join(dir, 'bins.json');
    expect(
      await calibrateMain([
        model!,
        ...common,
        '--config',
        writeCfg(dir, { observerOptions: { bins: 256 } }),
        '--shard',
        '1/3',
        '-o',
        binsFile,
      ]),
    ).toBe(0);
    await rejects(
      quantizeMain([model!, '--stats', files[0]!, binsFile, files[2]!, '-o', bad, '-q', '--observer', 'percentile']),
      'STATS_MISMATCH',
      /bins\.json.*stats-0\.json.*histogram:256/,
    );
    const other = fixture('models', 'super-resolution-10', 'model.onnx');
    if (other)
      await rejects(
        quantizeMain([other, '--stats', ...files, '-o', bad, '-q', '--observer', 'percentile']),
        'STATS_MISMATCH',
        /another model/,
      );
    await rejects(
      calibrateMain([model!, ...common, '--shard', '3/3', '-o', join(dir, 'x.json')]),
      'INVALID_OPTION',
      /--shard 3\/3 is out of range/,
    );
    await rejects(calibrateMain([model!, ...common, '--shard', 'a/3', '-o', join(dir, 'x.json')]), 'INVALID_OPTION', /k\/n/);
    // No partial output file from any failure.
    expect(readdirSync(dir).sort()).toEqual([...before, 'bins.json', 'cfg.json', 'foreign.json', 'trunc.json'].sort());
  }, 90_000);

  it('a calibration worker that dies fails quantize and calibrate, naming it, and writes no file', async () => {
    quiet();
    const dir = mkdtempSync(join(tmpdir(), 'opq-dies-'));
    process.env.ONNX_PTQ_TEST_CALIBRATION_WORKER_EXIT_AT = '2';
    // Every sample through the workers (which thread takes a sample otherwise depends on timing).
    process.env.ONNX_PTQ_TEST_CALIBRATION_WORKERS_ONLY = '1';
    try {
      const args = ['--calib', images!, '--samples', '8', '--workers', '2', '-q'];
      await rejects(quantizeMain([model!, ...args, '-o', join(dir, 'q.onnx')]), 'WORKER_FAILED', /calibration worker [12] of 2 exited/);
      await rejects(calibrateMain([model!, ...args, '-o', join(dir, 's.json')]), 'WORKER_FAILED', /calibration worker [12] of 2 exited/);
    } finally {
      delete process.env.ONNX_PTQ_TEST_CALIBRATION_WORKER_EXIT_AT;
      delete process.env.ONNX_PTQ_TEST_CALIBRATION_WORKERS_ONLY;
    }
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);

  it('--samples N from a file takes an even, seeded spread and names it', () => {
    const ds = openDataset(images!, { inputName: 'x', inputDims: [1, 1, 28, 28], pick: { count: 10, seed: 0 } });
    expect(ds.size).toBe(10);
    expect(ds.selection).toMatch(/10 of 10000 samples spread evenly, seed 0/);
    const again = openDataset(images!, {
      inputName: 'x',
      inputDims: [1, 1, 28, 28],
      pick: { count: 10, seed: 0 },
      shard: { index: 1, count: 3 },
    });
    expect(again.size).toBe(3);
    expect(again.selection).toMatch(/shard 1\/3: 3 of 10 samples/);
  });

  it('progress: lines on a non-TTY stderr, nothing with --quiet; --json stdout unchanged', async () => {
    const run = (extra: string[]) =>
      new Promise<{ out: string; err: string }>((res, rej) =>
        execFile(
          process.execPath,
          [
            '--import',
            'tsx',
            join(root, 'src/cli/main.ts'),
            'calibrate',
            model!,
            '--calib',
            images!,
            '--samples',
            '40',
            '--workers',
            '1',
            ...extra,
          ],
          { env: { ...process.env, ONNX_PTQ_PROGRESS_INTERVAL_MS: '1' }, cwd: root },
          (e, out, err) => (e ? rej(new Error(`${e.message}\n${err}`)) : res({ out: String(out), err: String(err) })),
        ),
      );
    const dir = mkdtempSync(join(tmpdir(), 'opq-progress-'));
    const a = await run(['-o', join(dir, 'a.json'), '--json']);
    expect(a.err).toMatch(/^calibrating: \d+\/40 samples, [\d.]+\/s, ETA \w+$/m);
    expect(a.err).toMatch(/calibration data: .*40 of 10000 samples spread evenly/);
    expect(JSON.parse(a.out)).toMatchObject({ samples: 40, shard: '0/1' });
    const b = await run(['-o', join(dir, 'b.json'), '--quiet']);
    expect(b).toEqual({ out: '', err: '' });
  }, 60_000);
});

function writeCfg(dir: string, cfg: object): string {
  const p = join(dir, 'cfg.json');
  writeFileSync(p, JSON.stringify(cfg));
  return p;
}

describe('--samples N over class folders', () => {
  it('takes every class, the rest in proportion, spread inside each class, seeded', async () => {
    const { PNG } = await import('pngjs');
    const dir = mkdtempSync(join(tmpdir(), 'opq-classes-'));
    const sizes = { a: 10, b: 5, c: 1 };
    for (const [cls, n] of Object.entries(sizes)) {
      mkdirSync(join(dir, cls));
      for (let i = 0; i < n; i++) {
        const png = new PNG({ width: 4, height: 4 });
        png.data.fill(i * 10);
        writeFileSync(join(dir, cls, `${String(i).padStart(2, '0')}.png`), PNG.sync.write(png));
      }
    }
    const open = (seed: number) => openDataset(dir, { inputName: 'x', inputDims: [1, 3, 4, 4], pick: { count: 8, seed } });
    const ds = open(0);
    expect(ds.size).toBe(8);
    expect(ds.selection).toMatch(/8 of 16 samples spread evenly over 3 classes \(1-4 each\), seed 0/);
    const labels = Array.from(ds.folderLabels!);
    expect([0, 1, 2].map((l) => labels.filter((x) => x === l).length)).toEqual([4, 3, 1]);
    // Class a's 4 come one from each quarter of its 10 files (not its first 4).
    const firstPixels = [...ds.samples()].slice(0, 4).map((f) => Math.round((f.x!.data as Float32Array)[0]! * 255));
    firstPixels.forEach((v, j) => {
      expect(v / 10).toBeGreaterThanOrEqual(Math.floor((j * 10) / 4));
      expect(v / 10).toBeLessThan(Math.ceil(((j + 1) * 10) / 4));
    });
    expect(Array.from(open(0).folderLabels!)).toEqual(labels);
  });
});
