/**
 * Calibration and evaluation data, streamed one sample at a time:
 *  - a directory of `.npy` or TensorProto `.pb` files (one sample each, sorted by name);
 *  - one batched `.npy` (first axis = samples);
 *  - IDX files (the MNIST format, gzipped or not): [N, H, W] images;
 *  - a directory of JPEG/PNG images (optionally in class sub-folders, which then give the labels),
 *    with preprocessing: resize (bilinear) to the model's input size, scale, mean, std, channel
 *    order and layout.
 * Labels: `.npy` or IDX of integers, a text file with one integer per line, or sub-folder names.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, basename } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { mulberry32 } from '../util/prng.js';
import { OnnxPtqError } from '../errors.js';
import { bilinearTap } from './bilinear.js';
import { Tensor } from '../tensor.js';
import { readNpy } from '../io/npy.js';
import { readIdx } from '../io/idx.js';
import { loadTensorProto } from '../onnx/io.js';
import type { Feeds } from '../ptq/calibrate.js';

export interface ImageOptions {
  /** Multiply pixel values (0..255) by this first. Default 1/255. */
  scale?: number;
  /** Per-channel mean subtracted after scaling. Default [0]. */
  mean?: number[];
  /** Per-channel std divided by after the mean. Default [1]. */
  std?: number[];
  /** Default 'rgb'. */
  channelOrder?: 'rgb' | 'bgr';
  /** Default 'nchw'. */
  layout?: 'nchw' | 'nhwc';
}

export interface DatasetOptions {
  /** The model input the samples feed. */
  inputName: string;
  /** The model input's dims (batch first; symbolic dims as null), to shape samples. */
  inputDims?: (number | string | null)[];
  /** Skip this many samples. Default 0. */
  offset?: number;
  /** At most this many samples (0: all). Default 0. */
  limit?: number;
  /**
   * Take `count` samples spread evenly over the (offset/limit) window, with a seeded position inside
   * each stretch, and in proportion across class sub-folders, instead of the first `count` (which in
   * a class-sorted folder is one class). Default: none (every sample of the window).
   */
  pick?: { count: number; seed?: number };
  /** Keep only shard `index` of `count`: the i-th sample (after pick) when i mod count = index. */
  shard?: { index: number; count: number };
  /** IDX only: multiply raw values by this. Default 1 (mnist-8 takes raw 0..255 pixels). */
  idxScale?: number;
  image?: ImageOptions;
}

