// loadModel / saveModel: file and byte entry points around the protobuf codec.
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { OnnxPtqError, check } from '../errors.js';
import type { Model } from '../ir/graph.js';
import { modelFromProto, modelToProto } from './convert.js';
import { ModelProto, TensorProto, type Msg } from './proto.js';
import { tensorBytes, tensorFromProto, tensorToProto } from './tensor-proto.js';
import { writeFilesAtomic } from '../util/atomic-write.js';

export interface LoadOptions {
  /** Directory that external data locations are relative to (defaults to the model file's directory). */
  baseDir?: string;
  /** Run Graph.validate() after decoding (default true). */
  validate?: boolean;
}

/** Decodes an ONNX model from a file path or bytes. Bad input raises OnnxPtqError (INVALID_MODEL, IO_ERROR, ...). */
export function loadModel(source: string | Uint8Array, opts: LoadOptions = {}): Model {
  let bytes: Uint8Array;
  let what: string;
  let baseDir = opts.baseDir;
  if (typeof source === 'string') {
    what = `model file '${source}'`;
    try {
      check(statSync(source).isFile(), 'IO_ERROR', `${what} is not a regular file`);
      bytes = readFileSync(source);
    } catch (e) {
      if (e instanceof OnnxPtqError) throw e;
      throw new OnnxPtqError('IO_ERROR', `cannot read ${what}: ${(e as Error).message}`);
    }
    baseDir ??= dirname(resolve(source));
  } else if (source instanceof Uint8Array) {
    what = 'model bytes';
    bytes = source;
  } else {
    throw new OnnxPtqError('INVALID_ARGUMENT', 'loadModel expects a file path or a Uint8Array');
  }
  check(bytes.length > 0, 'INVALID_MODEL', `${what} is empty`);
  let msg: Msg;
  try {
    msg = ModelProto.decode(bytes) as Msg;
  } catch (e) {
    throw new OnnxPtqError('INVALID_MODEL', `${what} is not a valid ONNX protobuf (truncated or corrupt?): ${(e as Error).message}`);
  }
  let model: Model;
  try {
    model = modelFromProto(msg, { baseDir, what });
  } catch (e) {
    // e.g. a RangeError from absurdly deep subgraph nesting: still a bad file, not a crash.
    if (e instanceof OnnxPtqError) throw e;
    throw new OnnxPtqError('INVALID_MODEL', `${what} could not be decoded: ${(e as Error).message}`);
  }
  if (opts.validate ?? true) model.graph.validate();
  return model;
}

export interface SaveOptions {
  /**
   * Store initializers of at least `threshold` bytes (default 1024) in one external file named
   * `location`, next to the model, instead of inside the protobuf (needed past protobuf's 2 GB limit).
   */
  externalData?: { location: string; threshold?: number };
}

/** Encodes a model to ONNX protobuf bytes (no external data). */
export function modelToBytes(model: Model): Uint8Array {
  const m = modelToProto(model);
  const err = ModelProto.verify(m);
  if (err) throw new OnnxPtqError('INTERNAL', `model does not encode: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

/**
 * Writes `model` to `path`, atomically: bytes go to a temporary name that is renamed over the target,
 * so a failure never leaves a half-written model.
 */
export function saveModel(model: Model, path: string, opts: SaveOptions = {}): void {
  const m = modelToProto(model);
  const dir = dirname(resolve(path));
  const files: { path: string; data: Uint8Array }[] = [];
  if (opts.externalData) {
    const loc = opts.externalData.location;
    check(
      !isAbsolute(loc) && !loc.split(/[\\/]/).includes('..'),
      'INVALID_OPTION',
      `external data location '${loc}' must be a relative path inside the model directory`,
    );
    const threshold = opts.externalData.threshold ?? 1024;
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const tp of m.graph.initializer as Msg[]) {
      const raw = tp.raw_data as Uint8Array | undefined;
      if (!raw || raw.length < threshold) continue;
      const pad = (4096 - (offset % 4096)) % 4096; // page-aligned offsets, as the ONNX spec recommends
      if (pad) chunks.push(new Uint8Array(pad));
      offset += pad;
      chunks.push(raw);
      tp.external_data = [
        { key: 'location', value: loc },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      tp.data_location = 1;
      delete tp.raw_data;
      offset += raw.length;
    }
    files.push({ path: join(dir, loc), data: Buffer.concat(chunks) });
  }
  const err = ModelProto.verify(m);
  if (err) throw new OnnxPtqError('INTERNAL', `model does not encode: ${err}`);
  // The model last: it refers to its external data, which must be in place first.
  files.push({ path, data: ModelProto.encode(ModelProto.fromObject(m)).finish() });
  try {
    writeFilesAtomic(files);
  } catch (e) {
    throw new OnnxPtqError('IO_ERROR', `cannot write model '${path}': ${(e as Error).message.replace(/^cannot write '[^']*': /, '')}`, {
      cause: e,
    });
  }
}

export { tensorBytes };

/** Reads a serialized TensorProto (.pb, as in ONNX test data sets) from a path or bytes. */
export function loadTensorProto(source: string | Uint8Array): { name: string; tensor: import('../tensor.js').Tensor } {
  let bytes: Uint8Array;
  const what = typeof source === 'string' ? `tensor file '${source}'` : 'tensor bytes';
  if (typeof source === 'string') {
    try {
      bytes = readFileSync(source);
    } catch (e) {
      throw new OnnxPtqError('IO_ERROR', `cannot read ${what}: ${(e as Error).message}`);
    }
  } else bytes = source;
  let msg: Msg;
  try {
    msg = TensorProto.decode(bytes) as Msg;
  } catch (e) {
    throw new OnnxPtqError('INVALID_MODEL', `${what} is not a valid TensorProto: ${(e as Error).message}`);
  }
  const baseDir = typeof source === 'string' ? dirname(resolve(source)) : undefined;
  return { name: msg.name ?? '', tensor: tensorFromProto(msg, { baseDir, what }) };
}

/** Serializes a tensor as a TensorProto (.pb). */
export function tensorProtoBytes(t: import('../tensor.js').Tensor, name = ''): Uint8Array {
  return TensorProto.encode(TensorProto.fromObject(tensorToProto(t, name))).finish();
}
