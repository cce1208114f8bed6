/**
 * What both sessions (float and integer) do with their inputs and each float step: check feeds
 * against the declared inputs (names, dtypes, ranks, dims, symbolic dims bound consistently) and
 * run one op implementation over a map of values.
 */
import { OnnxPtqError, check } from '../errors.js';
import { nodeLabel, type Node, type ValueInfo } from '../ir/graph.js';
import type { OpContext, OpImpl } from '../ops/index.js';
import { Tensor, dtypeOfData, sizeOf, type TensorData } from '../tensor.js';
import { firstNonFinite } from '../util/finite.js';

/**
 * A feed: a Tensor, a typed array (dims taken from the model's static input shape), or
 * {data, dims, type?} (an onnxruntime Tensor fits: `type` is used when given, e.g. 'bool' over a Uint8Array).
 */
export type Feed = Tensor | TensorData | { data: TensorData; dims: readonly number[]; type?: string };

const FEED_TYPES = new Set([
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
]);

export function describeValue(v: ValueInfo): string {
  return `${v.dtype ?? '?'}[${(v.shape ?? []).map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

function toTensor(f: Feed, v: ValueInfo): Tensor {
  try {
    if (f instanceof Tensor) return f;
    if (ArrayBuffer.isView(f) || Array.isArray(f)) {
      const data = f as TensorData;
      const shape = v.shape;
      check(
        shape?.every((d) => typeof d === 'number') && sizeOf(shape as number[]) === data.length,
        'INVALID_INPUT',
        () =>
          `input '${v.name}' was given as a bare array of ${data.length} elements; pass a Tensor with dims (declared ${describeValue(v)})`,
      );
      return new Tensor(dtypeOfData(data), data, shape as number[]);
    }
    if (typeof f === 'object' && 'data' in f && 'dims' in f) {
      const type = (f as { type?: unknown }).type;
      if (type === undefined) return new Tensor(dtypeOfData(f.data), f.data, f.dims);
      check(
        typeof type === 'string' && FEED_TYPES.has(type),
        'INVALID_INPUT',
        () => `input '${v.name}' has type '${String(type)}', which onnx-ptq does not support (${[...FEED_TYPES].join(', ')})`,
      );
      const held = dtypeOfData(f.data);
      const fits = held === type || (type === 'bool' && held === 'uint8') || (type === 'float16' && held === 'uint16');
      check(fits, 'INVALID_INPUT', () => `input '${v.name}' says type '${type}' but holds a ${held} array`);
      return new Tensor(type as Tensor['dtype'], f.data, f.dims);
    }
  } catch (e) {
    if (e instanceof OnnxPtqError && e.code !== 'INVALID_INPUT') throw new OnnxPtqError('INVALID_INPUT', `input '${v.name}': ${e.message}`);
    throw e;
  }
  throw new OnnxPtqError('INVALID_INPUT', `input '${v.name}' must be a Tensor, a typed array or {data, dims}`);
}

/**
 * Feeds as tensors, in input order, after checking them against the declared inputs. A float feed
 * holding NaN or an infinity is refused unless `allowNonFinite`: it ran to garbage outputs silently.
 */
export function checkFeeds(
  inputs: readonly ValueInfo[],
  feeds: Record<string, Feed>,
  opts: { allowNonFinite?: boolean } = {},
): Map<string, Tensor> {
  check(feeds !== null && typeof feeds === 'object', 'INVALID_INPUT', 'feeds must be an object mapping input names to tensors');
  const names = inputs.map((v) => v.name);
  for (const k of Object.keys(feeds))
    check(names.includes(k), 'INVALID_INPUT', () => `unknown input '${k}'; the model's inputs are: ${names.join(', ')}`);
  const out = new Map<string, Tensor>();
  const symbols = new Map<string, number>();
  for (const v of inputs) {
    const f = feeds[v.name];
    check(f !== undefined && f !== null, 'INVALID_INPUT', () => `missing input '${v.name}' (${describeValue(v)})`);
    const t = toTensor(f, v);
    if (v.dtype) check(t.dtype === v.dtype, 'INVALID_INPUT', () => `input '${v.name}' must be ${v.dtype}, got ${t.dtype}`);
    if (v.shape) {
      check(
        t.rank === v.shape.length,
        'INVALID_INPUT',
        () => `input '${v.name}' must have rank ${v.shape!.length} (${describeValue(v)}), got dims [${t.dims.join(', ')}]`,
      );
      v.shape.forEach((d, i) => {
        const got = t.dims[i]!;
        if (typeof d === 'number')
          check(
            d === got,
            'INVALID_INPUT',
            () => `input '${v.name}' must have dims ${describeValue(v)}, got [${t.dims.join(', ')}] (axis ${i})`,
          );
        else if (typeof d === 'string') {
          const prev = symbols.get(d);
          check(
            prev === undefined || prev === got,
            'INVALID_INPUT',
            () => `input '${v.name}' binds dimension '${d}' to ${got}, but another input bound it to ${prev}`,
          );
          symbols.set(d, got);
        }
      });
    }
    if (!opts.allowNonFinite) {
      const i = firstNonFinite(t.data);
      check(
        i < 0,
        'INVALID_INPUT',
        () =>
          `input '${v.name}' has a non-finite value (${String((t.data as Float32Array)[i])} at index ${i}); pass allowNonFinite to accept it`,
      );
    }
    out.set(v.name, t);
  }
  return out;
}

/** Runs one op over `values`, storing its outputs there; failures name the node. */
export function runNode(impl: OpImpl, ctx: OpContext, node: Node, values: Map<string, Tensor>): void {
  const ins = node.inputs.map((i) => {
    if (!i) return undefined;
    const t = values.get(i);
    if (!t) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)}: input '${i}' has no value`);
    return t;
  });
  let outs: Tensor[];
  try {
    outs = impl.run(ctx, ins);
  } catch (e) {
    if (e instanceof OnnxPtqError) throw e;
    throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)} failed: ${(e as Error).message}`, { cause: e });
  }
  node.outputs.forEach((o, k) => {
    if (!o) return;
    const t = outs[k];
    if (!t) throw new OnnxPtqError('INTERNAL', `${nodeLabel(node)} produced no output #${k} ('${o}')`);
    values.set(o, t);
  });
}