export interface Dataset {
  /** Number of samples after offset/limit. */
  readonly size: number;
  /** Number of samples in the source, before offset/limit (a labels file must have this many). */
  readonly total: number;
  /** Where it came from, for messages. */
  readonly source: string;
  samples(): Iterable<Feeds>;
  /** Labels from sub-folder names, when the source has them. */
  readonly folderLabels?: Int32Array;
  /** What `pick`/`shard` took, in words (for a stderr line and reports); absent when they took everything. */
  readonly selection?: string;
  /** Samples in the list before `shard` took its part (the list every shard splits the same way). */
  readonly listLength?: number;
  readonly classNames?: string[];
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png']);

function bad(msg: string): never {
  throw new OnnxPtqError('INVALID_DATA', msg);
}

/** Fits a sample's dims to the model input: adds the batch axis when it is missing. */
function shapeSample(t: Tensor, opts: DatasetOptions, what: string): Tensor {
  const want = opts.inputDims;
  let data = t.data;
  if (t.dtype !== 'float32') {
    if (t.dtype === 'string' || t.dtype === 'bool' || t.dtype === 'int64' || t.dtype === 'uint64')
      bad(`${what}: samples must be numeric (got ${t.dtype})`);
    data = Float32Array.from(t.data as ArrayLike<number>);
  }
  let dims = [...t.dims];
  if (want) {
    if (dims.length === want.length - 1) dims = [1, ...dims];
    if (dims.length !== want.length)
      bad(
        `${what}: a sample of dims [${t.dims.join(', ')}] does not fit input '${opts.inputName}' of dims [${want.map((d) => d ?? '?').join(', ')}]`,
      );
    want.forEach((d, i) => {
      if (typeof d === 'number' && d !== dims[i])
        bad(
          `${what}: a sample of dims [${t.dims.join(', ')}] does not fit input '${opts.inputName}' of dims [${want.map((x) => x ?? '?').join(', ')}] (axis ${i})`,
        );
    });
  }
  return new Tensor('float32', data as Float32Array, dims);
}

function window<T>(items: T[], opts: DatasetOptions, labelOf?: (t: T) => number): T[] {
  return select(items, opts, labelOf).items;
}

/**
 * offset/limit, then pick (an even, seeded spread, proportional per class), then shard (round robin):
 * every step is a function of the list and the options, so each shard of a job sees the same list.
 */
function select<T>(items: T[], opts: DatasetOptions, labelOf?: (t: T) => number): { items: T[]; selection?: string; listLength: number } {
  const off = opts.offset ?? 0;
  let out = items.slice(off, opts.limit ? off + opts.limit : undefined);
  const words: string[] = [];
  const pick = opts.pick;
  if (pick && pick.count > 0 && pick.count < out.length) {
    const seed = pick.seed ?? 0;
    const groups = new Map<number, number[]>();
    out.forEach((t, i) => {
      const l = labelOf ? labelOf(t) : 0;
      groups.set(l, [...(groups.get(l) ?? []), i]);
    });
    // Every class gets one sample when there are enough to go round (a rare class is still seen),
    // the rest in proportion to class sizes, rounded by largest remainder (ties: lower label first).
    const keys = [...groups.keys()].sort((a, b) => a - b);
    const g0 = pick.count >= keys.length ? 1 : 0;
    const rest = pick.count - g0 * keys.length;
    const exact = keys.map((k) => (rest * (groups.get(k)!.length - g0)) / (out.length - g0 * keys.length));
    const quota = exact.map((e) => g0 + Math.floor(e));
    let left = pick.count - quota.reduce((a, b) => a + b, 0);
    for (const i of keys
      .map((_, i) => i)
      .sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)) || a - b)) {
      if (left <= 0) break;
      quota[i]!++;
      left--;
    }
    const r = mulberry32(seed);
    const chosen: number[] = [];
    keys.forEach((k, gi) => {
      const g = groups.get(k)!,
        q = quota[gi]!;
      // One sample from each of q equal stretches of the group, at a seeded place inside it.
      for (let j = 0; j < q; j++) chosen.push(g[Math.min(g.length - 1, Math.floor(((j + r()) * g.length) / q))]!);
    });
    chosen.sort((a, b) => a - b);
    const counts = quota.filter((q) => q > 0);
    words.push(
      `${pick.count} of ${out.length} samples spread evenly${keys.length > 1 ? ` over ${counts.length} classes (${Math.min(...counts)}-${Math.max(...counts)} each)` : ''}, seed ${seed}`,
    );
    out = chosen.map((i) => out[i]!);
  }
  const listLength = out.length;
  const sh = opts.shard;
  if (sh && sh.count > 1) {
    const n = out.length;
    out = out.filter((_, i) => i % sh.count === sh.index);
    words.push(`shard ${sh.index}/${sh.count}: ${out.length} of ${n} samples (every ${sh.count}th from ${sh.index})`);
  }
  return { items: out, listLength, ...(words.length ? { selection: words.join('; ') } : {}) };
}

function isIdx(path: string): boolean {
  const b = basename(path).toLowerCase();
  return b.endsWith('.idx') || b.endsWith('.gz') || /-ubyte/.test(b) || /idx\d-ubyte/.test(b);
}

