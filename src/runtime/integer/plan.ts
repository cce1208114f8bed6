// The run-time plan of an IntegerSession for one input-shape signature: where every intermediate
// tensor lives in one arena (TFLite's arena planner: lifetimes from the step order, offsets assigned
// greedily by size), so that a run allocates nothing but its outputs. The first run of a signature
// is the trace: it runs the steps with fresh arrays and records every tensor's size and lifetime;
// the plan made from it serves every later run of that signature.
import { OnnxPtqError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import type { ResidentArena } from '../../backends/types.js';
import type { NativeReplay } from './native-plan.js';

/** The element types an integer step writes. */
export type OutDtype = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'float32';
const CTOR = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  float32: Float32Array,
} as const;
type OutArray<D extends OutDtype> = InstanceType<(typeof CTOR)[D]>;

/** Offsets are multiples of this (cache lines; also every element size). */
export const ARENA_ALIGN = 64;

/**
 * The values of one run: the feeds and every step's outputs, with the constants behind them (read
 * through, not copied per run). A step asks `out()` for each output array: its place in the arena
 * when the signature has a plan, a fresh array otherwise (and the trace records it).
 */
export class RunValues extends Map<string, Tensor> {
  /** Arrays handed out by out() during a trace, by value name. */
  readonly handedOut = new Map<string, ArrayBufferView>();

  constructor(
    private readonly consts: ReadonlyMap<string, Tensor>,
    private readonly views?: ReadonlyMap<string, ArrayBufferView>,
    /** Memory for what a planned run allocates (its outputs): the backend's output pool, if any. */
    private readonly alloc?: (bytes: number) => ArrayBuffer | undefined,
  ) {
    super();
  }

  override get(name: string): Tensor | undefined {
    return super.get(name) ?? this.consts.get(name);
  }

  override has(name: string): boolean {
    return super.has(name) || this.consts.has(name);
  }

  /** The array step output `name` (n elements of `dtype`) is written to. */
  out<D extends OutDtype>(name: string, dtype: D, n: number): OutArray<D> {
    const Ctor = CTOR[dtype];
    const v = this.views?.get(name);
    if (v instanceof Ctor && v.length === n) return v as OutArray<D>;
    const ab = this.views && this.alloc?.(n * Ctor.BYTES_PER_ELEMENT);
    if (ab) return new Ctor(ab, 0, n) as OutArray<D>;
    const a = new Ctor(n) as OutArray<D>;
    if (!this.views) this.handedOut.set(name, a);
    return a;
  }

  /** 8-bit output: int8 when `signed`, else uint8. */
  out8(name: string, signed: boolean, n: number): Int8Array | Uint8Array {
    return signed ? this.out(name, 'int8', n) : this.out(name, 'uint8', n);
  }

  /** The output array of a quantized type (8 or 16 bits). */
  outQ(name: string, q: { signed: boolean; bits?: 16 }, n: number): Int8Array | Uint8Array | Int16Array | Uint16Array {
    if (q.bits === 16) return q.signed ? this.out(name, 'int16', n) : this.out(name, 'uint16', n);
    return this.out8(name, q.signed, n);
  }
}

/** One tensor's place in the arena. */
export interface ArenaTensor {
  name: string;
  dtype: OutDtype;
  length: number;
  bytes: number;
  offset: number;
  /** First and last step (inclusive) during which the bytes must hold the tensor. */
  first: number;
  last: number;
  /** Values that are views of this tensor's bytes (a data-movement step that returned its input). */
  aliases: string[];
}

export interface ArenaRequest {
  name: string;
  bytes: number;
  first: number;
  last: number;
}

/**
 * Offsets for tensors with known lifetimes, TFLite's greedy-by-size plan: largest first, each at
 * the lowest aligned offset where it overlaps no already placed tensor whose lifetime intersects
 * its own. Returns the offsets (same order as `reqs`) and the arena size.
 */
