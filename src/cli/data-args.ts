/** Shared by the commands that read data: open a data set for a model's first input. */
import { readFileSync } from 'node:fs';
import { OnnxPtqError } from '../errors.js';
import { PAGE_MIN_HEIGHT, syntheticPageSet, syntheticTextSet } from '../data/synthetic-text.js';
import type { Model } from '../ir/graph.js';
import { openDataset, type Dataset, type ImageOptions } from '../data/dataset.js';

export const DATA_OPTIONS = {
  'data-offset': { type: 'string' },
  'data-limit': { type: 'string' },
  'idx-scale': { type: 'string' },
  'image-scale': { type: 'string' },
  'image-mean': { type: 'string' },
  'image-std': { type: 'string' },
  'image-order': { type: 'string' },
  'image-layout': { type: 'string' },
} as const;

export const DATA_HELP = `data: a directory of .npy/.pb samples, a batched .npy, IDX files, a directory of JPEG/PNG images
(class sub-folders give labels), or synthetic-text:COUNT:SEED[:HxW][:upright], deterministic text images (NCHW 3xHxW, DejaVu
fonts) for models shipped without data: text lines below 96 rows (PaddleOCR cls/rec, normalized (x/255-0.5)/0.5;
odd samples rotated by 180 degrees for the direction classifier, none with :upright, for a recognizer),
pages from 96 rows (text detection, ImageNet mean/std); HxW defaults to the model's fixed dims, else 48x192, or
640x640 when height and width are both dynamic (PP-OCR det needs multiples of 32)
  --data-offset N       skip the first N samples (default 0)
  --data-limit N        at most N samples (default 0: all)
  --idx-scale S         IDX: multiply raw values by S (default 1: raw 0..255)
  images: resized (bilinear) to the model's input height x width (an image's own size on dynamic dims), then
  --image-scale S       multiply pixels (0..255) by S (default 1/255 = 0.00392157)
  --image-mean a[,b,c]  subtract per channel after scaling (default 0)
  --image-std a[,b,c]   divide per channel after the mean (default 1)
  --image-order rgb|bgr channel order (default rgb)
  --image-layout nchw|nhwc  (default nchw)`;

export function num(v: unknown, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new OnnxPtqError('INVALID_OPTION', `--${name} must be a ${integer ? 'whole ' : ''}number, got '${String(v)}'`);
  return n;
}

function list(v: unknown, name: string): number[] | undefined {
  if (v === undefined) return undefined;
  return String(v)
    .split(',')
    .map((s) => num(s, name)!);
}

/** How many samples to take: the first N (a number), or an even spread of N and/or one shard. */
export type DataSelection = number | { pick?: { count: number; seed?: number }; shard?: { index: number; count: number } };

export function openModelData(model: Model, path: string, values: Record<string, unknown>, selection?: DataSelection): Dataset {
  const g = model.graph;
  const input = g.inputs.find((i) => !g.initializers.has(i.name));
  if (!input) throw new OnnxPtqError('INVALID_MODEL', 'the model has no runtime input to feed data to');
  const limitOverride = typeof selection === 'number' ? selection : undefined;
  const sel = typeof selection === 'object' ? selection : {};
  if (path.startsWith('synthetic-text:')) {
    // Synthetic samples are independent draws: the first N are as representative as any N.
    const ds = openSynthetic(input, path, values, limitOverride ?? sel.pick?.count);
    const sh = sel.shard;
    if (!sh || sh.count === 1) return ds;
    const size = Math.floor((ds.size + sh.count - 1 - sh.index) / sh.count);
    return {
      ...ds,
      size,
      listLength: ds.size,
      selection: `shard ${sh.index}/${sh.count}: ${size} of ${ds.size} samples (every ${sh.count}th from ${sh.index})`,
      *samples() {
        let i = 0;
        for (const s of ds.samples()) if (i++ % sh.count === sh.index) yield s;
      },
    };
  }
  const image: ImageOptions = {
    scale: num(values['image-scale'], 'image-scale'),
    mean: list(values['image-mean'], 'image-mean'),
    std: list(values['image-std'], 'image-std'),
    channelOrder: values['image-order'] as 'rgb' | 'bgr' | undefined,
    layout: values['image-layout'] as 'nchw' | 'nhwc' | undefined,
  };
  return openDataset(path, {
    inputName: input.name,
    inputDims: input.shape,
    offset: num(values['data-offset'], 'data-offset', true),
    limit: limitOverride ?? num(values['data-limit'], 'data-limit', true),
    pick: sel.pick,
    shard: sel.shard,
    idxScale: num(values['idx-scale'], 'idx-scale'),
    image,
  });
}