export function openDataset(path: string, opts: DatasetOptions): Dataset {
  if (!existsSync(path)) throw new OnnxPtqError('IO_ERROR', `data '${path}' does not exist`);
  const st = statSync(path);
  if (st.isDirectory()) return openDirectory(path, opts);
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const t = readNpy(path);
    if (t.rank < 1 || t.dims[0] === 0) bad(`data '${path}': a batched .npy needs a first axis of samples, got dims [${t.dims.join(', ')}]`);
    const n = t.dims[0],
      per = t.size / n;
    const { items: idx, selection, listLength } = select([...Array(n).keys()], opts);
    return {
      size: idx.length,
      total: n,
      source: path,
      selection,
      listLength,
      *samples() {
        for (const i of idx) {
          const data = (t.data as ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }).subarray(
            i * per,
            (i + 1) * per,
          );
          yield { [opts.inputName]: shapeSample(new Tensor(t.dtype, data as never, t.dims.slice(1)), opts, `data '${path}' sample ${i}`) };
        }
      },
    };
  }
  if (ext === '.pb') {
    const { tensor } = loadTensorProto(path);
    const n = window([0], opts).length;
    return {
      size: n,
      total: 1,
      source: path,
      *samples() {
        if (n) yield { [opts.inputName]: shapeSample(tensor, opts, `data '${path}'`) };
      },
    };
  }
  if (isIdx(path)) {
    const t = readIdx(path);
    if (t.rank < 2) bad(`data '${path}': IDX images need at least 2 axes, got [${t.dims.join(', ')}]`);
    const n = t.dims[0],
      per = t.size / n,
      scale = opts.idxScale ?? 1;
    const rest = t.dims.slice(1);
    const { items: idx, selection, listLength } = select([...Array(n).keys()], opts);
    const want = opts.inputDims;
    // [H, W] images feed an NCHW input with one channel.
    const dims = want && want.length === rest.length + 2 ? [1, 1, ...rest] : rest;
    return {
      size: idx.length,
      total: n,
      source: path,
      selection,
      listLength,
      *samples() {
        for (const i of idx) {
          const x = new Float32Array(per);
          const src = t.data as ArrayLike<number>;
          for (let k = 0; k < per; k++) x[k] = src[i * per + k] * scale;
          yield { [opts.inputName]: shapeSample(new Tensor('float32', x, dims), opts, `data '${path}' image ${i}`) };
        }
      },
    };
  }
  bad(`data '${path}': unknown format (expected a directory, .npy, .pb, or IDX)`);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort();
}

function openDirectory(dir: string, opts: DatasetOptions): Dataset {
  const entries = listFiles(dir);
  const subdirs = entries.filter((e) => statSync(join(dir, e)).isDirectory());
  const files = entries.filter((e) => statSync(join(dir, e)).isFile());
  const tensorFiles = files.filter((f) => ['.npy', '.pb'].includes(extname(f).toLowerCase()));
  if (tensorFiles.length) {
    const { items: chosen, selection, listLength } = select(tensorFiles, opts);
    return {
      size: chosen.length,
      total: tensorFiles.length,
      source: dir,
      selection,
      listLength,
      *samples() {
        for (const f of chosen) {
          const p = join(dir, f);
          const t = extname(f).toLowerCase() === '.npy' ? readNpy(p) : loadTensorProto(p).tensor;
          yield { [opts.inputName]: shapeSample(t, opts, `data file '${p}'`) };
        }
      },
    };
  }
  // Images, flat or in class sub-folders.
  let items: { path: string; label: number }[] = [];
  let classNames: string[] | undefined;
  if (subdirs.length) {
    classNames = subdirs;
    subdirs.forEach((c, label) => {
      for (const f of listFiles(join(dir, c))) if (IMAGE_EXT.has(extname(f).toLowerCase())) items.push({ path: join(dir, c, f), label });
    });
  } else {
    items = files.filter((f) => IMAGE_EXT.has(extname(f).toLowerCase())).map((f) => ({ path: join(dir, f), label: -1 }));
  }
  if (!items.length) bad(`data directory '${dir}' holds no .npy, .pb, .jpg or .png files`);
  const { items: chosen, selection, listLength } = select(items, opts, (it) => it.label);
  return {
    size: chosen.length,
    total: items.length,
    source: dir,
    selection,
    listLength,
    classNames,
    ...(classNames ? { folderLabels: Int32Array.from(chosen.map((c) => c.label)) } : {}),
    *samples() {
      for (const it of chosen) yield { [opts.inputName]: loadImage(it.path, opts) };
    },
  };
}

