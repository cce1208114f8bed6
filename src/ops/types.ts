import { OnnxPtqError } from '../errors.js';
import { nodeLabel, type Dim, type Node } from '../ir/graph.js';
import type { F32Kernels } from '../backends/kernels-f32.js';
import type { DataType, Tensor } from '../tensor.js';

/** What shape inference knows about a value. */
export interface TypeInfo {
  dtype?: DataType;
  shape?: Dim[];
}

/** Typed access to a node's attributes with the spec's defaults. */
export class Attrs {
  constructor(readonly node: Node) {}
  has(name: string): boolean {
    return this.node.attributes.has(name);
  }
  int(name: string, def: number): number;
  int(name: string): number | undefined;
  int(name: string, def?: number): number | undefined {
    const a = this.node.attributes.get(name);
    if (!a) return def;
    if (a.type !== 'int') throw this.bad(name, 'an int');
    return a.value;
  }
  float(name: string, def: number): number;
  float(name: string): number | undefined;
  float(name: string, def?: number): number | undefined {
    const a = this.node.attributes.get(name);
    if (!a) return def;
    if (a.type === 'float' || a.type === 'int') return a.value;
    throw this.bad(name, 'a float');
  }
  string(name: string, def: string): string;
  string(name: string): string | undefined;
  string(name: string, def?: string): string | undefined {
    const a = this.node.attributes.get(name);
    if (!a) return def;
    if (a.type !== 'string') throw this.bad(name, 'a string');
    return a.value;
  }
  ints(name: string, def: number[]): number[];
  ints(name: string): number[] | undefined;
  ints(name: string, def?: number[]): number[] | undefined {
    const a = this.node.attributes.get(name);
    if (!a) return def;
    if (a.type !== 'ints') throw this.bad(name, 'a list of ints');
    return a.value;
  }
  floats(name: string, def: number[]): number[];
  floats(name: string): number[] | undefined;
  floats(name: string, def?: number[]): number[] | undefined {
    const a = this.node.attributes.get(name);
    if (!a) return def;
    if (a.type !== 'floats') throw this.bad(name, 'a list of floats');
    return a.value;
  }
  tensor(name: string): Tensor | undefined {
    const a = this.node.attributes.get(name);
    if (!a) return undefined;
    if (a.type !== 'tensor') throw this.bad(name, 'a tensor');
    return a.value;
  }
  private bad(name: string, what: string): OnnxPtqError {
    return new OnnxPtqError('INVALID_MODEL', `${nodeLabel(this.node)}: attribute '${name}' must be ${what}`);
  }
}

export interface OpContext {
  node: Node;
  attrs: Attrs;
  /** Opset version of the node's domain in this model. */
  opset: number;
  /**
   * Float32 kernels of the session's backend (native, wasm or js). Absent (constant folding, shape
   * inference) means the pure-JS kernels of src/kernels/f32/.
   */
  f32?: F32Kernels;
}

export interface InferContext extends OpContext {
  /** Input types; undefined for an omitted optional input. */
  inputs: (TypeInfo | undefined)[];
  /** Input values when they are constants (initializers or folded), else undefined. */
  values: (Tensor | undefined)[];
}

export interface OpImpl {
  /** Output types from input types (and constant inputs). Missing = outputs unknown. */
  inferShape?(ctx: InferContext): TypeInfo[];
  /** Float (and index) semantics: computes the outputs. Omitted optional inputs are undefined. */
  run(ctx: OpContext, inputs: (Tensor | undefined)[]): Tensor[];
  /** False for ops that must not be constant-folded (none so far; random ops would be). */
  foldable?: boolean;
  /**
   * True when run(), given float32 inputs and the session's float kernels, writes every element of
   * its outputs through those kernels and nothing else: no element computed in JS from an input,
   * every output array freshly allocated (allocData) and not asked zeroed. The float session then
   * records its kernel calls once and replays them (src/runtime/float-replay.ts); a run that takes
   * a JS path instead makes no kernel call, which the recording sees and keeps as a JS step.
   */
  replayable?: boolean;
}

/** Throws SHAPE_MISMATCH naming the node. */
export function fail(ctx: OpContext, message: string): never {
  throw new OnnxPtqError('SHAPE_MISMATCH', `${nodeLabel(ctx.node)}: ${message}`);
}
export function unsupported(ctx: OpContext, message: string): never {
  throw new OnnxPtqError('UNSUPPORTED_OP', `${nodeLabel(ctx.node)}: ${message}`);
}
export function need(ctx: OpContext, cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) fail(ctx, typeof message === 'function' ? message() : message);
}
