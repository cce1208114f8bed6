/** Shared by the commands that read data: open a data set for a model's first input. */
import { readFileSync } from 'node:fs';
import { OnnxPtqError } from '../errors.js';
import { syntheticTextSet } from '../data/synthetic-text.js';
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

export const DATA_HELP = `data (a directory of .npy/.pb samples, a batched .npy, IDX files, a directory of JPEG/PNG images, or
synthetic-text:COUNT:SEED: deterministic text-line images, NCHW 3xHxW, for models shipped without data):
  --data-offset N --data-limit N      a window of the samples
  --idx-scale S                       IDX: multiply raw values (default 1)
  --image-scale S --image-mean a,b,c --image-std a,b,c --image-order rgb|bgr --image-layout nchw|nhwc`;

export function num(v: unknown, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new OnnxPtqError('INVALID_OPTION', `--${name} must be a ${integer ? 'whole ' : ''}number, got '${String(v)}'`);
  return n;
}

function list(v: unknown, name: string): number[] | undefined {
  if (v === undefined) return undefined;
  return String(v).split(',').map((s) => num(s, name)!);
}

export function openModelData(model: Model, path: string, values: Record<string, unknown>, limitOverride?: number): Dataset {
  const g = model.graph;
  const input = g.inputs.find((i) => !g.initializers.has(i.name));
  if (!input) throw new OnnxPtqError('INVALID_MODEL', 'the model has no runtime input to feed data to');
  const synth = /^synthetic-text:(\d+):(\d+)$/.exec(path);
  if (synth) {
    // Height and width from the model where fixed (PaddleOCR cls: [?, 3, 48, ?] -> 48 x 192).
    const dims = input.shape ?? [];
    const h = typeof dims[2] === 'number' ? dims[2] : 48, w = typeof dims[3] === 'number' ? dims[3] : 192;
    const offset = num(values['data-offset'], 'data-offset', true) ?? 0;
    const limit = limitOverride ?? num(values['data-limit'], 'data-limit', true) ?? 0;
    const count = Math.max(0, Math.min(Number(synth[1]) - offset, limit > 0 ? limit : Infinity));
    const seed = Number(synth[2]) + offset;
    return { size: count, source: path, samples: () => syntheticTextSet(count, seed, input.name, h, w) };
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
    idxScale: num(values['idx-scale'], 'idx-scale'),
    image,
  });
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