/** Default page size for a model whose height and width are both dynamic (a text detector). */
export const DEFAULT_PAGE = [640, 640] as const;
/** Default text-line size where the model leaves it open (PaddleOCR cls: [?, 3, 48, ?] -> 48 x 192). */
export const DEFAULT_LINE = [48, 192] as const;

/**
 * synthetic-text:COUNT:SEED[:HxW][:upright]. The size defaults to the model's fixed height and width; open
 * dims default to 48 x 192 for a line model and 640 x 640 when both are open (a detector). Heights of
 * PAGE_MIN_HEIGHT or more draw pages (text detection), smaller ones single text lines (cls, rec).
 * `:upright` keeps every line upright (a recognizer's input); pages are upright anyway.
 */
function openSynthetic(
  input: { name: string; shape?: (number | string | null)[] },
  path: string,
  values: Record<string, unknown>,
  limitOverride?: number,
): Dataset {
  const m = /^synthetic-text:(\d+):(\d+)(?::(\d+)x(\d+))?(:upright)?$/.exec(path);
  if (!m)
    throw new OnnxPtqError(
      'INVALID_OPTION',
      `'${path}': the synthetic data source is synthetic-text:COUNT:SEED, optionally with :HxW and then :upright (e.g. synthetic-text:64:0:640x640, synthetic-text:200:0:48x320:upright)`,
    );
  const upright = m[5] !== undefined;
  const dims = input.shape ?? [];
  if (dims.length !== 4)
    throw new OnnxPtqError(
      'INVALID_OPTION',
      `'${path}': synthetic text makes N x 3 x H x W images; input '${input.name}' has dims [${dims.map((d) => d ?? '?').join(', ')}]`,
    );
  if (typeof dims[1] === 'number' && dims[1] !== 3)
    throw new OnnxPtqError(
      'INVALID_OPTION',
      `'${path}': synthetic text makes 3-channel images; input '${input.name}' has ${dims[1]} channels`,
    );
  const fixedH = typeof dims[2] === 'number' ? dims[2] : undefined,
    fixedW = typeof dims[3] === 'number' ? dims[3] : undefined;
  let h: number, w: number;
  if (m[3] !== undefined) {
    h = Number(m[3]);
    w = Number(m[4]);
    const clash = (fixedH !== undefined && fixedH !== h) || (fixedW !== undefined && fixedW !== w);
    if (clash)
      throw new OnnxPtqError(
        'INVALID_OPTION',
        `'${path}': input '${input.name}' is [${dims.map((d) => d ?? '?').join(', ')}]; a ${h}x${w} image does not fit its fixed dims`,
      );
  } else {
    const page = fixedH === undefined && fixedW === undefined;
    h = fixedH ?? (page ? DEFAULT_PAGE[0] : DEFAULT_LINE[0]);
    w = fixedW ?? (page ? DEFAULT_PAGE[1] : DEFAULT_LINE[1]);
  }
  const total = Number(m[1]);
  const offset = num(values['data-offset'], 'data-offset', true) ?? 0;
  const limit = limitOverride ?? num(values['data-limit'], 'data-limit', true) ?? 0;
  const count = Math.max(0, Math.min(total - offset, limit > 0 ? limit : Infinity));
  const seed = Number(m[2]) + offset;
  const pages = h >= PAGE_MIN_HEIGHT;
  return {
    size: count,
    total,
    source: `${path} (${pages ? 'pages' : upright ? 'upright text lines' : 'text lines'}, ${h}x${w})`,
    samples: () => (pages ? syntheticPageSet(count, seed, input.name, h, w) : syntheticTextSet(count, seed, input.name, h, w, { upright })),
  };
}

export function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OnnxPtqError('IO_ERROR', `cannot read ${what} '${path}': ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new OnnxPtqError('INVALID_OPTION', `${what} '${path}' is not valid JSON: ${(e as Error).message}`);
  }
}