/** Decodes a JPEG/PNG to RGBA bytes. */
export function decodeImage(path: string): { width: number; height: number; rgba: Uint8Array } {
  const buf = readFileSync(path);
  try {
    if (extname(path).toLowerCase() === '.png') {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    }
    const j = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
    return { width: j.width, height: j.height, rgba: j.data };
  } catch (e) {
    throw new OnnxPtqError('INVALID_DATA', `image '${path}' cannot be decoded: ${(e as Error).message}`);
  }
}

function loadImage(path: string, opts: DatasetOptions): Tensor {
  const want = opts.inputDims;
  const io = opts.image ?? {};
  const layout = io.layout ?? 'nchw';
  if (want?.length !== 4) bad(`image '${path}': input '${opts.inputName}' must be 4-D to take images`);
  const [, a, b, c] = want;
  const [C, H, W] = layout === 'nchw' ? [a, b, c] : [c, a, b];
  const { width, height, rgba } = decodeImage(path);
  const h = typeof H === 'number' ? H : height,
    w = typeof W === 'number' ? W : width;
  const ch = typeof C === 'number' ? C : 3;
  if (ch !== 1 && ch !== 3) bad(`image '${path}': input '${opts.inputName}' has ${ch} channels; images give 1 or 3`);
  const scale = io.scale ?? 1 / 255;
  const mean = io.mean ?? [0],
    std = io.std ?? [1];
  const order = io.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const out = new Float32Array(ch * h * w);
  for (let y = 0; y < h; y++) {
    const { i0: y0, i1: y1, w: fy } = bilinearTap(y, h, height);
    for (let x = 0; x < w; x++) {
      const { i0: x0, i1: x1, w: fx } = bilinearTap(x, w, width);
      const px = (yy: number, xx: number, k: number) => rgba[(yy * width + xx) * 4 + k];
      const sample = (k: number) =>
        (1 - fy) * ((1 - fx) * px(y0, x0, k) + fx * px(y0, x1, k)) + fy * ((1 - fx) * px(y1, x0, k) + fx * px(y1, x1, k));
      for (let c2 = 0; c2 < ch; c2++) {
        const v = ch === 1 ? 0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2) : sample(order[c2]);
        const m = mean[mean.length === 1 ? 0 : c2] ?? 0,
          s = std[std.length === 1 ? 0 : c2] ?? 1;
        const val = (v * scale - m) / s;
        out[layout === 'nchw' ? (c2 * h + y) * w + x : (y * w + x) * ch + c2] = val;
      }
    }
  }
  return new Tensor('float32', out, layout === 'nchw' ? [1, ch, h, w] : [1, h, w, ch]);
}

/** Labels as integers: .npy, IDX, or a text file with one integer per line. */
export function readLabels(path: string): Int32Array {
  if (!existsSync(path)) throw new OnnxPtqError('IO_ERROR', `labels '${path}' do not exist`);
  const ext = extname(path).toLowerCase();
  let values: ArrayLike<number | bigint>;
  if (ext === '.npy') values = readNpy(path).data as ArrayLike<number>;
  else if (isIdx(path)) values = readIdx(path).data as ArrayLike<number>;
  else {
    const lines = readFileSync(path, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
    values = lines.map((l, i) => {
      if (!/^-?\d+$/.test(l)) bad(`labels '${path}' line ${i + 1}: '${l}' is not an integer`);
      return Number(l);
    });
  }
  return Int32Array.from(values as ArrayLike<number>, (v) => Number(v));
}
