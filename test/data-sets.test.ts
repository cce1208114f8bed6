// Calibration/evaluation data sets: every format, shapes fitted to the model input, and bad data.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { openDataset, readLabels } from '../src/data/dataset.js';
import { writeNpy } from '../src/io/npy.js';
import { tensorProtoBytes } from '../src/onnx/io.js';
import { Tensor } from '../src/tensor.js';
import { OnnxPtqError } from '../src/errors.js';

const dir = () => mkdtempSync(join(tmpdir(), 'opq-data-'));
const all = <T>(it: Iterable<T>) => [...it];

function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt8(0x08, 2);
  head.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

describe('data sets', () => {
  it('a directory of .npy samples, sorted by name, gains the batch axis', () => {
    const d = dir();
    for (const i of [2, 0, 1]) writeNpy(join(d, `s${i}.npy`), new Tensor('float32', Float32Array.of(i, i, i, i, i, i), [1, 2, 3]));
    const ds = openDataset(d, { inputName: 'x', inputDims: [1, 1, 2, 3] });
    const s = all(ds.samples());
    expect(ds.size).toBe(3);
    expect(s.map((f) => (f.x.data as Float32Array)[0])).toEqual([0, 1, 2]);
    expect(s[0].x.dims).toEqual([1, 1, 2, 3]);
  });

  it('a batched .npy with offset and limit; a .pb TensorProto', () => {
    const d = dir();
    const p = join(d, 'batch.npy');
    writeNpy(
      p,
      new Tensor(
        'float32',
        Float32Array.from({ length: 5 * 4 }, (_, i) => i),
        [5, 4],
      ),
    );
    const ds = openDataset(p, { inputName: 'x', inputDims: ['N', 4], offset: 1, limit: 2 });
    expect(all(ds.samples()).map((f) => Array.from(f.x.data as Float32Array))).toEqual([
      [4, 5, 6, 7],
      [8, 9, 10, 11],
    ]);
    const pb = join(d, 'x.pb');
    writeFileSync(pb, tensorProtoBytes(new Tensor('float32', Float32Array.of(1, 2), [1, 2]), 'x'));
    expect(all(openDataset(pb, { inputName: 'x', inputDims: [1, 2] }).samples())[0].x.dims).toEqual([1, 2]);
  });

  it('IDX images (gzipped) feed an NCHW input, scaled', () => {
    const d = dir();
    const p = join(d, 'imgs-idx3-ubyte.gz');
    writeFileSync(p, gzipSync(idx([2, 2, 2], Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7))));
    const s = all(openDataset(p, { inputName: 'x', inputDims: [1, 1, 2, 2], idxScale: 0.5 }).samples());
    expect(s[1].x.dims).toEqual([1, 1, 2, 2]);
    expect(Array.from(s[1].x.data as Float32Array)).toEqual([2, 2.5, 3, 3.5]);
    const lp = join(d, 'labels-idx1-ubyte');
    writeFileSync(lp, idx([2], Uint8Array.of(7, 3)));
    expect(Array.from(readLabels(lp))).toEqual([7, 3]);
  });

  it('PNG and JPEG images in class folders: resized, normalized, labelled by folder', () => {
    const d = dir();
    mkdirSync(join(d, 'cat'));
    mkdirSync(join(d, 'dog'));
    const png = new PNG({ width: 4, height: 4 });
    png.data.fill(255);
    writeFileSync(join(d, 'cat', 'a.png'), PNG.sync.write(png));
    const rgba = Buffer.alloc(8 * 8 * 4, 0);
    for (let i = 0; i < 64; i++) rgba[i * 4] = 200; // red
    writeFileSync(join(d, 'dog', 'b.jpg'), jpeg.encode({ data: rgba, width: 8, height: 8 }, 95).data);
    const ds = openDataset(d, { inputName: 'x', inputDims: [1, 3, 2, 2], image: { scale: 1 / 255, mean: [0.5], std: [0.5] } });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(ds.folderLabels!)).toEqual([0, 1]);
    const [white, red] = all(ds.samples());
    expect(white.x.dims).toEqual([1, 3, 2, 2]);
    expect((white.x.data as Float32Array).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
    const rd = red.x.data as Float32Array;
    expect(rd[0]).toBeGreaterThan(0.5); // R channel
    expect(rd[4]).toBeLessThan(-0.8); // G channel
    const bgr = all(openDataset(d, { inputName: 'x', inputDims: [1, 3, 2, 2], image: { channelOrder: 'bgr' } }).samples())[1].x
      .data as Float32Array;
    expect(bgr[8]).toBeGreaterThan(0.7); // R is now the third channel
  });

  it('labels from a text file; bad lines and bad data are OnnxPtqError naming the file', () => {
    const d = dir();
    writeFileSync(join(d, 'l.txt'), '1\n2\n\n3\n');
    expect(Array.from(readLabels(join(d, 'l.txt')))).toEqual([1, 2, 3]);
    writeFileSync(join(d, 'bad.txt'), '1\ncat\n');
    expect(() => readLabels(join(d, 'bad.txt'))).toThrow(/bad\.txt' line 2/);
    writeNpy(join(d, 'w.npy'), new Tensor('float32', new Float32Array(5), [5]));
    const wrong = openDataset(join(d, 'w.npy'), { inputName: 'x', inputDims: [1, 1, 28, 28] });
    expect(() => all(wrong.samples())).toThrow(OnnxPtqError);
    expect(() => openDataset(join(d, 'missing'), { inputName: 'x' })).toThrow(/does not exist/);
    mkdirSync(join(d, 'empty'));
    expect(() => openDataset(join(d, 'empty'), { inputName: 'x' })).toThrow(/holds no/);
    writeFileSync(join(d, 'broken.png'), 'not a png');
    mkdirSync(join(d, 'imgs'));
    writeFileSync(join(d, 'imgs', 'broken.png'), 'not a png');
    expect(() => all(openDataset(join(d, 'imgs'), { inputName: 'x', inputDims: [1, 3, 4, 4] }).samples())).toThrow(/cannot be decoded/);
  });
});