export function planOffsets(reqs: readonly ArenaRequest[], align = ARENA_ALIGN): { offsets: number[]; size: number } {
  const order = reqs.map((_, i) => i).sort((a, b) => reqs[b]!.bytes - reqs[a]!.bytes || reqs[a]!.first - reqs[b]!.first || a - b);
  const offsets = new Array<number>(reqs.length).fill(0);
  const placed: number[] = [];
  let size = 0;
  for (const i of order) {
    const r = reqs[i]!;
    const live = placed.filter((j) => reqs[j]!.first <= r.last && r.first <= reqs[j]!.last).sort((a, b) => offsets[a]! - offsets[b]!);
    let at = 0;
    for (const j of live) {
      if (at + r.bytes <= offsets[j]!) break;
      at = Math.max(at, roundUp(offsets[j]! + reqs[j]!.bytes, align));
    }
    offsets[i] = at;
    placed.push(i);
    size = Math.max(size, at + r.bytes);
  }
  return { offsets, size: roundUp(size, align) };
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Throws when two tensors that are live at the same step share a byte (the planner's invariant). */
export function checkArena(tensors: readonly ArenaTensor[]): void {
  for (let i = 0; i < tensors.length; i++)
    for (let j = i + 1; j < tensors.length; j++) {
      const a = tensors[i]!,
        b = tensors[j]!;
      const timeOverlap = a.first <= b.last && b.first <= a.last;
      const memOverlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
      if (timeOverlap && memOverlap && a.bytes > 0 && b.bytes > 0)
        throw new OnnxPtqError(
          'INTERNAL',
          `arena: '${a.name}' [${a.offset}, +${a.bytes}) steps ${a.first}-${a.last} overlaps '${b.name}' [${b.offset}, +${b.bytes}) steps ${b.first}-${b.last}`,
        );
    }
}

/**
 * The plan of one input-shape signature: the arena and a view per planned tensor. The arena is an
 * ArrayBuffer of its own, or lies in the backend's memory (`resident`: the wasm backend's linear
 * memory, where kernels use the tensors in place instead of copying them in and out per call).
 */
export class Plan {
  readonly views = new Map<string, ArrayBufferView>();
  /** Native backend: the recorded kernel calls (undefined: not recorded yet; null: not replayable). */
  replay?: NativeReplay | null;
  private buffer: ArrayBuffer;
  private readonly base: number;

  constructor(
    readonly signature: string,
    readonly tensors: readonly ArenaTensor[],
    readonly arenaBytes: number,
    readonly resident?: ResidentArena,
  ) {
    this.buffer = resident ? resident.buffer() : new ArrayBuffer(arenaBytes);
    this.base = resident ? resident.offset : 0;
    this.makeViews();
  }

  private makeViews(): void {
    for (const t of this.tensors) this.views.set(t.name, new CTOR[t.dtype](this.buffer, this.base + t.offset, t.length));
  }

  /** Before a run: room for the backend's scratch, and views on the memory as it is now. */
  prepare(): void {
    if (!this.resident) return;
    this.resident.beforeRun();
    if (this.resident.buffer() !== this.buffer) {
      this.buffer = this.resident.buffer();
      this.makeViews();
    }
  }

  /** Whether the backend's memory moved since prepare() (views handed out since are detached). */
  get moved(): boolean {
    return this.resident !== undefined && this.resident.buffer() !== this.buffer;
  }

  /** Whether `a` is a view on this plan's memory (an output there must be copied out). */
  holds(a: ArrayBufferView): boolean {
    return a.buffer === this.buffer;
  }

  release(): void {
    this.resident?.release();
    this.replay?.release();
    this.replay = null;
  }

  /** Bytes a run would hold at its peak without sharing: the sum of the planned tensors. */
  get unsharedBytes(): number {
    return this.tensors.reduce((s, t) => s + t.bytes, 0);
  }
}

interface StepIO {
  inputs: readonly string[];
  outputs: readonly string[];
}

/**
 * Records one traced run, step by step, and turns it into a Plan. Only arrays a step obtained from
 * `RunValues.out()` are planned (float steps allocate their own outputs); a step output that shares
 * a planned tensor's buffer is an alias and extends that tensor's lifetime. Tensors that are (or
 * alias) graph outputs stay out of the arena: they are handed to the caller.
 */
export class Tracer {
  private readonly owner = new Map<ArrayBufferLike, string>();
  private readonly info = new Map<
    string,
    { dtype: OutDtype; length: number; bytes: number; first: number; last: number; aliases: string[] }
  >();
  private readonly rootOf = new Map<string, string>();

  constructor(
    private readonly steps: readonly StepIO[],
    private readonly graphOutputs: ReadonlySet<string>,
  ) {}

  /** Call after step `i` ran. */
  after(i: number, values: RunValues): void {
    const s = this.steps[i]!;
    for (const o of s.outputs) {
      if (!o) continue;
      const t = values.get(o);
      if (!t) continue;
      const data = t.data as ArrayBufferView;
      if (values.handedOut.get(o) === data && data.byteLength > 0) {
        const dtype = dtypeOfArray(data);
        if (!dtype) continue;
        this.info.set(o, { dtype, length: (data as Int8Array).length, bytes: data.byteLength, first: i, last: i, aliases: [] });
        this.owner.set(data.buffer, o);
        this.rootOf.set(o, o);
      } else if (ArrayBuffer.isView(data)) {
        const root = this.owner.get(data.buffer);
        if (root) {
          this.rootOf.set(o, root);
          this.info.get(root)!.aliases.push(o);
        }
      }
    }
    for (const x of s.inputs) {
      const root = x ? this.rootOf.get(x) : undefined;
      if (root) this.info.get(root)!.last = Math.max(this.info.get(root)!.last, i);
    }
  }

  plan(signature: string, limitBytes = Infinity, resident?: (bytes: number) => ResidentArena): Plan {
    const reqs: (ArenaRequest & { dtype: OutDtype; length: number; aliases: string[] })[] = [];
    for (const [name, r] of this.info) {
      if (this.graphOutputs.has(name) || r.aliases.some((a) => this.graphOutputs.has(a))) continue;
      reqs.push({ name, ...r });
    }
    const { offsets, size } = planOffsets(reqs);
    if (size > limitBytes)
      throw new OnnxPtqError(
        'INVALID_OPTION',
        `inputs ${signature} need an arena of ${size} bytes, more than arenaLimitBytes = ${limitBytes}`,
      );
    const tensors: ArenaTensor[] = reqs.map((r, i) => ({
      name: r.name,
      dtype: r.dtype,
      length: r.length,
      bytes: r.bytes,
      offset: offsets[i]!,
      first: r.first,
      last: r.last,
      aliases: r.aliases,
    }));
    return new Plan(signature, tensors, size, size > 0 ? resident?.(size) : undefined);
  }
}

function dtypeOfArray(a: ArrayBufferView): OutDtype | undefined {
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Float32Array) return 'float32';
  return undefined;
}
